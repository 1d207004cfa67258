//! The end of a run: once every chunk is recorded, assemble the error report, settle the status and announce it.
//! Several chunk processors may get here at once; the conditional status change lets exactly one of them announce.

use std::io::Write as _;

use hw_aws::events::EventPublisher;
use hw_domain::event::{Envelope, now_rfc3339};
use hw_files::FileStore;
use serde_json::json;

use crate::report::HEADER;
use crate::{ChunkState, ImportJob, ImportStatus, ImportStore, StoreError};

pub async fn finish(
    store: &dyn ImportStore,
    files: &dyn FileStore,
    publisher: &dyn EventPublisher,
    tenant: &str,
    id: &str,
) -> Result<(), StoreError> {
    let Some(job) = store.get(tenant, id).await? else { return Ok(()) };
    let Some(run) = job.run.clone() else { return Ok(()) };
    if job.status != ImportStatus::Running {
        return Ok(());
    }
    let total = job.chunk_count();
    if job.counts.chunks_done + job.counts.chunks_failed < total {
        return Ok(());
    }
    let chunks = store.chunks(tenant, id, run.number).await?;
    let failed_chunks = chunks.values().filter(|o| o.state == ChunkState::Failed).count();
    let mut report_key = None;
    let parts: Vec<&String> = chunks.values().filter_map(|o| o.report_part.as_ref()).collect();
    if !parts.is_empty() {
        // Spooled to a temporary file one part (one chunk's errors) at a time, then uploaded from it: a file whose
        // every row fails has a report about as large as itself, which must not have to fit in memory.
        let io = |e: std::io::Error| StoreError::Backend(format!("error report spool: {e}"));
        let mut spool = tempfile::NamedTempFile::new().map_err(io)?;
        spool.write_all(HEADER.as_bytes()).map_err(io)?;
        for part in parts {
            let bytes = files
                .get_range(part, 0, u64::MAX)
                .await
                .map_err(|e| StoreError::Backend(format!("error report part {part}: {e}")))?;
            spool.write_all(&bytes).map_err(io)?;
        }
        spool.flush().map_err(io)?;
        let key = job.report_key(run.number);
        files
            .put_file(&key, spool.path(), "text/csv; charset=utf-8")
            .await
            .map_err(|e| StoreError::Backend(format!("error report: {e}")))?;
        report_key = Some(key);
    }
    let now = now_rfc3339();
    let (status, error) = if failed_chunks > 0 {
        (
            ImportStatus::Failed,
            Some(format!(
                "{failed_chunks} of {total} chunks could not be processed ({}); POST /v1/imports/{id}/retry runs them again",
                chunks.values().find_map(|o| o.error.clone()).unwrap_or_else(|| "no reason recorded".into())
            )),
        )
    } else {
        (ImportStatus::Completed, None)
    };
    let done = ImportJob {
        status,
        error: error.clone(),
        error_report_key: report_key.clone(),
        finished_at: Some(now.clone()),
        updated_at: now.clone(),
        ..job.clone()
    };
    match store.transition(&done, &[ImportStatus::Running], false).await {
        Ok(()) => {}
        // another processor finished it, or it was cancelled meanwhile
        Err(StoreError::WrongState) => return Ok(()),
        Err(e) => return Err(e),
    }
    let duration_ms = chrono::DateTime::parse_from_rfc3339(&run.started_at)
        .ok()
        .zip(chrono::DateTime::parse_from_rfc3339(&now).ok())
        .map(|(a, b)| (b - a).num_milliseconds().max(0));
    let event_type = if status == ImportStatus::Completed { "import.completed" } else { "import.failed" };
    let event = Envelope::new(
        event_type,
        tenant,
        json!({
            "id": id,
            "entity": job.entity,
            "file_name": job.file_name,
            "run": run.number,
            "dry_run": run.dry_run,
            "mode": run.mode,
            "counts": {"total": job.counts.total, "ok": job.counts.ok, "failed": job.counts.failed, "skipped": job.counts.skipped},
            "error_report": report_key.is_some(),
            "error": error,
            "duration_ms": duration_ms,
            "started_by": run.started_by,
        }),
    );
    if let Err(e) = publisher.publish(&[event]).await {
        tracing::warn!(error = %e, import = id, "the import finished but its event could not be published");
    }
    Ok(())
}

/// Marks an import failed before it ran (planning failed) and announces it.
pub async fn fail_before_run(
    store: &dyn ImportStore,
    publisher: &dyn EventPublisher,
    job: &ImportJob,
    from: ImportStatus,
    reason: String,
) -> Result<(), StoreError> {
    let now = now_rfc3339();
    let failed = ImportJob {
        status: ImportStatus::Failed,
        error: Some(reason.clone()),
        finished_at: Some(now.clone()),
        updated_at: now,
        ..job.clone()
    };
    match store.transition(&failed, &[from], false).await {
        Ok(()) => {}
        Err(StoreError::WrongState) => return Ok(()),
        Err(e) => return Err(e),
    }
    let event = Envelope::new(
        "import.failed",
        &job.tenant,
        json!({"id": job.id, "entity": job.entity, "file_name": job.file_name, "run": 0, "dry_run": false, "error": reason}),
    );
    if let Err(e) = publisher.publish(&[event]).await {
        tracing::warn!(error = %e, import = %job.id, "import.failed could not be published");
    }
    Ok(())
}
