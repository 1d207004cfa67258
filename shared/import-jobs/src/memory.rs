//! In-memory [`ImportStore`] for tests, with the same conditional semantics as the DynamoDB adapter.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::ports::{ChunkOutcome, ChunkProgress, ChunkState, ImportStore, StoreError};
use crate::{Counts, ImportJob, ImportStatus};

#[derive(Default)]
pub struct MemoryImports {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// (tenant, id) → job (its `counts` are the counters)
    jobs: BTreeMap<(String, String), ImportJob>,
    chunks: HashMap<(String, String, u32), BTreeMap<usize, ChunkOutcome>>,
    progress: HashMap<(String, String, u32), BTreeMap<usize, ChunkProgress>>,
    mappings: HashMap<(String, String), BTreeMap<String, String>>,
}

impl MemoryImports {
    pub fn new() -> Self {
        Self::default()
    }
}

fn add(counts: &mut Counts, o: &ChunkOutcome, sign: i64) {
    let apply = |v: &mut u64, d: u64| *v = (*v as i64 + sign * d as i64).max(0) as u64;
    apply(&mut counts.ok, o.ok);
    apply(&mut counts.failed, o.failed);
    apply(&mut counts.skipped, o.skipped);
    apply(&mut counts.total, o.ok + o.failed + o.skipped);
    match o.state {
        ChunkState::Done => apply(&mut counts.chunks_done, 1),
        ChunkState::Failed => apply(&mut counts.chunks_failed, 1),
    }
}

#[async_trait]
impl ImportStore for MemoryImports {
    async fn create(&self, job: &ImportJob) -> Result<(), StoreError> {
        let mut inner = self.inner.lock().expect("lock");
        let k = (job.tenant.clone(), job.id.clone());
        if inner.jobs.contains_key(&k) {
            return Err(StoreError::AlreadyExists);
        }
        inner.jobs.insert(k, job.clone());
        Ok(())
    }

    async fn get(&self, tenant: &str, id: &str) -> Result<Option<ImportJob>, StoreError> {
        Ok(self.inner.lock().expect("lock").jobs.get(&(tenant.to_owned(), id.to_owned())).cloned())
    }

    async fn list(
        &self,
        tenant: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<ImportJob>, Option<String>), StoreError> {
        let inner = self.inner.lock().expect("lock");
        let mut jobs: Vec<&ImportJob> =
            inner.jobs.values().filter(|j| j.tenant == tenant && after.is_none_or(|a| j.id.as_str() < a)).collect();
        jobs.sort_by(|a, b| b.id.cmp(&a.id));
        let more = jobs.len() > limit;
        let page: Vec<ImportJob> = jobs.into_iter().take(limit).cloned().collect();
        let next = if more { page.last().map(|j| j.id.clone()) } else { None };
        Ok((page, next))
    }

    async fn transition(&self, job: &ImportJob, from: &[ImportStatus], reset_counts: bool) -> Result<(), StoreError> {
        let mut inner = self.inner.lock().expect("lock");
        let stored = inner.jobs.get_mut(&(job.tenant.clone(), job.id.clone())).ok_or(StoreError::WrongState)?;
        if !from.contains(&stored.status) {
            return Err(StoreError::WrongState);
        }
        let counts = if reset_counts { Counts::default() } else { stored.counts };
        *stored = ImportJob { counts, ..job.clone() };
        Ok(())
    }

    async fn record_chunk(
        &self,
        tenant: &str,
        id: &str,
        run: u32,
        index: usize,
        outcome: &ChunkOutcome,
    ) -> Result<(bool, Counts), StoreError> {
        let mut inner = self.inner.lock().expect("lock");
        let recorded = inner.chunks.entry((tenant.to_owned(), id.to_owned(), run)).or_default();
        let first = !recorded.contains_key(&index);
        if first {
            recorded.insert(index, outcome.clone());
        }
        let job = inner.jobs.get_mut(&(tenant.to_owned(), id.to_owned())).ok_or(StoreError::WrongState)?;
        if first {
            add(&mut job.counts, outcome, 1);
        }
        Ok((first, job.counts))
    }

    async fn chunk(&self, tenant: &str, id: &str, run: u32, index: usize) -> Result<Option<ChunkOutcome>, StoreError> {
        let inner = self.inner.lock().expect("lock");
        Ok(inner.chunks.get(&(tenant.to_owned(), id.to_owned(), run)).and_then(|c| c.get(&index)).cloned())
    }

    async fn chunks(&self, tenant: &str, id: &str, run: u32) -> Result<BTreeMap<usize, ChunkOutcome>, StoreError> {
        let inner = self.inner.lock().expect("lock");
        Ok(inner.chunks.get(&(tenant.to_owned(), id.to_owned(), run)).cloned().unwrap_or_default())
    }

    async fn report_progress(
        &self,
        tenant: &str,
        id: &str,
        run: u32,
        index: usize,
        progress: ChunkProgress,
    ) -> Result<(), StoreError> {
        let mut inner = self.inner.lock().expect("lock");
        inner.progress.entry((tenant.to_owned(), id.to_owned(), run)).or_default().insert(index, progress);
        Ok(())
    }

    async fn progress(&self, tenant: &str, id: &str, run: u32) -> Result<BTreeMap<usize, ChunkProgress>, StoreError> {
        let inner = self.inner.lock().expect("lock");
        Ok(inner.progress.get(&(tenant.to_owned(), id.to_owned(), run)).cloned().unwrap_or_default())
    }

    async fn forget_failed_chunks(
        &self,
        tenant: &str,
        id: &str,
        run: u32,
        indexes: &[usize],
    ) -> Result<(), StoreError> {
        let mut inner = self.inner.lock().expect("lock");
        let mut removed = Vec::new();
        if let Some(recorded) = inner.chunks.get_mut(&(tenant.to_owned(), id.to_owned(), run)) {
            for i in indexes {
                if recorded.get(i).is_some_and(|o| o.state == ChunkState::Failed) {
                    removed.extend(recorded.remove(i));
                }
            }
        }
        if let Some(job) = inner.jobs.get_mut(&(tenant.to_owned(), id.to_owned())) {
            for o in &removed {
                add(&mut job.counts, o, -1);
            }
        }
        Ok(())
    }

    async fn last_mapping(&self, tenant: &str, entity: &str) -> Result<BTreeMap<String, String>, StoreError> {
        let inner = self.inner.lock().expect("lock");
        Ok(inner.mappings.get(&(tenant.to_owned(), entity.to_owned())).cloned().unwrap_or_default())
    }

    async fn save_mapping(
        &self,
        tenant: &str,
        entity: &str,
        mapping: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.inner.lock().expect("lock").mappings.insert((tenant.to_owned(), entity.to_owned()), mapping.clone());
        Ok(())
    }
}
