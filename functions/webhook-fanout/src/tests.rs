//! The handler on real-shaped SQS events (from the EventBridge rule) with in-memory adapters.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use hw_webhooks::endpoint::Endpoint;
use hw_webhooks::memory::{MemoryJobQueue, MemoryWebhookStore};
use hw_webhooks::ports::WebhookStore;

use super::*;

fn fixture(name: &str) -> SqsEvent {
    let path = format!("{}/../../events/webhook-fanout/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn endpoint(id: &str, event_types: &[&str], entities: &[&str]) -> Endpoint {
    let types = event_types.iter().map(|s| s.to_string()).collect();
    let mut e = Endpoint::new("acme", id, "https://receiver.example/hook", types, "2026-11-25T09:00:00.000Z");
    e.entities = entities.iter().map(|s| s.to_string()).collect();
    e
}

async fn deps(endpoints: &[Endpoint]) -> (Deps, Arc<MemoryWebhookStore>, Arc<MemoryJobQueue>) {
    let store = Arc::new(MemoryWebhookStore::default());
    for e in endpoints {
        store.create_endpoint(e).await.unwrap();
    }
    let queue = Arc::new(MemoryJobQueue::default());
    (Deps { fanout: FanOut { store: store.clone(), queue: queue.clone() } }, store, queue)
}

#[tokio::test]
async fn one_delivery_per_endpoint_that_wants_the_event() {
    let wanted = endpoint("ep_a", &["record.*"], &[]);
    let by_entity = endpoint("ep_b", &["record.created"], &["contact"]);
    let other_entity = endpoint("ep_c", &["record.created"], &["company"]);
    let other_type = endpoint("ep_d", &["model.*"], &[]);
    let mut disabled = endpoint("ep_e", &["*"], &[]);
    disabled.enabled = false;
    let (deps, store, queue) = deps(&[wanted, by_entity, other_entity, other_type, disabled]).await;

    let out = handle(&deps, fixture("record-created")).await;
    assert!(out.batch_item_failures.is_empty());
    let mut jobs: Vec<String> = queue.drain().into_iter().map(|(j, _)| j.endpoint_id).collect();
    jobs.sort();
    assert_eq!(jobs, ["ep_a", "ep_b"]);
    let d = store.get_delivery("acme", "ep_a", "msg_01KBX3M9Q7T4S2V8W6Y0Z1A2B3").await.unwrap().unwrap();
    assert_eq!((d.event_type.as_str(), d.attempts, d.next_attempt()), ("record.created", 0, 1));
    let body: serde_json::Value = serde_json::from_str(&d.payload).unwrap();
    assert_eq!(body["data"]["record"]["attributes"]["name"], "Ada");
    assert_eq!(body["id"], "evt_01KBX3M9Q7T4S2V8W6Y0Z1A2B3");
}

#[tokio::test]
async fn a_repeated_event_creates_no_second_delivery() {
    let (deps, store, queue) = deps(&[endpoint("ep_a", &["record.*"], &[])]).await;
    handle(&deps, fixture("record-created")).await;
    handle(&deps, fixture("record-created")).await;
    let page = store
        .list_deliveries("acme", "ep_a", &hw_webhooks::ports::DeliveryQuery { limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    // Its first attempt was never made, so its job is enqueued again; the attempt claim keeps it to one send.
    let jobs = queue.drain();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].0, jobs[1].0);
}

#[tokio::test]
async fn a_message_that_is_not_an_event_is_a_batch_item_failure() {
    let (deps, _, queue) = deps(&[endpoint("ep_a", &["record.*"], &[])]).await;
    let out = handle(&deps, fixture("with-foreign-message")).await;
    let failed: Vec<&str> = out.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"]);
    assert_eq!(queue.drain().len(), 1, "the good message in the batch went through");
}
