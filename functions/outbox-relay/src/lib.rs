//! The `outbox-relay` function. Every record change writes its event to the outbox in the same transaction as the
//! change; the writer publishes it right away and clears it. What a writer could not publish (the bus was down,
//! the function timed out) waits in the outbox, and this function, triggered every minute by a schedule through
//! SQS, publishes it. Consumers deduplicate by event id, so publishing twice is harmless; losing is not possible.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hw_aws::events::EventPublisher;
use hw_store::DataStore;
use hw_store::records::relay_outbox;
use serde::Deserialize;

pub const FUNCTION: &str = "outbox-relay";
/// Events younger than this are left to their writer, which is probably publishing them right now.
pub const DEFAULT_MIN_AGE_SECONDS: i64 = 30;
const BATCH: usize = 100;

pub struct Deps {
    pub data: Arc<dyn DataStore>,
    pub publisher: Arc<dyn EventPublisher>,
    pub min_age: chrono::Duration,
}

impl Deps {
    pub fn from_aws(config: &hw_resources::Config, sdk: &aws_config::SdkConfig) -> Self {
        let min_age = std::env::var("HUBBLE_OUTBOX_MIN_AGE_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MIN_AGE_SECONDS);
        Self {
            data: Arc::new(hw_store::dynamo::DynamoDataStore::new(hw_aws::dynamo_client(sdk), &config.data_table)),
            publisher: Arc::new(hw_aws::events::EventBridgePublisher::new(
                aws_sdk_eventbridge::Client::new(sdk),
                &config.event_bus,
                &config.event_source,
            )),
            min_age: chrono::Duration::seconds(min_age),
        }
    }
}

#[derive(Deserialize)]
struct Sweep {
    kind: String,
}

/// One sweep per batch, however many sweep requests it holds (they all ask for the same thing). A message that
/// is not a sweep request is reported as a failure so that it ends in the dead-letter queue, visible.
pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut failures = Vec::new();
    let mut sweeps = Vec::new();
    for m in event.records {
        let id = m.message_id.clone().unwrap_or_default();
        match m.body.as_deref().map(serde_json::from_str::<Sweep>) {
            Some(Ok(s)) if s.kind == "outbox.sweep" => sweeps.push(id),
            _ => {
                tracing::error!(message_id = %id, "not an outbox sweep request");
                failures.push(id);
            }
        }
    }
    if !sweeps.is_empty() {
        match relay_outbox(deps.data.as_ref(), deps.publisher.as_ref(), deps.min_age, BATCH).await {
            Ok(n) => tracing::info!(function = FUNCTION, published = n, "outbox swept"),
            Err(e) => {
                tracing::error!(function = FUNCTION, error = %e, "outbox sweep failed; the messages will be retried");
                failures.extend(sweeps);
            }
        }
    }
    hw_aws::sqs_batch::failures(failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hw_aws::events::RecordingPublisher;
    use hw_store::memory::MemoryDataStore;

    fn fixture(name: &str) -> SqsEvent {
        let path = format!("{}/../../events/outbox-relay/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_sweep_publishes_what_waits_in_the_outbox() {
        use hw_domain::event::Envelope;
        use hw_domain::record::Record;
        use hw_store::{RecordWrite, WriteKind};
        let data = Arc::new(MemoryDataStore::default());
        let publisher = Arc::new(RecordingPublisher::default());
        let record = Record {
            id: "r1".into(),
            entity: "company".into(),
            attributes: Default::default(),
            version: 1,
            created_at: "2026-01-01T00:00:00.000Z".into(),
            updated_at: "2026-01-01T00:00:00.000Z".into(),
            created_by: "t".into(),
            updated_by: "t".into(),
        };
        let mut event = Envelope::new("record.created", "acme", serde_json::json!({"id": "r1"}));
        event.time = "2026-01-01T00:00:00.000Z".into();
        data.write_record(RecordWrite {
            kind: WriteKind::Create,
            record: &record,
            claims: Default::default(),
            take_claims: vec![],
            release_claims: vec![],
            references: vec![],
            event: &event,
        })
        .await
        .unwrap();
        let deps = Deps { data: data.clone(), publisher: publisher.clone(), min_age: chrono::Duration::seconds(30) };
        let out = handle(&deps, fixture("sweep")).await;
        assert!(out.batch_item_failures.is_empty());
        assert_eq!(publisher.published.lock().unwrap().as_slice(), &[event]);
        // a duplicate delivery of the same message finds nothing left to do
        let out = handle(&deps, fixture("sweep")).await;
        assert!(out.batch_item_failures.is_empty());
        assert_eq!(publisher.published.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_publish_or_a_foreign_message_is_a_batch_item_failure() {
        let publisher = Arc::new(RecordingPublisher::default());
        let deps = Deps { data: Arc::new(MemoryDataStore::default()), publisher, min_age: chrono::Duration::zero() };
        let out = handle(&deps, fixture("not-a-sweep")).await;
        let ids: Vec<_> = out.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(ids, ["7b1e3c2a-9f04-4d8e-a7c1-2f6b5d9e0a11"]);
    }
}
