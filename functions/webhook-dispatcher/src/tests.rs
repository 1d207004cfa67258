//! The handler on real-shaped SQS events. The dispatch step itself is tested in `hw_webhooks::dispatch`.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use hw_aws::events::RecordingPublisher;
use hw_aws::kms::StaticKeyring;
use hw_store::memory::MemoryControlStore;
use hw_webhooks::delivery::{DeliveryStatus, Job};
use hw_webhooks::memory::{MemoryJobQueue, MemoryWebhookStore};
use hw_webhooks::ports::WebhookStore;

use super::*;

fn fixture(name: &str) -> SqsEvent {
    let path = format!("{}/../../events/webhook-dispatcher/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn deps() -> (Deps, Arc<MemoryWebhookStore>) {
    let store = Arc::new(MemoryWebhookStore::default());
    let cipher = FieldCipher::new(Arc::new(MemoryControlStore::default()), Arc::new(StaticKeyring::new([3u8; 32])));
    let deps = Deps {
        dispatcher: Dispatcher {
            store: store.clone(),
            queue: Arc::new(MemoryJobQueue::default()),
            transport: Arc::new(Sender::new(TargetPolicy { allow_private: false })),
            cipher: Arc::new(cipher),
            publisher: Arc::new(RecordingPublisher::default()),
        },
    };
    (deps, store)
}

#[tokio::test]
async fn a_job_for_a_deleted_endpoint_ends_its_delivery_without_a_request() {
    let (deps, store) = deps();
    let job: Job = serde_json::from_str(fixture("first-attempt").records[0].body.as_deref().unwrap()).unwrap();
    let event = hw_domain::event::Envelope {
        id: "evt_01KBX3M9Q7T4S2V8W6Y0Z1A2B3".into(),
        event_type: "record.created".into(),
        tenant: "acme".into(),
        time: "2026-11-25T10:00:00.000Z".into(),
        data: serde_json::json!({}),
    };
    let mut delivery = hw_webhooks::dispatch::new_delivery(
        &test_endpoint(&job.endpoint_id),
        &event,
        "{}".into(),
        "2026-11-25T10:00:00.000Z",
        false,
    );
    delivery.id = job.delivery_id.clone();
    store.create_delivery(&delivery).await.unwrap();

    let out = handle(&deps, fixture("first-attempt")).await;
    assert!(out.batch_item_failures.is_empty());
    let d = store.get_delivery("acme", &job.endpoint_id, &job.delivery_id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.last_error.as_deref(), Some("the endpoint was deleted"));
}

#[tokio::test]
async fn a_message_that_is_not_a_job_is_a_batch_item_failure() {
    let (deps, _) = deps();
    let out = handle(&deps, fixture("with-garbage")).await;
    let failed: Vec<&str> = out.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2918"]);
}

fn test_endpoint(id: &str) -> hw_webhooks::endpoint::Endpoint {
    hw_webhooks::endpoint::Endpoint::new("acme", id, "https://receiver.example/hook", vec!["*".into()], "")
}
