//! Ports: where jobs and templates are kept, and how export requests travel. DynamoDB and SQS adapters live in
//! `dynamo` and `queue`; in-memory ones in `memory` serve the unit and handler tests.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::job::{ExportJob, ExportStatus, ExportTemplate};

#[derive(Debug, thiserror::Error)]
pub enum ExportStoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    /// The item changed since it was read (a version or a claim that no longer holds).
    #[error("changed concurrently")]
    Conflict,
    #[error("storage failed: {0}")]
    Backend(String),
}

/// The outcome of trying to start a job's run.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This caller runs the job until its lease passes; the job as it is now (status `running`, with the token).
    Claimed(ExportJob),
    /// Another run holds a live lease (a duplicate message while the first is still working).
    Busy,
    /// The job is completed or failed already.
    Finished(ExportJob),
    Missing,
}

/// Filters and position of a history page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobQuery {
    pub status: Option<ExportStatus>,
    pub entity: Option<String>,
    /// Only jobs older than this one (the last id of the previous page).
    pub before: Option<String>,
    pub limit: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobPage {
    /// Newest first.
    pub items: Vec<ExportJob>,
    /// The id to pass as `before` for the next page, when there is one.
    pub next: Option<String>,
}

/// How a finished run ends, written only by the holder of the claim.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    Completed { rows: u64, bytes: u64, file_key: String, file_name: String },
    Failed { error: String },
}

#[async_trait]
pub trait ExportStore: Send + Sync {
    /// Creates the job unless one with its id exists; `false` when it did (a repeated scheduled firing).
    async fn create_job(&self, job: &ExportJob) -> Result<bool, ExportStoreError>;
    async fn get_job(&self, tenant: &str, id: &str) -> Result<Option<ExportJob>, ExportStoreError>;
    /// The tenant's jobs, newest first.
    async fn list_jobs(&self, tenant: &str, query: &JobQuery) -> Result<JobPage, ExportStoreError>;
    async fn delete_job(&self, tenant: &str, id: &str) -> Result<(), ExportStoreError>;
    /// Starts a run: a queued job, or a running one whose lease expired before `now_ms` (its run crashed).
    async fn claim(
        &self,
        tenant: &str,
        id: &str,
        now: &str,
        now_ms: i64,
        lease_until_ms: i64,
        token: &str,
    ) -> Result<Claim, ExportStoreError>;
    /// Gives a claim back (a transient failure): the job is queued again for the message's next delivery.
    async fn release(&self, tenant: &str, id: &str, token: &str) -> Result<(), ExportStoreError>;
    /// Ends the run of the claim `token` (`Conflict` when that claim no longer holds, `NotFound` when the job was
    /// deleted meanwhile); returns the finished job.
    async fn finish(
        &self,
        tenant: &str,
        id: &str,
        token: &str,
        finish: &Finish,
        now: &str,
    ) -> Result<ExportJob, ExportStoreError>;
    /// Records that the job's event was published.
    async fn mark_notified(&self, tenant: &str, id: &str) -> Result<(), ExportStoreError>;

    async fn create_template(&self, template: &ExportTemplate) -> Result<(), ExportStoreError>;
    async fn get_template(&self, tenant: &str, id: &str) -> Result<Option<ExportTemplate>, ExportStoreError>;
    /// Every template of the tenant, oldest first.
    async fn list_templates(&self, tenant: &str) -> Result<Vec<ExportTemplate>, ExportStoreError>;
    /// Stores `template` if the stored one still has `expected_version` (else `Conflict`; `NotFound` if gone).
    async fn replace_template(&self, template: &ExportTemplate, expected_version: u64) -> Result<(), ExportStoreError>;
    async fn delete_template(&self, tenant: &str, id: &str) -> Result<(), ExportStoreError>;
}

/// A message on the exports queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum ExportMessage {
    /// Run this export (sent by the API when it is requested).
    #[serde(rename = "export.run")]
    Run { tenant: String, export_id: String },
    /// A template's schedule fired: make its export for this firing and run it.
    #[serde(rename = "export.scheduled")]
    Scheduled {
        tenant: String,
        template_id: String,
        /// When the firing was due (EventBridge Scheduler fills in `<aws.scheduler.scheduled-time>`); absent or
        /// not a time, the message's sent time stands in.
        #[serde(default)]
        scheduled_time: Option<String>,
    },
}

/// The placeholder EventBridge Scheduler replaces with the firing's scheduled time in a target's input.
pub const SCHEDULED_TIME_PLACEHOLDER: &str = "<aws.scheduler.scheduled-time>";

impl ExportMessage {
    /// The input a template's schedule sends.
    pub fn scheduled_input(tenant: &str, template_id: &str) -> String {
        serde_json::to_string(&ExportMessage::Scheduled {
            tenant: tenant.to_owned(),
            template_id: template_id.to_owned(),
            scheduled_time: Some(SCHEDULED_TIME_PLACEHOLDER.to_owned()),
        })
        .expect("messages serialise")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("exports queue: {0}")]
pub struct QueueError(pub String);

#[async_trait]
pub trait ExportQueue: Send + Sync {
    async fn enqueue(&self, message: &ExportMessage) -> Result<(), QueueError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_have_the_documented_shape() {
        let run: ExportMessage =
            serde_json::from_value(json!({"kind": "export.run", "tenant": "acme", "export_id": "exp_1"})).unwrap();
        assert_eq!(run, ExportMessage::Run { tenant: "acme".into(), export_id: "exp_1".into() });
        let fired: ExportMessage =
            serde_json::from_value(json!({"kind": "export.scheduled", "tenant": "acme", "template_id": "tpl_1"}))
                .unwrap();
        assert!(matches!(fired, ExportMessage::Scheduled { scheduled_time: None, .. }));
        let input: serde_json::Value = serde_json::from_str(&ExportMessage::scheduled_input("acme", "tpl_1")).unwrap();
        assert_eq!(
            input,
            json!({"kind": "export.scheduled", "tenant": "acme", "template_id": "tpl_1",
                   "scheduled_time": "<aws.scheduler.scheduled-time>"})
        );
        assert!(serde_json::from_value::<ExportMessage>(json!({"kind": "outbox.sweep"})).is_err());
    }
}
