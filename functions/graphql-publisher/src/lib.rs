//! The `graphql-publisher` function. An EventBridge rule sends record events to its queue; each is delivered to
//! the GraphQL subscriptions that want it (`hw_graphql_ws::publish`), through the WebSocket API's Management API.
//!
//! Partial batch failures: an event whose subscriptions or credentials could not be read is reported and comes
//! back; one that reached its subscribers, or that nobody subscribes to, is done. A message that is not a platform
//! event fails, so that it ends visibly in the dead-letter queue.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hw_domain::event::Envelope;
use hw_graphql_ws::{Publisher, Realtime};

pub const FUNCTION: &str = "graphql-publisher";

pub struct Deps {
    pub publisher: Publisher,
}

impl Deps {
    pub fn new(realtime: &Realtime) -> Self {
        Self { publisher: realtime.publisher() }
    }

    pub fn from_aws(config: &hw_resources::Config, sdk: &aws_config::SdkConfig) -> Self {
        Self::new(&Realtime::from_aws(config, sdk))
    }
}

pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut failed = Vec::new();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let parsed = message
            .body
            .as_deref()
            .ok_or_else(|| "the message has no body".to_owned())
            .and_then(|b| serde_json::from_str::<EventBridgeEvent<Envelope>>(b).map_err(|e| e.to_string()));
        let envelope = match parsed {
            Ok(e) => e.detail,
            Err(reason) => {
                tracing::error!(function = FUNCTION, message_id = %id, %reason, "not a platform event");
                failed.push(id);
                continue;
            }
        };
        let (tenant, event_id) = (envelope.tenant.clone(), envelope.id.clone());
        match deps.publisher.publish(envelope, chrono::Utc::now().timestamp()).await {
            Ok(p) => tracing::info!(function = FUNCTION, %tenant, event = %event_id, subscriptions = p.subscriptions,
                delivered = p.delivered, closed = p.closed, "event published to subscriptions"),
            Err(e) => {
                tracing::error!(function = FUNCTION, %tenant, event = %event_id, error = %e, "event not published; it will come again");
                failed.push(id);
            }
        }
    }
    hw_aws::sqs_batch::failures(failed)
}

#[cfg(test)]
mod tests;
