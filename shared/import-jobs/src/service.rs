//! What the API does with imports: hand out uploads, show jobs, start, cancel and retry them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hw_aws::events::EventPublisher;
use hw_domain::event::{Envelope, now_rfc3339};
use hw_domain::model::Model;
use hw_domain::principal::Principal;
use hw_files::{CompletedPart, FileStore, PresignedRequest, part_size_for};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::queue::{ChunkMessage, ChunkQueue};
use crate::{Counts, Duplicates, ImportJob, ImportStatus, ImportStore, Mode, RunSettings, StoreError};

/// Limits of imports; each has an environment variable (see [`ImportLimits::from_lookup`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportLimits {
    /// Largest file accepted (`HUBBLE_IMPORT_MAX_BYTES`, default 200 MiB).
    pub max_file_bytes: u64,
    /// Declared sizes above this get multipart upload parts offered too (16 MiB).
    pub multipart_threshold: u64,
    /// How long presigned upload and download URLs stay valid.
    pub url_validity: Duration,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 200 * 1024 * 1024,
            multipart_threshold: 16 * 1024 * 1024,
            url_validity: Duration::from_secs(3600),
        }
    }
}

impl ImportLimits {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut limits = Self::default();
        if let Some(v) = get("HUBBLE_IMPORT_MAX_BYTES") {
            limits.max_file_bytes =
                v.trim().parse().map_err(|_| format!("HUBBLE_IMPORT_MAX_BYTES: `{v}` is not a whole number"))?;
        }
        Ok(limits)
    }
}

/// One problem with a request, at a JSON pointer into its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub pointer: String,
    pub code: &'static str,
    pub detail: String,
}

impl Invalid {
    fn new(pointer: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), code, detail: detail.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no import with id `{0}`")]
    NotFound(String),
    #[error("the request is invalid")]
    Invalid(Vec<Invalid>),
    #[error("{0}")]
    Conflict(String),
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("storage failed: {0}")]
    Storage(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        Self::Storage(e.to_string())
    }
}

impl From<hw_files::FileError> for ServiceError {
    fn from(e: hw_files::FileError) -> Self {
        match e {
            hw_files::FileError::Invalid(m) => Self::Invalid(vec![Invalid::new("/parts", "invalid-parts", m)]),
            hw_files::FileError::NotFound(_) => {
                Self::Conflict("the multipart upload is unknown or already complete".into())
            }
            other => Self::Storage(other.to_string()),
        }
    }
}

/// `POST /v1/imports`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewImport {
    pub entity: String,
    #[serde(default)]
    pub file_name: Option<String>,
    /// The file's size, when known: large files get multipart parts offered, and files over the limit are refused
    /// before anything is uploaded.
    #[serde(default)]
    pub size: Option<u64>,
    /// The sheet to read from a workbook.
    #[serde(default)]
    pub sheet: Option<String>,
    /// Ask for multipart parts whatever the size.
    #[serde(default)]
    pub multipart: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MultipartOffer {
    pub upload_id: String,
    pub part_size: u64,
    pub parts: Vec<(i32, PresignedRequest)>,
}

#[derive(Debug, Clone)]
pub struct Created {
    pub job: ImportJob,
    pub upload: PresignedRequest,
    pub multipart: Option<MultipartOffer>,
    pub expires_at: String,
}

/// `POST /v1/imports/{id}/start`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    pub mapping: BTreeMap<String, String>,
    #[serde(default)]
    pub rules: BTreeMap<String, Vec<Value>>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub key: Vec<String>,
    #[serde(default)]
    pub duplicates: Option<Duplicates>,
    #[serde(default)]
    pub dry_run: bool,
}

pub struct Imports {
    pub store: Arc<dyn ImportStore>,
    pub files: Arc<dyn FileStore>,
    pub queue: Arc<dyn ChunkQueue>,
    pub publisher: Arc<dyn EventPublisher>,
    pub limits: ImportLimits,
}

impl Imports {
    pub async fn create(&self, p: &Principal, model: &Model, req: NewImport) -> Result<Created, ServiceError> {
        if let Some(size) = req.size
            && size > self.limits.max_file_bytes
        {
            return Err(ServiceError::TooLarge { limit: self.limits.max_file_bytes });
        }
        let file_name = req.file_name.clone().unwrap_or_else(|| "upload".to_owned());
        if file_name.chars().count() > 255 {
            return Err(ServiceError::Invalid(vec![Invalid::new("/file_name", "too-long", "at most 255 characters")]));
        }
        let id = ulid::Ulid::new().to_string();
        let now = now_rfc3339();
        let file_key = ImportJob::upload_key(&p.tenant, &id, &file_name);
        let multipart = req.multipart || req.size.is_some_and(|s| s > self.limits.multipart_threshold);
        let mut offer = None;
        if multipart {
            let upload_id = self.files.create_multipart(&file_key).await?;
            let part_size = part_size_for(req.size.unwrap_or(self.limits.max_file_bytes));
            let count = req.size.unwrap_or(self.limits.max_file_bytes).div_ceil(part_size).max(1);
            let mut parts = Vec::with_capacity(count as usize);
            for n in 1..=count as i32 {
                parts.push((n, self.files.presign_part(&file_key, &upload_id, n, self.limits.url_validity).await?));
            }
            offer = Some(MultipartOffer { upload_id, part_size, parts });
        }
        let job = ImportJob {
            id,
            tenant: p.tenant.clone(),
            entity: model.name.clone(),
            file_name,
            file_key: file_key.clone(),
            status: ImportStatus::AwaitingUpload,
            size: req.size,
            sheet: req.sheet,
            multipart_upload_id: offer.as_ref().map(|o| o.upload_id.clone()),
            created_by: p.actor.clone(),
            created_at: now.clone(),
            updated_at: now,
            plan: None,
            run: None,
            counts: Default::default(),
            error: None,
            error_report_key: None,
            planned_at: None,
            finished_at: None,
        };
        self.store.create(&job).await?;
        let upload = self.files.presign_put(&file_key, self.limits.url_validity).await?;
        let expires_at = (chrono::Utc::now()
            + chrono::Duration::from_std(self.limits.url_validity).unwrap_or(chrono::Duration::hours(1)))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Ok(Created { job, upload, multipart: offer, expires_at })
    }

    pub async fn get(&self, tenant: &str, id: &str) -> Result<ImportJob, ServiceError> {
        self.store.get(tenant, id).await?.ok_or_else(|| ServiceError::NotFound(id.to_owned()))
    }

    pub async fn list(
        &self,
        tenant: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<ImportJob>, Option<String>), ServiceError> {
        Ok(self.store.list(tenant, limit, after).await?)
    }

    /// Completes a multipart upload from the parts the client uploaded; S3 then announces the file to the planner.
    pub async fn complete_upload(
        &self,
        tenant: &str,
        id: &str,
        parts: &[CompletedPart],
    ) -> Result<ImportJob, ServiceError> {
        let job = self.get(tenant, id).await?;
        let Some(upload_id) = job.multipart_upload_id.as_deref() else {
            return Err(ServiceError::Conflict("this import was not created for a multipart upload".into()));
        };
        if job.status != ImportStatus::AwaitingUpload {
            return Err(ServiceError::Conflict(format!(
                "the import is {}, not awaiting its upload",
                job.status.as_str()
            )));
        }
        if parts.is_empty() {
            return Err(ServiceError::Invalid(vec![Invalid::new("/parts", "empty", "list every uploaded part")]));
        }
        let mut sorted = parts.to_vec();
        sorted.sort_by_key(|p| p.part_number);
        self.files.complete_multipart(&job.file_key, upload_id, &sorted).await?;
        Ok(job)
    }

    /// The counts of a running import as they stand: the recorded chunks' numbers plus what the chunks still at
    /// work have reported (every 250 rows), so progress moves row by row rather than chunk by chunk. Other
    /// imports: their counters.
    pub async fn live_counts(&self, job: &ImportJob) -> Result<Counts, ServiceError> {
        let (Some(run), ImportStatus::Running) = (&job.run, job.status) else { return Ok(job.counts) };
        let recorded = self.store.chunks(&job.tenant, &job.id, run.number).await?;
        let progress = self.store.progress(&job.tenant, &job.id, run.number).await?;
        let mut counts = Counts::default();
        for o in recorded.values() {
            counts.ok += o.ok;
            counts.failed += o.failed;
            counts.skipped += o.skipped;
            match o.state {
                crate::ChunkState::Done => counts.chunks_done += 1,
                crate::ChunkState::Failed => counts.chunks_failed += 1,
            }
        }
        for (_, p) in progress.iter().filter(|(i, _)| !recorded.contains_key(i)) {
            counts.ok += p.ok;
            counts.failed += p.failed;
            counts.skipped += p.skipped;
        }
        counts.total = counts.ok + counts.failed + counts.skipped;
        Ok(counts)
    }

    /// A presigned download of the error report, when the import has one.
    pub async fn error_report(&self, job: &ImportJob) -> Result<Option<PresignedRequest>, ServiceError> {
        let Some(key) = &job.error_report_key else { return Ok(None) };
        let name = format!("import-{}-errors.csv", job.id);
        Ok(Some(self.files.presign_get(key, Some(&name), self.limits.url_validity).await?))
    }

    /// Checks the mapping, rules and key against the detected columns and the model, then fans the chunks out.
    pub async fn start(
        &self,
        p: &Principal,
        model: &Model,
        id: &str,
        req: StartRequest,
        raw_spec: Value,
        targets: &[Model],
    ) -> Result<ImportJob, ServiceError> {
        let job = self.get(&p.tenant, id).await?;
        let restartable = job.status == ImportStatus::Ready
            || (job.status == ImportStatus::Completed && job.run.as_ref().is_some_and(|r| r.dry_run));
        if !restartable {
            return Err(ServiceError::Conflict(match job.status {
                ImportStatus::AwaitingUpload | ImportStatus::Planning => {
                    format!("the import is {}; start it once it is ready", job.status.as_str())
                }
                other => format!("the import is {} and cannot be started again", other.as_str()),
            }));
        }
        let plan = job.plan.clone().ok_or_else(|| ServiceError::Conflict("the import has no plan".into()))?;
        let columns: Vec<String> = plan.columns.iter().map(|c| c.name.clone()).collect();
        let mut problems = crate::spec::check(&raw_spec, &columns, model, targets).err().unwrap_or_default();
        let duplicates = match (req.mode, req.duplicates) {
            (Mode::Insert, None) => Duplicates::Skip,
            (Mode::Upsert, None) => Duplicates::Merge,
            (Mode::Insert, Some(d @ (Duplicates::Skip | Duplicates::Fail))) => d,
            (Mode::Upsert, Some(d @ (Duplicates::Update | Duplicates::Merge))) => d,
            (mode, Some(d)) => {
                problems.push(Invalid::new(
                    "/duplicates",
                    "invalid-duplicates",
                    format!(
                        "`{}` does not apply to {} mode: insert takes skip or fail, upsert takes update or merge",
                        json!(d).as_str().unwrap_or(""),
                        json!(mode).as_str().unwrap_or("")
                    ),
                ));
                Duplicates::Skip
            }
        };
        problems.extend(check_key(&req, model));
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let number = job.run.as_ref().map_or(1, |r| r.number + 1);
        let now = now_rfc3339();
        let started = ImportJob {
            status: ImportStatus::Running,
            run: Some(RunSettings {
                number,
                spec: raw_spec,
                mode: req.mode,
                key: req.key.clone(),
                duplicates,
                dry_run: req.dry_run,
                started_by: p.actor.clone(),
                started_at: now.clone(),
            }),
            error: None,
            error_report_key: None,
            finished_at: None,
            updated_at: now,
            ..job.clone()
        };
        self.store.transition(&started, &[job.status], true).await.map_err(|e| match e {
            StoreError::WrongState => ServiceError::Conflict("the import changed meanwhile; read it again".into()),
            other => other.into(),
        })?;
        if !req.dry_run {
            self.store.save_mapping(&p.tenant, &model.name, &req.mapping).await?;
        }
        if plan.chunks.is_empty() {
            // nothing to fan out: the run is complete as soon as it starts
            crate::finish::finish(self.store.as_ref(), self.files.as_ref(), self.publisher.as_ref(), &p.tenant, id)
                .await?;
        } else {
            let messages: Vec<ChunkMessage> = plan
                .chunks
                .iter()
                .map(|c| ChunkMessage {
                    tenant: p.tenant.clone(),
                    import_id: id.to_owned(),
                    run: number,
                    chunk: c.index,
                })
                .collect();
            self.queue.send(&messages).await?;
        }
        self.get(&p.tenant, id).await
    }

    /// Stops a running import (chunks in flight stop at their next batch) or one not started yet.
    pub async fn cancel(&self, p: &Principal, id: &str) -> Result<ImportJob, ServiceError> {
        let job = self.get(&p.tenant, id).await?;
        if job.status.is_final() {
            return Err(ServiceError::Conflict(format!("the import is already {}", job.status.as_str())));
        }
        let now = now_rfc3339();
        let cancelled = ImportJob {
            status: ImportStatus::Cancelled,
            finished_at: Some(now.clone()),
            updated_at: now,
            ..job.clone()
        };
        match self.store.transition(&cancelled, &[job.status], false).await {
            Ok(()) => {}
            Err(StoreError::WrongState) => {
                return Err(ServiceError::Conflict("the import changed meanwhile; read it again".into()));
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(upload_id) = &job.multipart_upload_id
            && job.status == ImportStatus::AwaitingUpload
        {
            let _ = self.files.abort_multipart(&job.file_key, upload_id).await;
        }
        let _ = self
            .publisher
            .publish(&[Envelope::new(
                "import.cancelled",
                &p.tenant,
                json!({"id": id, "entity": job.entity, "cancelled_by": p.actor}),
            )])
            .await;
        self.get(&p.tenant, id).await
    }

    /// Runs the failed chunks of a failed run again.
    pub async fn retry(&self, p: &Principal, id: &str) -> Result<ImportJob, ServiceError> {
        let job = self.get(&p.tenant, id).await?;
        let run = job.run.clone().ok_or_else(|| ServiceError::Conflict("the import was never started".into()))?;
        if job.status != ImportStatus::Failed || job.counts.chunks_failed == 0 {
            return Err(ServiceError::Conflict("only an import that failed in some chunks can be retried".into()));
        }
        let failed: Vec<usize> = self
            .store
            .chunks(&p.tenant, id, run.number)
            .await?
            .into_iter()
            .filter(|(_, o)| o.state == crate::ChunkState::Failed)
            .map(|(i, _)| i)
            .collect();
        let now = now_rfc3339();
        let running =
            ImportJob { status: ImportStatus::Running, error: None, finished_at: None, updated_at: now, ..job.clone() };
        self.store.transition(&running, &[ImportStatus::Failed], false).await.map_err(|e| match e {
            StoreError::WrongState => ServiceError::Conflict("the import changed meanwhile; read it again".into()),
            other => other.into(),
        })?;
        self.store.forget_failed_chunks(&p.tenant, id, run.number, &failed).await?;
        let messages: Vec<ChunkMessage> = failed
            .iter()
            .map(|&chunk| ChunkMessage { tenant: p.tenant.clone(), import_id: id.to_owned(), run: run.number, chunk })
            .collect();
        self.queue.send(&messages).await?;
        self.get(&p.tenant, id).await
    }
}

/// The key names fields of the model; upsert needs one; each key field must be unique in the model, because
/// stored records are found by their unique-value claims (an index, not a scan).
fn check_key(req: &StartRequest, model: &Model) -> Vec<Invalid> {
    let mut problems = Vec::new();
    if req.mode == Mode::Upsert && req.key.is_empty() {
        problems.push(Invalid::new(
            "/key",
            "key-required",
            "upsert finds stored records by `key`: name a unique field",
        ));
    }
    for (i, name) in req.key.iter().enumerate() {
        match model.fields.iter().find(|f| f.name == *name) {
            None => problems.push(Invalid::new(
                format!("/key/{i}"),
                "unknown-field",
                format!("`{}` has no field `{name}`", model.name),
            )),
            Some(f) if !f.unique => problems.push(Invalid::new(
                format!("/key/{i}"),
                "key-not-unique",
                format!(
                    "`{name}` is not a unique field; keys must be unique fields so stored records can be found by them"
                ),
            )),
            Some(_) if !req.mapping.values().any(|v| v == name) && !req.rules.contains_key(name) => problems
                .push(Invalid::new(format!("/key/{i}"), "key-not-mapped", format!("no column is mapped to `{name}`"))),
            Some(_) => {}
        }
    }
    problems
}
