//! The run of one export, as the `export-runner` function carries it out for each message:
//!
//! 1. claim the job (`queued`, or `running` with an expired lease), so a duplicate message never runs it twice
//!    and a run that crashed is taken over once its lease passes;
//! 2. query the records page by page through the same query service as `GET /v1/data/{entity}` and render each
//!    page into a temporary file (memory holds one page; XLSX spills its sheet to disk, see `hw_export::xlsx`);
//! 3. upload the file to `exports/{tenant}/{export id}/{file name}` in the files bucket (in parts when large);
//! 4. finish the job (`completed` with rows and bytes, or `failed` with the reason), under the claim;
//! 5. publish `export.completed` / `export.failed` (with an id derived from the job, so a repeat is recognisable)
//!    and note that it was published; a message whose job finished but was not announced announces it.
//!
//! Failures that will not go away by trying again (the entity is gone, the query no longer fits the model, more
//! records than a sorted export can hold, a cell Excel refuses) fail the export. Others (storage, S3, the bus)
//! give the claim back and fail the message, which SQS delivers again; on its last delivery the export fails.

use std::io::BufWriter;
use std::sync::Arc;
use std::time::Duration;

use hw_aws::events::{EventPublisher, PublishError};
use hw_domain::event::Envelope;
use hw_domain::principal::Principal;
use hw_export::CsvOptions;
use hw_files::{FileError, FileStore};
use hw_store::StoreError;
use hw_store::query::{MAX_SORTED, QueryError};
use hw_store::records::Records;
use serde_json::json;

use crate::job::{ExportJob, scheduled_export_id};
use crate::ports::{Claim, ExportMessage, ExportStore, ExportStoreError, Finish};

/// Records read per page in id order (no sort, or by id). Other orders are sorted in memory by the query service,
/// which reads the whole entity for every page: one page of up to [`MAX_SORTED`] records reads it once.
pub const ID_ORDER_PAGE: usize = 500;

pub struct Runner {
    pub store: Arc<dyn ExportStore>,
    pub records: Records,
    pub files: Arc<dyn FileStore>,
    pub publisher: Arc<dyn EventPublisher>,
    /// How long a claim holds: longer than a run may take (the function's timeout), shorter than the queue's
    /// visibility timeout, so the next delivery of a crashed run's message finds the lease expired.
    pub lease: Duration,
}

/// What the delivery of a message says about it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delivery {
    /// When the message was sent (SQS `SentTimestamp`), epoch milliseconds.
    pub sent_at_ms: Option<i64>,
    /// This is the queue's last delivery of the message: a transient failure now fails the export.
    pub last_attempt: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Completed(ExportJob),
    Failed(ExportJob),
    /// Nothing to do, and why.
    Skipped(&'static str),
}

/// A failure that may pass: the message should come back.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("jobs table: {0}")]
    Store(#[from] ExportStoreError),
    #[error("records: {0}")]
    Records(#[from] StoreError),
    #[error("files bucket: {0}")]
    Files(#[from] FileError),
    #[error("event bus: {0}")]
    Publish(#[from] PublishError),
    #[error("local file: {0}")]
    Io(#[from] std::io::Error),
}

/// How producing the file failed.
enum Produce {
    /// The export cannot succeed: fail it with this reason.
    Permanent(String),
    Transient(RunError),
}

impl<E: Into<RunError>> From<E> for Produce {
    fn from(e: E) -> Self {
        Produce::Transient(e.into())
    }
}

struct Produced {
    rows: u64,
    bytes: u64,
    key: String,
    name: String,
}

impl Runner {
    pub async fn handle(&self, message: &ExportMessage, delivery: Delivery) -> Result<Outcome, RunError> {
        match message {
            ExportMessage::Run { tenant, export_id } => self.run(tenant, export_id, delivery.last_attempt).await,
            ExportMessage::Scheduled { tenant, template_id, scheduled_time } => {
                let fired_ms = scheduled_time
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.timestamp_millis())
                    .or(delivery.sent_at_ms)
                    .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
                match self.scheduled_job(tenant, template_id, fired_ms).await? {
                    None => Ok(Outcome::Skipped("the template is gone, disabled or no longer scheduled")),
                    Some(id) => self.run(tenant, &id, delivery.last_attempt).await,
                }
            }
        }
    }

    /// The export of the template's firing at `fired_ms`: made on the first delivery of the firing, found on the
    /// next ones. `None` when the template no longer wants scheduled exports.
    pub async fn scheduled_job(
        &self,
        tenant: &str,
        template_id: &str,
        fired_ms: i64,
    ) -> Result<Option<String>, RunError> {
        let Some(template) = self.store.get_template(tenant, template_id).await? else { return Ok(None) };
        if !template.is_scheduled() {
            return Ok(None);
        }
        let minute = fired_ms.max(0) as u64 / 60_000 * 60_000;
        let id = scheduled_export_id(template_id, minute);
        let mut job = ExportJob::queued(id.clone(), tenant, template.spec, &template.updated_by, &now());
        job.template_id = Some(template.id);
        if !self.store.create_job(&job).await? {
            tracing::info!(tenant, export = %id, "the firing's export exists already (a repeated message)");
        }
        Ok(Some(id))
    }

    /// Runs export `id` unless another run holds it or it is finished.
    pub async fn run(&self, tenant: &str, id: &str, last_attempt: bool) -> Result<Outcome, RunError> {
        let token = format!("{:032x}", rand::random::<u128>());
        let now_ms = chrono::Utc::now().timestamp_millis();
        let lease_until = now_ms + self.lease.as_millis() as i64;
        let job = match self.store.claim(tenant, id, &now(), now_ms, lease_until, &token).await? {
            Claim::Missing => return Ok(Outcome::Skipped("the export was deleted")),
            Claim::Busy => return Ok(Outcome::Skipped("another run holds the export")),
            Claim::Finished(job) => {
                if !job.notified {
                    self.notify(&job).await?;
                }
                return Ok(Outcome::Skipped("the export is finished"));
            }
            Claim::Claimed(job) => job,
        };
        let finish = match self.produce(&job).await {
            Ok(p) => Finish::Completed { rows: p.rows, bytes: p.bytes, file_key: p.key, file_name: p.name },
            Err(Produce::Permanent(error)) => Finish::Failed { error },
            Err(Produce::Transient(e)) if last_attempt => {
                Finish::Failed { error: format!("gave up after {} attempts; the last one failed: {e}", job.attempts) }
            }
            Err(Produce::Transient(e)) => {
                if let Err(release) = self.store.release(tenant, id, &token).await {
                    tracing::warn!(tenant, export = id, error = %release, "could not give the claim back; its lease will expire");
                }
                return Err(e);
            }
        };
        let done = match self.store.finish(tenant, id, &token, &finish, &now()).await {
            Ok(done) => done,
            Err(ExportStoreError::NotFound) => {
                // Deleted while it ran: nobody will download the file.
                if let Finish::Completed { file_key, .. } = &finish {
                    self.files.delete(file_key).await?;
                }
                return Ok(Outcome::Skipped("the export was deleted while it ran"));
            }
            Err(ExportStoreError::Conflict) => return Ok(Outcome::Skipped("the run lost its claim to another")),
            Err(e) => return Err(e.into()),
        };
        self.notify(&done).await?;
        Ok(match finish {
            Finish::Completed { .. } => Outcome::Completed(done),
            Finish::Failed { .. } => Outcome::Failed(done),
        })
    }

    async fn produce(&self, job: &ExportJob) -> Result<Produced, Produce> {
        let spec = &job.spec;
        let Some(model) = self.records.control.get_model(&job.tenant, &spec.entity).await? else {
            return Err(Produce::Permanent(format!("the entity `{}` no longer exists", spec.entity)));
        };
        let plan = spec.plan(&model).map_err(|e| {
            Produce::Permanent(format!("the export no longer fits the model of `{}`: {e}", spec.entity))
        })?;
        let principal = Principal::new(&job.tenant, &job.requested_by, vec![]);
        let file = tempfile::NamedTempFile::new()?;
        let mut renderer =
            hw_export::renderer(plan.format, plan.columns, CsvOptions::default(), BufWriter::new(file.reopen()?));
        let rendering = |e: hw_export::ExportError| Produce::Permanent(format!("rendering failed: {e}"));
        renderer.begin().map_err(rendering)?;
        let size = if plan.query.id_order().is_some() { ID_ORDER_PAGE } else { MAX_SORTED };
        let mut after = None;
        let mut rows = 0u64;
        loop {
            let page = self.records.query(&principal, &model, &plan.query, size, after.as_ref()).await.map_err(
                |e| match e {
                    QueryError::TooManyToSort { .. } => Produce::Permanent(e.to_string()),
                    QueryError::Store(s) => Produce::Transient(s.into()),
                },
            )?;
            for record in &page.records {
                renderer.write(record).map_err(rendering)?;
                rows += 1;
            }
            match page.next {
                None => break,
                Some((values, id)) => {
                    after = Some(plan.query.position(&values, &id).ok_or_else(|| {
                        Produce::Permanent("the records changed shape during the export; run it again".into())
                    })?);
                }
            }
        }
        renderer.finish().map_err(rendering)?;
        let bytes = file.as_file().metadata()?.len();
        let name = file_name(job);
        let key = format!("exports/{}/{}/{name}", job.tenant, job.id);
        self.files.put_file(&key, file.path(), plan.format.content_type()).await?;
        Ok(Produced { rows, bytes, key, name })
    }

    /// Publishes the job's outcome and notes that it did.
    async fn notify(&self, job: &ExportJob) -> Result<(), RunError> {
        let Some(event) = outcome_event(job) else { return Ok(()) };
        self.publisher.publish(&[event]).await?;
        self.store.mark_notified(&job.tenant, &job.id).await?;
        Ok(())
    }
}

/// `export.completed` or `export.failed` for a finished job. The download link is not part of it: links expire
/// after 15 minutes, events live longer (retries, replays); `GET /v1/exports/{id}` signs a fresh one each time.
pub fn outcome_event(job: &ExportJob) -> Option<Envelope> {
    let s = &job.spec;
    let (event_type, data) = match job.status {
        crate::job::ExportStatus::Completed => (
            "export.completed",
            json!({"id": job.id, "entity": s.entity, "format": s.format, "rows": job.rows, "bytes": job.bytes,
                   "file_name": job.file_name, "template_id": job.template_id}),
        ),
        crate::job::ExportStatus::Failed => (
            "export.failed",
            json!({"id": job.id, "entity": s.entity, "format": s.format, "template_id": job.template_id,
                   "reason": job.error}),
        ),
        _ => return None,
    };
    Some(Envelope {
        id: job.event_id(),
        event_type: event_type.to_owned(),
        tenant: job.tenant.clone(),
        time: job.finished_at.clone().unwrap_or_else(now),
        data,
    })
}

/// `contact-20260115T093000Z.csv`: the entity and when the export was asked for.
pub fn file_name(job: &ExportJob) -> String {
    let stamp: String = job.created_at.chars().take(19).filter(|c| *c != '-' && *c != ':').collect();
    let ext = hw_export::Format::parse(&job.spec.format).map(|f| f.extension()).unwrap_or("dat");
    format!("{}-{stamp}Z.{ext}", job.spec.entity)
}

fn now() -> String {
    hw_domain::event::now_rfc3339()
}

#[cfg(test)]
mod tests;
