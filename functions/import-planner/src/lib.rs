//! The `import-planner` function. S3 announces every object created under `uploads/` on its queue; for each upload
//! it plans the import (format, columns, typed preview, suggested mapping, chunks) and marks it ready, or fails it
//! with the reason the file cannot be imported.
//!
//! Partial batch failures: a plan that failed for a reason worth retrying (storage unreachable) is reported and
//! comes back; planning is idempotent (only an import awaiting its upload is planned).

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use hw_import_jobs::planner::{PlannerDeps, plan_upload};

pub const FUNCTION: &str = "import-planner";

/// Bytes per chunk of text files: small enough for a chunk processor to parse and write well within its timeout,
/// large enough that a 100 MB file needs about 100 messages; progress moves chunk by chunk.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// Rows per chunk of spreadsheets.
pub const SHEET_CHUNK_ROWS: usize = 20_000;

pub struct Deps {
    pub planner: PlannerDeps,
}

impl Deps {
    pub fn from_aws(
        config: &hw_resources::Config,
        sdk: &aws_config::SdkConfig,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let dynamo = hw_aws::dynamo_client(sdk);
        let limits = hw_import_jobs::service::ImportLimits::from_lookup(|k| std::env::var(k).ok())?;
        Ok(Self {
            planner: PlannerDeps {
                store: Arc::new(hw_import_jobs::dynamo::DynamoImports::new(dynamo.clone(), &config.jobs_table)),
                files: Arc::new(hw_files::S3Files::from_sdk(sdk, &config.files_bucket)),
                control: Arc::new(hw_store::dynamo::DynamoControlStore::new(dynamo, &config.control_table)),
                publisher: Arc::new(hw_aws::events::EventBridgePublisher::new(
                    aws_sdk_eventbridge::Client::new(sdk),
                    &config.event_bus,
                    &config.event_source,
                )),
                limits,
                chunk_bytes: CHUNK_BYTES,
                sheet_chunk_rows: SHEET_CHUNK_ROWS,
                spreadsheet_limits: hw_import::SpreadsheetLimits::default(),
                scratch: std::env::temp_dir(),
            },
        })
    }
}

/// The object keys a message announces. S3's test event (sent when notifications are configured) has none.
fn uploaded_keys(m: &SqsMessage) -> Result<Vec<String>, String> {
    let body = m.body.as_deref().ok_or("the message has no body")?;
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    if value.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") {
        return Ok(Vec::new());
    }
    // Read leniently: only the members we use. (aws_lambda_events' S3Event requires members, such as
    // `userIdentity`, that emulators leave out.)
    let records = value.get("Records").and_then(|r| r.as_array()).ok_or("not an S3 event: no `Records`")?;
    Ok(records
        .iter()
        .filter(|r| r.get("eventName").and_then(|n| n.as_str()).is_some_and(|n| n.starts_with("ObjectCreated:")))
        .filter_map(|r| r.pointer("/s3/object/key").and_then(|k| k.as_str()))
        .map(decode_key)
        .collect())
}

/// S3 event keys are URL-encoded, with `+` for spaces.
fn decode_key(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut failed = Vec::new();
    for m in &event.records {
        let id = m.message_id.clone().unwrap_or_default();
        let keys = match uploaded_keys(m) {
            Ok(keys) => keys,
            Err(reason) => {
                tracing::error!(function = FUNCTION, message_id = %id, %reason, "unreadable message");
                failed.push(id);
                continue;
            }
        };
        for key in keys {
            match plan_upload(&deps.planner, &key).await {
                Ok(()) => tracing::info!(function = FUNCTION, %key, "upload planned"),
                Err(e) => {
                    tracing::error!(function = FUNCTION, %key, error = %e, "planning failed; the upload will come back");
                    failed.push(id.clone());
                    break;
                }
            }
        }
    }
    hw_aws::sqs_batch::failures(failed)
}

#[cfg(test)]
mod tests;
