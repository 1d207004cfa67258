//! Publishing envelopes to the EventBridge bus: batches of at most ten entries (PutEvents' limit), a few calls in
//! flight at once, failed entries retried with backoff.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use futures::stream::{self, StreamExt};
use hw_domain::event::Envelope;

const MAX_ENTRIES_PER_CALL: usize = 10;
const MAX_ATTEMPTS: u32 = 5;
/// PutEvents calls in flight at once for one `publish`.
const CONCURRENT_CALLS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("event bus rejected {failed} of {total} events: {reason}")]
    Rejected { failed: usize, total: usize, reason: String },
    #[error("event bus call failed: {0}")]
    Call(String),
}

/// Port for publishing events; the EventBridge adapter is the production one.
#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, events: &[Envelope]) -> Result<(), PublishError>;
}

pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
    source: String,
}

impl EventBridgePublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>, source: impl Into<String>) -> Self {
        Self { client, bus: bus.into(), source: source.into() }
    }

    fn entry(&self, e: &Envelope) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(&self.source)
            .detail_type(&e.event_type)
            .detail(serde_json::to_string(e).expect("envelope serialises"))
            .resources(format!("hubblewave:tenant/{}", e.tenant))
            .build()
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    /// Sends the batches of ten a few at a time: a bulk writer (an import flushes 250 events at once) would otherwise
    /// wait for 25 calls one after the other. Every batch is tried; the answer is the first batch's failure, if any.
    async fn publish(&self, events: &[Envelope]) -> Result<(), PublishError> {
        let calls: Vec<_> =
            events.chunks(MAX_ENTRIES_PER_CALL).map(|chunk| self.publish_batch(chunk, events.len())).collect();
        let results: Vec<Result<(), PublishError>> = stream::iter(calls).buffered(CONCURRENT_CALLS).collect().await;
        results.into_iter().collect()
    }
}

impl EventBridgePublisher {
    /// One PutEvents call of at most ten entries, its failed entries retried with backoff.
    async fn publish_batch(&self, chunk: &[Envelope], total: usize) -> Result<(), PublishError> {
        let mut pending: Vec<PutEventsRequestEntry> = chunk.iter().map(|e| self.entry(e)).collect();
        let mut attempt = 0;
        loop {
            let result = self.client.put_events().set_entries(Some(pending.clone())).send().await;
            let out = match result {
                Ok(out) => out,
                Err(err) if attempt + 1 < MAX_ATTEMPTS => {
                    tracing::warn!(error = %aws_sdk_eventbridge::error::DisplayErrorContext(&err), attempt, "PutEvents failed; retrying");
                    attempt += 1;
                    tokio::time::sleep(crate::backoff(attempt)).await;
                    continue;
                }
                Err(err) => {
                    return Err(PublishError::Call(aws_sdk_eventbridge::error::DisplayErrorContext(&err).to_string()));
                }
            };
            if out.failed_entry_count() == 0 {
                return Ok(());
            }
            // Results are positional: keep the entries whose result carries an error code.
            let results = out.entries();
            let reason = results.iter().find_map(|r| r.error_message()).unwrap_or("unknown").to_owned();
            pending = pending
                .into_iter()
                .zip(results.iter())
                .filter(|(_, r)| r.error_code().is_some())
                .map(|(e, _)| e)
                .collect();
            attempt += 1;
            if attempt >= MAX_ATTEMPTS {
                return Err(PublishError::Rejected { failed: pending.len(), total, reason });
            }
            tracing::warn!(failed = pending.len(), attempt, %reason, "some events were not accepted; retrying");
            tokio::time::sleep(crate::backoff(attempt)).await;
        }
    }
}

/// An in-memory publisher for tests: remembers what was published and can be told to fail.
#[derive(Default)]
pub struct RecordingPublisher {
    pub published: std::sync::Mutex<Vec<Envelope>>,
    pub fail: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, events: &[Envelope]) -> Result<(), PublishError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(PublishError::Call("bus unavailable (test)".into()));
        }
        self.published.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}
