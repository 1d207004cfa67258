//! The `webhook-dispatcher` function: each message is one attempt of one delivery (a `Job`). The attempts of a
//! batch run concurrently; each is claimed, signed, sent, recorded, and followed by its retry job or its dead
//! letter (see `hw_webhooks::dispatch`).
//!
//! Partial batch failures: a job that could not be carried out (storage, queue or bus unavailable) is reported and
//! comes back after the visibility timeout; the attempt claim keeps a repeated job from sending twice.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hw_aws::kms::KmsKeyring;
use hw_store::cipher::FieldCipher;
use hw_webhooks::delivery::Job;
use hw_webhooks::dispatch::Dispatcher;
use hw_webhooks::sender::Sender;
use hw_webhooks::target::TargetPolicy;

pub const FUNCTION: &str = "webhook-dispatcher";

pub struct Deps {
    pub dispatcher: Dispatcher,
}

impl Deps {
    pub fn from_aws(config: &hw_resources::Config, sdk: &aws_config::SdkConfig) -> Self {
        let dynamo = hw_aws::dynamo_client(sdk);
        let keyring =
            Arc::new(KmsKeyring::new(aws_sdk_kms::Client::new(sdk), config.data_key_id.clone().unwrap_or_default()));
        let control = Arc::new(hw_store::dynamo::DynamoControlStore::new(dynamo.clone(), &config.control_table));
        Self {
            dispatcher: Dispatcher {
                store: Arc::new(hw_webhooks::dynamo::DynamoWebhookStore::for_config(dynamo, config)),
                queue: Arc::new(hw_webhooks::queue::SqsJobQueue::for_config(aws_sdk_sqs::Client::new(sdk), config)),
                transport: Arc::new(Sender::new(TargetPolicy::for_local_mode(config.local_mode))),
                cipher: Arc::new(FieldCipher::new(control, keyring)),
                publisher: Arc::new(hw_aws::events::EventBridgePublisher::new(
                    aws_sdk_eventbridge::Client::new(sdk),
                    &config.event_bus,
                    &config.event_source,
                )),
            },
        }
    }
}

pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let results = futures::future::join_all(event.records.iter().map(|m| async move {
        let id = m.message_id.clone().unwrap_or_default();
        let job: Job = match m.body.as_deref().map(serde_json::from_str) {
            Some(Ok(job)) => job,
            _ => {
                // Not a job: fail it so that it ends, visible, in the dead-letter queue.
                tracing::error!(function = FUNCTION, message_id = %id, "not a delivery job");
                return Some(id);
            }
        };
        match deps.dispatcher.run(&job).await {
            Ok(()) => None,
            Err(e) => {
                tracing::error!(function = FUNCTION, tenant = %job.tenant, endpoint = %job.endpoint_id,
                    delivery = %job.delivery_id, attempt = job.attempt, error = %e, "job failed; it will come back");
                Some(id)
            }
        }
    }))
    .await;
    hw_aws::sqs_batch::failures(results.into_iter().flatten())
}

#[cfg(test)]
mod tests;
