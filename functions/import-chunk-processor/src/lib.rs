//! The `import-chunk-processor` function: one message per chunk of a started import. Each chunk is read, converted,
//! checked, deduplicated and written, and its outcome recorded exactly once; the last chunk finishes the import.
//!
//! Partial batch failures: a chunk that failed for a reason worth retrying is reported and comes back; on its last
//! delivery (the queue's `max_receive_count`) it is recorded as failed instead, so the import ends `failed` with a
//! retry offered rather than hanging.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use hw_aws::kms::KmsKeyring;
use hw_import_jobs::processor::{ChunkDeps, process};
use hw_import_jobs::queue::ChunkMessage;
use hw_store::records::Records;

pub const FUNCTION: &str = "import-chunk-processor";

pub struct Deps {
    pub chunks: ChunkDeps,
    /// Deliveries of one message before the queue dead-letters it (from resources.json).
    pub max_receive_count: u32,
}

impl Deps {
    pub fn from_aws(
        config: &hw_resources::Config,
        sdk: &aws_config::SdkConfig,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let dynamo = hw_aws::dynamo_client(sdk);
        let keyring =
            Arc::new(KmsKeyring::new(aws_sdk_kms::Client::new(sdk), config.data_key_id.clone().unwrap_or_default()));
        let publisher: Arc<dyn hw_aws::events::EventPublisher> = Arc::new(hw_aws::events::EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(sdk),
            &config.event_bus,
            &config.event_source,
        ));
        let records =
            Records::on_dynamo(dynamo.clone(), &config.control_table, &config.data_table, keyring, publisher.clone());
        Ok(Self {
            chunks: ChunkDeps {
                store: Arc::new(hw_import_jobs::dynamo::DynamoImports::new(dynamo, &config.jobs_table)),
                files: Arc::new(hw_files::S3Files::from_sdk(sdk, &config.files_bucket)),
                records: Arc::new(records),
                publisher,
                source: Default::default(),
            },
            max_receive_count: hw_resources::manifest().queues["import-chunks"].max_receive_count,
        })
    }
}

fn message_of(m: &SqsMessage) -> Result<ChunkMessage, String> {
    let body = m.body.as_deref().ok_or("the message has no body")?;
    serde_json::from_str(body).map_err(|e| format!("not a chunk message: {e}"))
}

/// Whether this is the queue's last delivery of `m`.
fn last_delivery(m: &SqsMessage, max: u32) -> bool {
    m.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse::<u32>().ok()).is_some_and(|n| n >= max)
}

pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut failed = Vec::new();
    for m in &event.records {
        let id = m.message_id.clone().unwrap_or_default();
        let msg = match message_of(m) {
            Ok(msg) => msg,
            Err(reason) => {
                tracing::error!(function = FUNCTION, message_id = %id, %reason, "unreadable message");
                failed.push(id);
                continue;
            }
        };
        let last = last_delivery(m, deps.max_receive_count);
        match process(&deps.chunks, &msg, last).await {
            Ok(()) => tracing::info!(function = FUNCTION, tenant = %msg.tenant, import = %msg.import_id,
                run = msg.run, chunk = msg.chunk, "chunk processed"),
            Err(e) => {
                tracing::error!(function = FUNCTION, tenant = %msg.tenant, import = %msg.import_id, chunk = msg.chunk,
                    error = %e, "chunk failed; it will come back");
                failed.push(id);
            }
        }
    }
    hw_aws::sqs_batch::failures(failed)
}

#[cfg(test)]
mod tests;
