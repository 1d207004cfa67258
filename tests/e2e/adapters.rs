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
