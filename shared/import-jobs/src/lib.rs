//! Import jobs: what a user's import is at every step, and where that is kept.
//!
//! The life of an import: `awaiting_upload` (the API handed out a presigned upload) → `planning` (the upload's S3
//! event reached the planner) → `ready` (format, columns, typed preview, suggested mapping and chunk plan known) →
//! `running` (the user started it; chunks fan out to the chunk processors) → `completed`, `failed` or
//! `cancelled`. A dry run ends `completed` with `dry_run` set and may be started again for real.
//!
//! Counters (rows ok / failed / skipped, chunks done / failed) live in attributes of their own, so chunk
//! processors running in parallel add to them atomically, each chunk exactly once per run.

#[cfg(feature = "dynamodb")]
pub mod dynamo;
mod finish;
mod format;
mod ids;
pub mod memory;
pub mod planner;
mod ports;
pub mod processor;
pub mod queue;
mod report;
pub mod service;
mod source;
mod spec;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use format::FormatInfo;
pub use ports::{ChunkOutcome, ChunkProgress, ChunkState, ImportStore, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    AwaitingUpload,
    Planning,
    Ready,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingUpload => "awaiting_upload",
            Self::Planning => "planning",
            Self::Ready => "ready",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }

    /// No chunk works on the import any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// One detected column, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: String,
    pub nullable: bool,
    pub samples: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
    /// Several date formats fit every value (day-first or month-first): the user picks one with a `date_format`
    /// rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub date_candidates: Vec<String>,
}

/// A piece of the file one chunk processor handles: a byte range (text formats) or a row range (spreadsheets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkRange {
    pub index: usize,
    /// Bytes (end exclusive) of text formats; 0-based data-row indexes (end exclusive) of a sheet.
    pub start: u64,
    pub end: u64,
    /// The row number people see for the chunk's first record (spreadsheet row, CSV record counting the header).
    pub first_row: u64,
    pub rows: u64,
}

/// What planning found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format: FormatInfo,
    pub columns: Vec<ColumnInfo>,
    /// The first rows, each value converted to the detected column type (strings where conversion fails).
    pub preview: Vec<Map<String, Value>>,
    /// column → field
    pub suggested_mapping: BTreeMap<String, String>,
    pub total_rows: u64,
    pub chunks: Vec<ChunkRange>,
    /// Workbooks: the sheet read, as the chunk processors need it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<hw_import::SheetInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Only creates records; rows matching a stored record or an earlier row by `key` follow `duplicates`.
    #[default]
    Insert,
    /// Creates records whose key is new and changes the ones whose key matches (incremental imports).
    Upsert,
}

/// What becomes of a row whose key matches a stored record (or an earlier row of the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duplicates {
    /// Leave the stored record alone; the row counts as skipped (insert mode's default).
    Skip,
    /// Report the row as failed (insert mode).
    Fail,
    /// Write every mapped field; an empty cell clears the field (upsert mode).
    Update,
    /// Write only the row's non-empty values (upsert mode's default).
    Merge,
}

/// How the user started the import (`POST /v1/imports/{id}/start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// 1 for the first start, +1 for each later one (a real run after a dry run). Chunk bookkeeping is per run.
    pub number: u32,
    /// The body's `mapping` and `rules` as accepted (checked against the columns and the model by the API; each
    /// chunk processor compiles it again).
    pub spec: Value,
    pub mode: Mode,
    pub key: Vec<String>,
    pub duplicates: Duplicates,
    pub dry_run: bool,
    pub started_by: String,
    pub started_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Counts {
    pub total: u64,
    pub ok: u64,
    pub failed: u64,
    pub skipped: u64,
    pub chunks_done: u64,
    pub chunks_failed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportJob {
    pub id: String,
    pub tenant: String,
    pub entity: String,
    /// The name the user gave the file (used for format hints and the history).
    pub file_name: String,
    /// Where the upload lands in the files bucket.
    pub file_key: String,
    pub status: ImportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The sheet to read from a workbook (default: the first one with data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipart_upload_id: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunSettings>,
    /// Kept in counters of their own in storage; filled in on reads.
    #[serde(default)]
    pub counts: Counts,
    /// Why planning or processing failed, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_report_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

impl ImportJob {
    /// Key of the upload: the tenant and the import are in it, so the planner needs no lookup table.
    pub fn upload_key(tenant: &str, id: &str, file_name: &str) -> String {
        format!("uploads/{tenant}/{id}/{}", safe_file_name(file_name))
    }

    /// (tenant, import id) of an upload key made by [`ImportJob::upload_key`].
    pub fn parse_upload_key(key: &str) -> Option<(&str, &str)> {
        let mut parts = key.strip_prefix("uploads/")?.splitn(3, '/');
        let tenant = parts.next().filter(|t| !t.is_empty())?;
        let id = parts.next().filter(|t| !t.is_empty())?;
        parts.next()?;
        Some((tenant, id))
    }

    pub fn report_key(&self, run: u32) -> String {
        format!("reports/{}/{}/run-{run}/errors.csv", self.tenant, self.id)
    }

    /// Where chunk `index` of run `run` puts its failed rows until the report is assembled.
    pub fn report_part_key(&self, run: u32, index: usize) -> String {
        format!("reports/{}/{}/run-{run}/parts/{index:06}.csv", self.tenant, self.id)
    }

    pub fn chunk_count(&self) -> u64 {
        self.plan.as_ref().map_or(0, |p| p.chunks.len() as u64)
    }
}

/// Keeps letters, digits, `.`, `-` and `_` of a user's file name (others become `_`), at most 100 characters, so
/// the object key is predictable and safe in URLs and S3 notifications.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .take(100)
        .collect();
    let trimmed = cleaned.trim_start_matches('.');
    if trimmed.is_empty() { "upload".to_owned() } else { trimmed.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_keys_round_trip() {
        let key = ImportJob::upload_key("acme", "01J", "../My File (1).csv");
        assert_eq!(key, "uploads/acme/01J/My_File__1_.csv");
        assert_eq!(ImportJob::parse_upload_key(&key), Some(("acme", "01J")));
        assert_eq!(ImportJob::parse_upload_key("uploads/acme/01J"), None);
        assert_eq!(ImportJob::parse_upload_key("exports/acme/01J/x"), None);
        assert_eq!(safe_file_name("..."), "upload");
        assert_eq!(safe_file_name("C:\\data\\x.xlsx"), "x.xlsx");
    }

    #[test]
    fn statuses_spell_like_the_api() {
        assert_eq!(ImportStatus::parse("awaiting_upload"), Some(ImportStatus::AwaitingUpload));
        assert_eq!(ImportStatus::Cancelled.as_str(), "cancelled");
        assert!(ImportStatus::parse("done").is_none());
        assert!(ImportStatus::Failed.is_final() && !ImportStatus::Running.is_final());
    }
}
