//! The `export-runner` function: each message of the exports queue is one export to run (`export.run`, sent by
//! the API) or one firing of a template's schedule (`export.scheduled`). The run itself is
//! `hw_export_jobs::runner`; this handler decodes messages and turns outcomes into partial batch failures.
//!
//! A message that could not be carried out (storage, bucket or bus unavailable) is reported and comes back after
//! the visibility timeout; the job's claim keeps a repeated message from running an export twice. On the queue's
//! last delivery of a message the export is failed with the reason instead, so no export stays queued forever.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use hw_aws::kms::KmsKeyring;
use hw_export_jobs::ExportMessage;
use hw_export_jobs::runner::{Delivery, Outcome, Runner};
use hw_store::records::Records;

pub const FUNCTION: &str = "export-runner";

pub struct Deps {
    pub runner: Runner,
    /// Deliveries of one message before SQS moves it to the dead-letter queue (the queue's `max_receive_count`).
    pub max_receives: u32,
}

/// How long a run's claim holds: the function's timeout plus a margin, below the queue's visibility timeout (a test
/// checks the manifest), so the next delivery of a crashed run's message finds the lease expired and takes over.
pub fn lease() -> Duration {
    let m = hw_resources::manifest();
    Duration::from_secs(u64::from(m.functions[FUNCTION].timeout_seconds) + 30)
}

impl Deps {
    pub fn from_aws(config: &hw_resources::Config, sdk: &aws_config::SdkConfig) -> Self {
        let dynamo = hw_aws::dynamo_client(sdk);
        let keyring =
            Arc::new(KmsKeyring::new(aws_sdk_kms::Client::new(sdk), config.data_key_id.clone().unwrap_or_default()));
        let publisher = Arc::new(hw_aws::events::EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(sdk),
            &config.event_bus,
            &config.event_source,
        ));
        let records =
            Records::on_dynamo(dynamo.clone(), &config.control_table, &config.data_table, keyring, publisher.clone());
        Self {
            runner: Runner {
                store: Arc::new(hw_export_jobs::dynamo::DynamoExportStore::new(dynamo, &config.jobs_table)),
                records,
                files: Arc::new(hw_files::S3Files::from_sdk(sdk, &config.files_bucket)),
                publisher,
                lease: lease(),
            },
            max_receives: hw_resources::manifest().queues["exports"].max_receive_count,
        }
    }
}

fn attribute(m: &SqsMessage, name: &str) -> Option<i64> {
    m.attributes.get(name).and_then(|v| v.parse().ok())
}

pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut failed = Vec::new();
    // Batches are of one message (the manifest's batch size); a larger one runs its exports one after the other.
    for m in &event.records {
        let id = m.message_id.clone().unwrap_or_default();
        let message: ExportMessage = match m.body.as_deref().map(serde_json::from_str) {
            Some(Ok(message)) => message,
            _ => {
                // Not an export message: fail it so that it ends, visible, in the dead-letter queue.
                tracing::error!(function = FUNCTION, message_id = %id, "not an export message");
                failed.push(id);
                continue;
            }
        };
        let delivery = Delivery {
            sent_at_ms: attribute(m, "SentTimestamp"),
            last_attempt: attribute(m, "ApproximateReceiveCount").is_some_and(|n| n >= i64::from(deps.max_receives)),
        };
        match deps.runner.handle(&message, delivery).await {
            Ok(Outcome::Completed(job)) => {
                tracing::info!(function = FUNCTION, tenant = %job.tenant, export = %job.id, rows = job.rows,
                    bytes = job.bytes, "export completed")
            }
            Ok(Outcome::Failed(job)) => {
                tracing::warn!(function = FUNCTION, tenant = %job.tenant, export = %job.id,
                    error = job.error.as_deref().unwrap_or_default(), "export failed")
            }
            Ok(Outcome::Skipped(why)) => tracing::info!(function = FUNCTION, message_id = %id, why, "nothing to run"),
            Err(e) => {
                tracing::error!(function = FUNCTION, message_id = %id, error = %e, "export interrupted; it will come back");
                failed.push(id);
            }
        }
    }
    hw_aws::sqs_batch::failures(failed)
}

#[cfg(test)]
mod tests;
