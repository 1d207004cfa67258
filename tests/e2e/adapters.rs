//! The shared AWS adapters against the emulator, past the service limits they must split around.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use hubble_e2e::BusTap;
use hw_aws::dynamo::{batch_get, batch_write};
use hw_aws::events::{EventBridgePublisher, EventPublisher};
use hw_domain::event::Envelope;

use crate::stack;

#[tokio::test]
async fn batch_helpers_split_into_service_limits_and_return_everything() {
    let s = stack().await;
    let table = s.config().data_table;
    let pk = format!("T#t-{}#E#scratch", ulid::Ulid::new().to_string().to_lowercase());
    let key = |i: usize| {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(pk.clone())),
            ("sk".to_owned(), AttributeValue::S(format!("R#{i:04}"))),
        ])
    };
    let puts: Vec<WriteRequest> = (0..260)
        .map(|i| {
            let mut item = key(i);
            item.insert("n".into(), AttributeValue::N(i.to_string()));
            WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().unwrap()).build()
        })
        .collect();
    batch_write(&s.dynamo(), &table, puts).await.unwrap(); // 11 calls of at most 25
    let keys: Vec<_> = (0..265).map(key).collect(); // 5 keys that do not exist
    let found = batch_get(&s.dynamo(), &table, keys).await.unwrap(); // 3 calls of at most 100
    assert_eq!(found.len(), 260);
    let mut ns: Vec<u32> = found.iter().map(|i| i["n"].as_n().unwrap().parse().unwrap()).collect();
    ns.sort();
    assert_eq!(ns, (0..260).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_publisher_sends_any_number_of_events_in_batches_of_ten() {
    let s = stack().await;
    let tenant = format!("t-{}", ulid::Ulid::new().to_string().to_lowercase());
    let tap = BusTap::new(&s, &tenant).await.unwrap();
    let config = s.config();
    let publisher =
        EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&s.sdk), config.event_bus, config.event_source);
    let events: Vec<Envelope> =
        (0..23).map(|i| Envelope::new("test.batched", &tenant, serde_json::json!({"n": i}))).collect();
    publisher.publish(&events).await.unwrap();
    let got = tap.collect(23, Duration::from_secs(20)).await;
    let mut ids: Vec<&str> = got.iter().map(|e| e["detail"]["id"].as_str().unwrap()).collect();
    ids.sort();
    let mut want: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    want.sort();
    assert_eq!(ids, want);
    tap.remove().await;
}

#[tokio::test]
async fn the_realtime_table_keeps_connections_and_subscriptions() {
    use hw_graphql_ws::ConnectionStore;
    use hw_graphql_ws::dynamo::DynamoConnections;
    use hw_graphql_ws::store::{Caller, Connection, MAX_SUBSCRIPTIONS_PER_CONNECTION, StoreError, StoredSubscription};

    let s = stack().await;
    let store = DynamoConnections::new(s.dynamo(), s.config().realtime_table);
    let run = ulid::Ulid::new().to_string().to_lowercase();
    let (conn, tenant) = (format!("c-{run}"), format!("t-{run}"));
    let caller =
        Caller { principal: hw_domain::principal::Principal::new(&tenant, "apikey:k", vec![]), expires_at: Some(9) };
    let sub = |id: &str, entity: &str| StoredSubscription {
        connection: conn.clone(),
        id: id.to_owned(),
        tenant: tenant.clone(),
        entity: entity.to_owned(),
        event_type: "record.created".into(),
        query: "subscription { companyCreated { name } }".into(),
        variables: Some(serde_json::json!({"x": 1})),
        operation_name: None,
        caller: caller.clone(),
        expires_at: 2_000_000_000,
    };

    assert_eq!(store.subscribe(&sub("early", "company")).await, Err(StoreError::NoConnection));
    assert_eq!(store.initialise(&conn, &caller).await, Err(StoreError::NoConnection));
    let opened = Connection { id: conn.clone(), connected_at: 1, request_base: "http://x".into(), caller: None };
    store.open(&opened).await.unwrap();
    store.initialise(&conn, &caller).await.unwrap();
    assert_eq!(store.initialise(&conn, &caller).await, Err(StoreError::Exists), "connection_init counts once");
    assert_eq!(store.connection(&conn).await.unwrap().unwrap().caller, Some(caller.clone()));

    store.subscribe(&sub("a", "contact")).await.unwrap();
    assert_eq!(store.subscribe(&sub("a", "contact")).await, Err(StoreError::Exists));
    for i in 1..MAX_SUBSCRIPTIONS_PER_CONNECTION {
        store.subscribe(&sub(&format!("s{i}"), "company")).await.unwrap();
    }
    assert_eq!(store.subscribe(&sub("over", "company")).await, Err(StoreError::Full));
    store.unsubscribe(&conn, "s1").await.unwrap();
    store.unsubscribe(&conn, "s1").await.unwrap(); // twice is fine, and counts off once
    store.subscribe(&sub("after", "company")).await.unwrap();
    assert_eq!(store.subscribe(&sub("over", "company")).await, Err(StoreError::Full));

    // the topic index: a tenant's subscriptions on an entity, whole (eventually consistent)
    let mut found = Vec::new();
    for _ in 0..50 {
        found = store.subscribers(&tenant, "contact").await.unwrap();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found, [sub("a", "contact")]);
    assert_eq!(store.subscribers(&tenant, "company").await.unwrap().len(), MAX_SUBSCRIPTIONS_PER_CONNECTION - 1);

    store.close(&conn).await.unwrap();
    assert!(store.connection(&conn).await.unwrap().is_none());
    assert!(store.subscribers(&tenant, "company").await.unwrap().is_empty());
}
