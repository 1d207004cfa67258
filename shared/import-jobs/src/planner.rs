//! Planning an uploaded file: format, columns and their types (from samples spread over the whole file), a typed
//! preview, a suggested mapping, and the chunks the processors will read.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::sync::Arc;

use hw_aws::events::EventPublisher;
use hw_domain::event::now_rfc3339;
use hw_domain::model::FieldType;
use hw_files::FileStore;
use hw_import::{ColumnType, Sniffed, Table, detect_types, plan_chunks, read_chunk, records, sniff, suggest_mapping};
use hw_store::ports::ControlStore;
use serde_json::{Map, Value};

use crate::service::ImportLimits;
use crate::{ChunkRange, ColumnInfo, FormatInfo, ImportJob, ImportStatus, ImportStore, Plan, StoreError};

/// Bytes read to recognise the format and build the preview.
const SAMPLE_BYTES: u64 = 1024 * 1024;
/// Rows shown in the preview.
const PREVIEW_ROWS: usize = 20;
/// Chunks sampled for type detection besides the first, spread evenly over the file.
const SAMPLED_CHUNKS: usize = 6;
/// Rows taken from each sampled chunk.
const ROWS_PER_SAMPLE: usize = 400;

pub struct PlannerDeps {
    pub store: Arc<dyn ImportStore>,
    pub files: Arc<dyn FileStore>,
    pub control: Arc<dyn ControlStore>,
    pub publisher: Arc<dyn EventPublisher>,
    pub limits: ImportLimits,
    /// Bytes per chunk of text formats.
    pub chunk_bytes: usize,
    /// Rows per chunk of spreadsheets.
    pub sheet_chunk_rows: usize,
    pub spreadsheet_limits: hw_import::SpreadsheetLimits,
    /// Where the upload is spooled while planning (Lambda: /tmp).
    pub scratch: std::path::PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

impl From<StoreError> for PlanError {
    fn from(e: StoreError) -> Self {
        Self(e.to_string())
    }
}

/// Plans the upload at `key` (from its S3 event). Returns an error only for what a retry may fix (storage
/// unreachable); a file that cannot be imported fails the import with the reason instead.
pub async fn plan_upload(deps: &PlannerDeps, key: &str) -> Result<(), PlanError> {
    let Some((tenant, id)) = ImportJob::parse_upload_key(key) else {
        tracing::warn!(key, "an object in uploads/ that no import made; ignored");
        return Ok(());
    };
    let Some(job) = deps.store.get(tenant, id).await? else {
        tracing::warn!(key, "upload for an unknown import; ignored");
        return Ok(());
    };
    if job.status != ImportStatus::AwaitingUpload || job.file_key != key {
        return Ok(()); // a repeated notification, or a second upload after planning started
    }
    let planning = ImportJob { status: ImportStatus::Planning, updated_at: now_rfc3339(), ..job.clone() };
    match deps.store.transition(&planning, &[ImportStatus::AwaitingUpload], false).await {
        Ok(()) => {}
        Err(StoreError::WrongState) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    match plan_file(deps, &planning).await {
        Ok(plan) => {
            let ready = ImportJob {
                status: ImportStatus::Ready,
                size: planning.size,
                plan: Some(plan),
                planned_at: Some(now_rfc3339()),
                updated_at: now_rfc3339(),
                ..planning.clone()
            };
            deps.store.transition(&ready, &[ImportStatus::Planning], false).await?;
            Ok(())
        }
        Err(Failure::Retry(reason)) => {
            // back to awaiting the upload, so the redelivered notification plans it again
            let back = ImportJob { status: ImportStatus::AwaitingUpload, ..planning.clone() };
            deps.store.transition(&back, &[ImportStatus::Planning], false).await?;
            Err(PlanError(reason))
        }
        Err(Failure::Refuse(reason)) => {
            crate::finish::fail_before_run(
                deps.store.as_ref(),
                deps.publisher.as_ref(),
                &planning,
                ImportStatus::Planning,
                reason,
            )
            .await?;
            Ok(())
        }
    }
}

enum Failure {
    /// Storage trouble: try again.
    Retry(String),
    /// The file cannot be imported; the reason is for the user.
    Refuse(String),
}

fn refuse(e: impl std::fmt::Display) -> Failure {
    Failure::Refuse(e.to_string())
}

async fn plan_file(deps: &PlannerDeps, job: &ImportJob) -> Result<Plan, Failure> {
    let model = deps
        .control
        .get_model(&job.tenant, &job.entity)
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?
        .ok_or_else(|| refuse(format!("the model `{}` no longer exists", job.entity)))?;
    let size = deps
        .files
        .head(&job.file_key)
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?
        .map(|o| o.size)
        .ok_or_else(|| Failure::Retry("the upload is not readable yet".into()))?;
    if size > deps.limits.max_file_bytes {
        return Err(refuse(format!(
            "the file has {size} bytes; the limit is {} bytes ({} MiB)",
            deps.limits.max_file_bytes,
            deps.limits.max_file_bytes / (1024 * 1024)
        )));
    }
    if size == 0 {
        return Err(refuse(hw_import::ImportError::Empty));
    }
    let spool = tempfile::NamedTempFile::new_in(&deps.scratch).map_err(|e| Failure::Retry(e.to_string()))?;
    deps.files.download_to(&job.file_key, spool.path()).await.map_err(|e| Failure::Retry(e.to_string()))?;
    let path = spool.path().to_owned();
    let file_name = job.file_name.clone();
    let sheet = job.sheet.clone();
    let chunk_bytes = deps.chunk_bytes;
    let sheet_rows = deps.sheet_chunk_rows;
    let limits = deps.spreadsheet_limits;
    // parsing is CPU work on a blocking file: keep it off the async workers
    let planned = tokio::task::spawn_blocking(move || {
        plan_local(&path, &file_name, sheet.as_deref(), chunk_bytes, sheet_rows, &limits)
    })
    .await
    .map_err(|e| Failure::Retry(format!("planning stopped: {e}")))??;
    drop(spool);
    let (format, table, types, total_rows, chunks, sheet_info) = planned;
    let mut suggested = suggest_mapping(&types, &model);
    let earlier = deps.store.last_mapping(&job.tenant, &job.entity).await.map_err(|e| Failure::Retry(e.to_string()))?;
    for (column, field) in earlier {
        if types.iter().any(|t| t.name == column) && model.fields.iter().any(|f| f.name == field) {
            suggested.retain(|_, f| *f != field);
            suggested.insert(column, field);
        }
    }
    Ok(Plan {
        format,
        columns: types.iter().map(column_info).collect(),
        preview: table.rows.iter().take(PREVIEW_ROWS).map(|r| typed_row(&table, r, &types)).collect(),
        suggested_mapping: suggested,
        total_rows,
        chunks,
        sheet: sheet_info,
    })
}

type Planned = (FormatInfo, Table, Vec<ColumnType>, u64, Vec<ChunkRange>, Option<hw_import::SheetInfo>);

fn plan_local(
    path: &std::path::Path,
    file_name: &str,
    sheet: Option<&str>,
    chunk_bytes: usize,
    sheet_rows: usize,
    limits: &hw_import::SpreadsheetLimits,
) -> Result<Planned, Failure> {
    let mut file = std::fs::File::open(path).map_err(|e| Failure::Retry(e.to_string()))?;
    let mut sample = Vec::with_capacity(SAMPLE_BYTES as usize);
    (&mut file).take(SAMPLE_BYTES).read_to_end(&mut sample).map_err(|e| Failure::Retry(e.to_string()))?;
    let sniffed = sniff(&sample, Some(file_name)).map_err(refuse)?;
    if let hw_import::Format::Spreadsheet { kind } = sniffed.format {
        let bytes = std::fs::read(path).map_err(|e| Failure::Retry(e.to_string()))?;
        let mut workbook = hw_import::open_workbook(&bytes, kind, limits).map_err(refuse)?;
        let names = workbook.sheet_names().to_vec();
        let mut info = workbook.sheet(sheet).map_err(refuse)?;
        if sheet.is_none() && info.data_rows == 0 {
            // the first sheet with a value may be a title page: take the first one holding a table
            for name in &names {
                let candidate = workbook.sheet(Some(name)).map_err(refuse)?;
                if candidate.data_rows > 0 {
                    info = candidate;
                    break;
                }
            }
        }
        let first = info.header_row + 1;
        let table = workbook.rows(&info, first, (first + 2_000).min(info.last_row + 1)).map_err(refuse)?;
        let types = detect_types(&table);
        let mut format = FormatInfo::from_sniffed(&sniffed);
        format.sheets = names;
        format.sheet = Some(info.name.clone());
        let chunks = hw_import::plan_sheet_chunks(&info, sheet_rows)
            .into_iter()
            .map(|c| ChunkRange {
                index: c.index,
                start: c.start_row as u64,
                end: c.end_row as u64,
                first_row: c.start_row as u64,
                rows: (c.end_row - c.start_row) as u64,
            })
            .collect();
        return Ok((format, table, types, info.data_rows as u64, chunks, Some(info)));
    }
    let text = hw_import::decode(&sample, sniffed.encoding);
    let complete = (sample.len() as u64) < SAMPLE_BYTES;
    // the sample may end inside a record: the table reader flags the cut last row, which the preview drops
    let mut table = records(&text, &sniffed, if complete { usize::MAX } else { 5_000 })
        .map_err(|e| if complete { refuse(e) } else { refuse(format!("{e} (in the first MiB of the file)")) })?;
    if !complete && table.rows.len() > 1 {
        table.rows.pop();
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| Failure::Retry(e.to_string()))?;
    let plan = plan_chunks(std::io::BufReader::new(&mut file), &sniffed, chunk_bytes).map_err(refuse)?;
    if !complete {
        add_later_keys(&mut file, &sniffed, &mut table, &plan)?;
    }
    let types = detect_types(&spread_sample(&mut file, &sniffed, &table, &plan)?);
    let chunks = plan
        .chunks
        .iter()
        .map(|c| ChunkRange {
            index: c.index,
            start: c.start,
            end: c.end,
            first_row: c.first_row as u64,
            rows: c.rows as u64,
        })
        .collect();
    Ok((FormatInfo::from_sniffed(&sniffed), table, types, plan.total_rows as u64, chunks, None))
}

/// Records of JSON, NDJSON and XML need not all have the same keys: the columns are every key of the file, in
/// first-seen order, not only those of the first MiB (a key that first appears later would otherwise never be
/// imported, without a word). Reads every chunk once more, one at a time; CSV columns are its header.
fn add_later_keys(
    file: &mut std::fs::File,
    sniffed: &Sniffed,
    table: &mut Table,
    plan: &hw_import::ChunkPlan,
) -> Result<(), Failure> {
    if matches!(sniffed.format, hw_import::Format::Csv) {
        return Ok(());
    }
    let mut known: std::collections::HashSet<String> = table.columns.iter().cloned().collect();
    for c in &plan.chunks {
        let bytes = chunk_bytes(file, c)?;
        for key in hw_import::chunk_keys(&bytes, sniffed).map_err(refuse)? {
            if known.insert(key.clone()) {
                table.columns.push(key);
            }
        }
    }
    let width = table.columns.len();
    for row in &mut table.rows {
        row.cells.resize(width, None);
    }
    Ok(())
}

/// The preview's rows plus rows from chunks spread over the file, so a column that turns from numbers to text
/// after the first megabyte is not typed as a number.
fn spread_sample(
    file: &mut std::fs::File,
    sniffed: &Sniffed,
    preview: &Table,
    plan: &hw_import::ChunkPlan,
) -> Result<Table, Failure> {
    let mut sample = preview.clone();
    let n = plan.chunks.len();
    if n <= 1 {
        return Ok(sample);
    }
    let picks: std::collections::BTreeSet<usize> = (1..=SAMPLED_CHUNKS).map(|i| i * (n - 1) / SAMPLED_CHUNKS).collect();
    for i in picks.into_iter().filter(|i| *i > 0) {
        let c = &plan.chunks[i];
        let bytes = chunk_bytes(file, c)?;
        let rows = read_chunk(&bytes, sniffed, &preview.columns, c.first_row).map_err(refuse)?;
        sample.rows.extend(rows.rows.into_iter().filter(|r| r.problem.is_none()).take(ROWS_PER_SAMPLE));
    }
    Ok(sample)
}

/// The bytes of one planned chunk of the spooled upload.
fn chunk_bytes(file: &mut std::fs::File, c: &hw_import::ByteChunk) -> Result<Vec<u8>, Failure> {
    let mut bytes = vec![0u8; (c.end - c.start) as usize];
    file.seek(SeekFrom::Start(c.start)).map_err(|e| Failure::Retry(e.to_string()))?;
    file.read_exact(&mut bytes).map_err(|e| Failure::Retry(e.to_string()))?;
    Ok(bytes)
}

fn column_info(t: &ColumnType) -> ColumnInfo {
    ColumnInfo {
        name: t.name.clone(),
        field_type: t.field_type.as_str().to_owned(),
        nullable: t.nullable,
        samples: t.samples.clone(),
        date_format: t.date_format.clone(),
        date_candidates: t.date_candidates.clone(),
    }
}

/// A preview row with each cell converted to its column's detected type; cells that do not convert stay text.
fn typed_row(table: &Table, row: &hw_import::Row, types: &[ColumnType]) -> Map<String, Value> {
    let mut out = Map::new();
    for ((name, cell), t) in table.columns.iter().zip(&row.cells).zip(types) {
        let value = match cell.as_deref().map(str::trim) {
            None | Some("") => Value::Null,
            Some(v) => typed(v, t),
        };
        out.insert(name.clone(), value);
    }
    out
}

/// The cell as a value of its column's detected type, through the same conversion imports apply
/// (`hw_import::convert`); dates in a detected non-ISO format are read with it first. What does not convert stays
/// text, since the preview shows the file as it is.
fn typed(v: &str, t: &ColumnType) -> Value {
    let iso;
    let v = match (t.field_type, t.date_format.as_deref()) {
        (FieldType::Date, Some(f)) if f != "rfc3339" => match chrono::NaiveDate::parse_from_str(v, f) {
            Ok(d) => {
                iso = d.format("%Y-%m-%d").to_string();
                iso.as_str()
            }
            Err(_) => v,
        },
        _ => v,
    };
    hw_import::convert(t.field_type, v).unwrap_or_else(|_| Value::String(v.to_owned()))
}
