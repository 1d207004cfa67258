//! In-memory adapters for tests, with the same conditions as the DynamoDB ones.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::job::{ExportJob, ExportStatus, ExportTemplate};
use crate::ports::{
    Claim, ExportMessage, ExportQueue, ExportStore, ExportStoreError, Finish, JobPage, JobQuery, QueueError,
};

#[derive(Default)]
pub struct MemoryExportStore {
    /// (tenant, id) → job; ids sort by time, so the map's order is the history's.
    jobs: Mutex<BTreeMap<(String, String), ExportJob>>,
    templates: Mutex<BTreeMap<(String, String), ExportTemplate>>,
    /// When set, every call fails as if the table were unavailable.
    pub fail: std::sync::atomic::AtomicBool,
}

fn key(tenant: &str, id: &str) -> (String, String) {
    (tenant.to_owned(), id.to_owned())
}

impl MemoryExportStore {
    fn check(&self) -> Result<(), ExportStoreError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ExportStoreError::Backend("table unavailable (test)".into()));
        }
        Ok(())
    }

    /// Changes a stored job directly (tests simulate crashes and expired leases with it).
    pub fn update_job(&self, tenant: &str, id: &str, f: impl FnOnce(&mut ExportJob)) {
        if let Some(j) = self.jobs.lock().expect("lock").get_mut(&key(tenant, id)) {
            f(j);
        }
    }
}

#[async_trait]
impl ExportStore for MemoryExportStore {
    async fn create_job(&self, job: &ExportJob) -> Result<bool, ExportStoreError> {
        self.check()?;
        let mut jobs = self.jobs.lock().expect("lock");
        let k = key(&job.tenant, &job.id);
        if jobs.contains_key(&k) {
            return Ok(false);
        }
        jobs.insert(k, job.clone());
        Ok(true)
    }

    async fn get_job(&self, tenant: &str, id: &str) -> Result<Option<ExportJob>, ExportStoreError> {
        self.check()?;
        Ok(self.jobs.lock().expect("lock").get(&key(tenant, id)).cloned())
    }

    async fn list_jobs(&self, tenant: &str, q: &JobQuery) -> Result<JobPage, ExportStoreError> {
        self.check()?;
        let jobs = self.jobs.lock().expect("lock");
        let mut items: Vec<ExportJob> = jobs
            .iter()
            .rev()
            .filter(|((t, id), _)| t == tenant && q.before.as_ref().is_none_or(|b| id < b))
            .map(|(_, j)| j)
            .filter(|j| q.status.is_none_or(|s| j.status == s) && q.entity.as_ref().is_none_or(|e| &j.spec.entity == e))
            .take(q.limit + 1)
            .cloned()
            .collect();
        let next = if items.len() > q.limit {
            items.truncate(q.limit);
            items.last().map(|j| j.id.clone())
        } else {
            None
        };
        Ok(JobPage { items, next })
    }

    async fn delete_job(&self, tenant: &str, id: &str) -> Result<(), ExportStoreError> {
        self.check()?;
        self.jobs.lock().expect("lock").remove(&key(tenant, id));
        Ok(())
    }

    async fn claim(
        &self,
        tenant: &str,
        id: &str,
        now: &str,
        now_ms: i64,
        lease_until_ms: i64,
        token: &str,
    ) -> Result<Claim, ExportStoreError> {
        self.check()?;
        let mut jobs = self.jobs.lock().expect("lock");
        let Some(j) = jobs.get_mut(&key(tenant, id)) else { return Ok(Claim::Missing) };
        let claimable = match j.status {
            ExportStatus::Queued => true,
            ExportStatus::Running => j.lease_until_ms.is_none_or(|l| l < now_ms),
            _ => false,
        };
        if !claimable {
            return Ok(if j.status.is_finished() { Claim::Finished(j.clone()) } else { Claim::Busy });
        }
        j.status = ExportStatus::Running;
        j.lease_until_ms = Some(lease_until_ms);
        j.claim_token = Some(token.to_owned());
        j.started_at = Some(now.to_owned());
        j.attempts += 1;
        Ok(Claim::Claimed(j.clone()))
    }

    async fn release(&self, tenant: &str, id: &str, token: &str) -> Result<(), ExportStoreError> {
        self.check()?;
        let mut jobs = self.jobs.lock().expect("lock");
        match jobs.get_mut(&key(tenant, id)) {
            Some(j) if j.status == ExportStatus::Running && j.claim_token.as_deref() == Some(token) => {
                j.status = ExportStatus::Queued;
                j.lease_until_ms = None;
                j.claim_token = None;
                Ok(())
            }
            Some(_) => Err(ExportStoreError::Conflict),
            None => Err(ExportStoreError::NotFound),
        }
    }

    async fn finish(
        &self,
        tenant: &str,
        id: &str,
        token: &str,
        finish: &Finish,
        now: &str,
    ) -> Result<ExportJob, ExportStoreError> {
        self.check()?;
        let mut jobs = self.jobs.lock().expect("lock");
        let j = jobs.get_mut(&key(tenant, id)).ok_or(ExportStoreError::NotFound)?;
        if j.status != ExportStatus::Running || j.claim_token.as_deref() != Some(token) {
            return Err(ExportStoreError::Conflict);
        }
        match finish {
            Finish::Completed { rows, bytes, file_key, file_name } => {
                j.status = ExportStatus::Completed;
                j.rows = *rows;
                j.bytes = *bytes;
                j.file_key = Some(file_key.clone());
                j.file_name = Some(file_name.clone());
            }
            Finish::Failed { error } => {
                j.status = ExportStatus::Failed;
                j.error = Some(error.clone());
            }
        }
        j.finished_at = Some(now.to_owned());
        j.lease_until_ms = None;
        j.claim_token = None;
        Ok(j.clone())
    }

    async fn mark_notified(&self, tenant: &str, id: &str) -> Result<(), ExportStoreError> {
        self.check()?;
        self.update_job(tenant, id, |j| j.notified = true);
        Ok(())
    }

    async fn create_template(&self, t: &ExportTemplate) -> Result<(), ExportStoreError> {
        self.check()?;
        let mut templates = self.templates.lock().expect("lock");
        if templates.contains_key(&key(&t.tenant, &t.id)) {
            return Err(ExportStoreError::AlreadyExists);
        }
        templates.insert(key(&t.tenant, &t.id), t.clone());
        Ok(())
    }

    async fn get_template(&self, tenant: &str, id: &str) -> Result<Option<ExportTemplate>, ExportStoreError> {
        self.check()?;
        Ok(self.templates.lock().expect("lock").get(&key(tenant, id)).cloned())
    }

    async fn list_templates(&self, tenant: &str) -> Result<Vec<ExportTemplate>, ExportStoreError> {
        self.check()?;
        Ok(self.templates.lock().expect("lock").values().filter(|t| t.tenant == tenant).cloned().collect())
    }

    async fn replace_template(&self, t: &ExportTemplate, expected: u64) -> Result<(), ExportStoreError> {
        self.check()?;
        let mut templates = self.templates.lock().expect("lock");
        match templates.get_mut(&key(&t.tenant, &t.id)) {
            None => Err(ExportStoreError::NotFound),
            Some(stored) if stored.version != expected => Err(ExportStoreError::Conflict),
            Some(stored) => {
                *stored = t.clone();
                Ok(())
            }
        }
    }

    async fn delete_template(&self, tenant: &str, id: &str) -> Result<(), ExportStoreError> {
        self.check()?;
        self.templates.lock().expect("lock").remove(&key(tenant, id));
        Ok(())
    }
}

/// Remembers what was enqueued.
#[derive(Default)]
pub struct MemoryExportQueue {
    pub messages: Mutex<Vec<ExportMessage>>,
}

impl MemoryExportQueue {
    pub fn take(&self) -> Vec<ExportMessage> {
        std::mem::take(&mut *self.messages.lock().expect("lock"))
    }
}

#[async_trait]
impl ExportQueue for MemoryExportQueue {
    async fn enqueue(&self, message: &ExportMessage) -> Result<(), QueueError> {
        self.messages.lock().expect("lock").push(message.clone());
        Ok(())
    }
}
