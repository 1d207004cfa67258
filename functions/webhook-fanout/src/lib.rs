//! The `webhook-fanout` function. An EventBridge rule sends every platform event to its queue; for each event it
//! creates one delivery per endpoint that wants the event and enqueues that delivery's first attempt.
//!
//! Partial batch failures: an event that could not be fanned out (storage or queue unavailable) is reported, stays
//! on the queue and comes back; fanning out is idempotent, so the events that did go through are not repeated.

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use hw_domain::event::Envelope;
use hw_webhooks::fanout::FanOut;

pub const FUNCTION: &str = "webhook-fanout";

pub struct Deps {
    pub fanout: FanOut,
}

impl Deps {
    pub fn from_aws(config: &hw_resources::Config, sdk: &aws_config::SdkConfig) -> Self {
        Self {
            fanout: FanOut {
                store: Arc::new(hw_webhooks::dynamo::DynamoWebhookStore::for_config(
                    hw_aws::dynamo_client(sdk),
                    config,
                )),
                queue: Arc::new(hw_webhooks::queue::SqsJobQueue::for_config(aws_sdk_sqs::Client::new(sdk), config)),
            },
        }
    }
}

/// The platform event inside an SQS message from the rule: EventBridge wraps it, our envelope is its `detail`.
fn envelope(m: &SqsMessage) -> Result<Envelope, String> {
    let body = m.body.as_deref().ok_or("the message has no body")?;
    let event: EventBridgeEvent<Envelope> =
        serde_json::from_str(body).map_err(|e| format!("not an EventBridge event with a platform envelope: {e}"))?;
    Ok(event.detail)
}

pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut failed = Vec::new();
    let mut events = Vec::new();
    for m in &event.records {
        let id = m.message_id.clone().unwrap_or_default();
        match envelope(m) {
            Ok(envelope) => events.push((id, envelope)),
            Err(reason) => {
                // Not ours to read: fail it so that it ends, visible, in the dead-letter queue.
                tracing::error!(function = FUNCTION, message_id = %id, %reason, "unreadable message");
                failed.push(id);
            }
        }
    }
    let envelopes: Vec<Envelope> = events.iter().map(|(_, e)| e.clone()).collect();
    let results = deps.fanout.fan_out_all(&envelopes).await;
    for ((id, envelope), result) in events.into_iter().zip(results) {
        match result {
            Ok(n) => tracing::info!(function = FUNCTION, tenant = %envelope.tenant, event = %envelope.id,
                event_type = %envelope.event_type, deliveries = n, "event fanned out"),
            Err(e) => {
                tracing::error!(function = FUNCTION, tenant = %envelope.tenant, event = %envelope.id, error = %e,
                    "fan-out failed; the event will come back");
                failed.push(id);
            }
        }
    }
    hw_aws::sqs_batch::failures(failed)
}

#[cfg(test)]
mod tests;
