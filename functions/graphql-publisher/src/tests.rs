//! The handler on a real-shaped SQS batch from the bus rule (`events/graphql-publisher/`), with in-memory adapters:
//! the record event reaches the subscription stored for it; a message that is not a platform event is reported.

use aws_lambda_events::event::sqs::SqsEvent;
use hw_graphql_ws::testing::MemoryBackend;
use serde_json::json;

use crate::{Deps, handle};

#[tokio::test]
async fn record_events_reach_their_subscriptions_and_foreign_messages_fail() {
    let m = MemoryBackend::new().await;
    let key = m.tenants.create_key("acme", hw_store::tenants::NewKey::named("r", vec!["data:read".into()])).await;
    let key = key.unwrap().secret;
    let (realtime, _, sender) = m.realtime();
    let sessions = realtime.sessions();
    let now = chrono::Utc::now().timestamp();
    sessions.connect("c", Some("graphql-transport-ws"), "http://localhost", now).await.unwrap();
    let init = json!({"type": "connection_init", "payload": {"apiKey": key}});
    sessions.message("c", &init.to_string(), now).await.unwrap();
    let sub =
        json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { companyCreated { id name } }"}});
    sessions.message("c", &sub.to_string(), now).await.unwrap();

    let deps = Deps::new(&realtime);
    let path = format!("{}/../../events/graphql-publisher/record-created.json", env!("CARGO_MANIFEST_DIR"));
    let event: SqsEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let response = handle(&deps, event).await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["3c1d0f7e-9a8b-4c6d-8e2f-0a1b2c3d4e5f"]);
    let next =
        json!({"type": "next", "id": "1", "payload": {"data": {"companyCreated": {"id": "co1", "name": "Hooli"}}}});
    assert_eq!(sender.to("c").last(), Some(&next));
}
