//! The storage port of import jobs.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Counts, ImportJob, ImportStatus};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("the import already exists")]
    AlreadyExists,
    #[error("the import is not in a state that allows this")]
    WrongState,
    #[error("storage failed: {0}")]
    Backend(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkState {
    /// Every row was handled (written, skipped or reported).
    Done,
    /// The chunk could not be processed (storage or file unreachable after retries); `POST …/retry` runs it again.
    Failed,
}

/// What one chunk did in one run; recorded once, and added to the job's counters in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkOutcome {
    pub state: ChunkState,
    pub rows: u64,
    pub ok: u64,
    pub failed: u64,
    pub skipped: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The chunk's part of the error report, when some rows failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_part: Option<String>,
}

/// Rows a chunk has handled so far in a run, reported while it works: overwritten each time, never added up, so a
/// repeated report (or a chunk processed again) cannot count a row twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkProgress {
    pub ok: u64,
    pub failed: u64,
    pub skipped: u64,
}

#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Stores a new job; `AlreadyExists` when its id is taken.
    async fn create(&self, job: &ImportJob) -> Result<(), StoreError>;
    /// The job with its current counters.
    async fn get(&self, tenant: &str, id: &str) -> Result<Option<ImportJob>, StoreError>;
    /// The tenant's imports, newest first; the second value continues the listing.
    async fn list(
        &self,
        tenant: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<ImportJob>, Option<String>), StoreError>;
    /// Replaces the job (not its counters) if its stored status is one of `from`; `WrongState` otherwise. With
    /// `reset_counts` the counters start again from zero (a new run).
    async fn transition(&self, job: &ImportJob, from: &[ImportStatus], reset_counts: bool) -> Result<(), StoreError>;
    /// Records chunk `index` of run `run` and adds its numbers to the job's counters, atomically and only the
    /// first time (a retried message changes nothing). Returns whether this call recorded it, and the counters
    /// afterwards.
    async fn record_chunk(
        &self,
        tenant: &str,
        id: &str,
        run: u32,
        index: usize,
        outcome: &ChunkOutcome,
    ) -> Result<(bool, Counts), StoreError>;
    /// Chunk `index` of run `run`, if recorded (one read: a processor's check for a repeated message).
    async fn chunk(&self, tenant: &str, id: &str, run: u32, index: usize) -> Result<Option<ChunkOutcome>, StoreError>;
    /// The recorded chunks of a run, by index.
    async fn chunks(&self, tenant: &str, id: &str, run: u32) -> Result<BTreeMap<usize, ChunkOutcome>, StoreError>;
    /// Replaces what chunk `index` of run `run` reports having handled so far.
    async fn report_progress(
        &self,
        tenant: &str,
        id: &str,
        run: u32,
        index: usize,
        progress: ChunkProgress,
    ) -> Result<(), StoreError>;
    /// The progress last reported by each chunk of a run, by index (recorded chunks included).
    async fn progress(&self, tenant: &str, id: &str, run: u32) -> Result<BTreeMap<usize, ChunkProgress>, StoreError>;
    /// Forgets failed chunks of a run (and takes them off the counters) so they can run again.
    async fn forget_failed_chunks(&self, tenant: &str, id: &str, run: u32, indexes: &[usize])
    -> Result<(), StoreError>;
    /// The mapping the tenant confirmed last for `entity` (column → field), to suggest it again.
    async fn last_mapping(&self, tenant: &str, entity: &str) -> Result<BTreeMap<String, String>, StoreError>;
    async fn save_mapping(
        &self,
        tenant: &str,
        entity: &str,
        mapping: &BTreeMap<String, String>,
    ) -> Result<(), StoreError>;
}
