//! One chunk of a running import: read its rows, convert them with the user's mapping and rules, find duplicates,
//! write the records, and record what happened — exactly once per chunk and run.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt as _;
use hw_aws::events::EventPublisher;
use hw_domain::FieldError;
use hw_domain::model::Model;
use hw_domain::principal::Principal;
use hw_domain::validate::{Mode as Validation, unique_claim, validate_attributes};
use hw_files::FileStore;
use hw_store::records::{RecordError, Records};
use serde_json::{Map, Value};

use crate::queue::ChunkMessage;
use crate::report::{RowError, render};
use crate::source::Source;
use crate::spec::Converter;
use crate::{
    ChunkOutcome, ChunkProgress, ChunkState, Duplicates, ImportJob, ImportStatus, ImportStore, Mode, RunSettings,
};

/// Rows written at the same time (records with the same key are written one after the other).
const CONCURRENCY: usize = 8;
/// New records written in one call (the store packs them into transactions of up to 100 actions).
const CREATE_BATCH: usize = 32;
/// Rows between two looks at the job's status (a cancellation stops the chunk at the next look).
const CANCEL_CHECK_ROWS: usize = 250;

pub struct ChunkDeps {
    pub store: Arc<dyn ImportStore>,
    pub files: Arc<dyn FileStore>,
    pub records: Arc<Records>,
    pub publisher: Arc<dyn EventPublisher>,
    pub source: Source,
}

#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    /// Worth retrying (storage or file unreachable); after the last attempt the chunk is recorded as failed.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help (the chunk's bytes do not parse): the chunk is recorded as failed at once.
    #[error("{0}")]
    Permanent(String),
}

impl From<crate::StoreError> for ChunkError {
    fn from(e: crate::StoreError) -> Self {
        Self::Transient(e.to_string())
    }
}

/// What became of one row.
enum Outcome {
    Ok,
    Skipped,
    Failed(Vec<RowError>),
}

struct Prepared {
    row: u64,
    attributes: Map<String, Value>,
    /// The key's values, joined: rows with equal keys are the same record.
    key: Option<String>,
    /// The stored record the key points at.
    stored: Option<String>,
}

/// Processes `msg`. `last_attempt`: the queue will not deliver it again, so a transient failure is recorded as a
/// failed chunk (which `POST …/retry` can run again) instead of being left to the dead-letter queue.
pub async fn process(deps: &ChunkDeps, msg: &ChunkMessage, last_attempt: bool) -> Result<(), ChunkError> {
    let Some(job) = deps.store.get(&msg.tenant, &msg.import_id).await? else { return Ok(()) };
    let Some(run) = job.run.clone() else { return Ok(()) };
    if run.number != msg.run || job.status != ImportStatus::Running {
        return Ok(()); // a message of an earlier run, or the import was cancelled: nothing to do
    }
    if deps.store.chunk(&msg.tenant, &msg.import_id, msg.run, msg.chunk).await?.is_some() {
        return Ok(()); // recorded already (a duplicate message)
    }
    let outcome = match work(deps, &job, &run, msg.chunk).await {
        Ok(Some(outcome)) => outcome,
        Ok(None) => return Ok(()), // cancelled while working
        Err(ChunkError::Transient(reason)) if last_attempt => failed_chunk(reason),
        Err(ChunkError::Permanent(reason)) => failed_chunk(reason),
        Err(e) => return Err(e),
    };
    let (first, counts) = deps.store.record_chunk(&msg.tenant, &msg.import_id, msg.run, msg.chunk, &outcome).await?;
    if first && counts.chunks_done + counts.chunks_failed >= job.chunk_count() {
        crate::finish::finish(
            deps.store.as_ref(),
            deps.files.as_ref(),
            deps.publisher.as_ref(),
            &msg.tenant,
            &msg.import_id,
        )
        .await?;
    }
    Ok(())
}

fn failed_chunk(reason: String) -> ChunkOutcome {
    ChunkOutcome {
        state: ChunkState::Failed,
        rows: 0,
        ok: 0,
        failed: 0,
        skipped: 0,
        error: Some(reason),
        report_part: None,
    }
}

async fn work(
    deps: &ChunkDeps,
    job: &ImportJob,
    run: &RunSettings,
    index: usize,
) -> Result<Option<ChunkOutcome>, ChunkError> {
    let plan = job.plan.as_ref().ok_or_else(|| ChunkError::Transient("the import has no plan".into()))?;
    let range = plan.chunks.iter().find(|c| c.index == index).copied();
    let Some(range) = range else { return Err(ChunkError::Transient(format!("the plan has no chunk {index}"))) };
    let model = match deps.records.model(&job.tenant, &job.entity).await {
        Ok(m) => m,
        Err(RecordError::UnknownEntity(e)) => {
            return Err(ChunkError::Transient(format!("the model `{e}` was deleted while the import ran")));
        }
        Err(e) => return Err(ChunkError::Transient(e.to_string())),
    };
    let columns: Vec<String> = plan.columns.iter().map(|c| c.name.clone()).collect();
    let table = deps.source.rows(deps.files.as_ref(), job, plan, &range, &columns).await?;
    let converter = Converter::new(&run.spec, &columns, &model).map_err(ChunkError::Transient)?;
    let principal = Principal {
        tenant: job.tenant.clone(),
        actor: run.started_by.clone(),
        scopes: Vec::new(),
        rate_limit_per_minute: None,
    };
    let lookups = converter.resolve_lookups(&table, &deps.records, &job.tenant).await?;

    let mut errors: Vec<RowError> = Vec::new();
    let mut prepared = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let number = row.number as u64;
        if let Some(problem) = &row.problem {
            errors.push(RowError { row: number, column: String::new(), value: String::new(), reason: problem.clone() });
            continue;
        }
        match converter.convert(row, &lookups) {
            Ok(attributes) => {
                let key = key_of(&run.key, &attributes);
                if !run.key.is_empty() && key.is_none() {
                    errors.push(RowError {
                        row: number,
                        column: run.key.iter().map(|k| converter.column_of(k)).collect::<Vec<_>>().join(" "),
                        value: String::new(),
                        reason: format!("the key ({}) is empty", run.key.join(", ")),
                    });
                    continue;
                }
                prepared.push(Prepared { row: number, attributes, key, stored: None });
            }
            Err(row_errors) => errors.extend(row_errors),
        }
    }
    find_stored(deps.records.data.as_ref(), &job.tenant, &model, &run.key, &mut prepared).await?;
    // this chunk may have reported progress before (a delivery that did not finish): it starts again from zero
    if let Err(e) = deps.store.report_progress(&job.tenant, &job.id, run.number, index, ChunkProgress::default()).await
    {
        tracing::warn!(error = %e, "progress not reset; the counts catch up when the chunk is recorded");
    }

    // new records with a key of their own are written in batches; rows sharing a key are handled one after the
    // other, in file order; the rest in parallel
    let mut key_counts: HashMap<String, usize> = HashMap::new();
    for p in &prepared {
        if let Some(k) = &p.key {
            *key_counts.entry(k.clone()).or_default() += 1;
        }
    }
    let (simple, prepared): (Vec<Prepared>, Vec<Prepared>) =
        prepared.into_iter().partition(|p| p.stored.is_none() && p.key.as_ref().is_none_or(|k| key_counts[k] == 1));
    let mut batches: Vec<Vec<Prepared>> = Vec::new();
    for p in simple {
        match batches.last_mut() {
            Some(b) if b.len() < CREATE_BATCH => b.push(p),
            _ => batches.push(vec![p]),
        }
    }
    let mut groups: Vec<Vec<Prepared>> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for p in prepared {
        match p.key.clone() {
            Some(k) => match by_key.get(&k) {
                Some(&g) => groups[g].push(p),
                None => {
                    by_key.insert(k, groups.len());
                    groups.push(vec![p]);
                }
            },
            None => groups.push(vec![p]),
        }
    }
    let records = Arc::new(deps.records.deferring());
    let ctx = Ctx { records: &records, model: &model, run, job, principal: &principal, converter: &converter };
    // Events are flushed in the background while writes go on; one flush at a time, so that the events of one
    // record (created, then updated by a later row) are published in order.
    let mut flushing: Option<tokio::task::JoinHandle<()>> = None;
    let mut ok = 0u64;
    let mut skipped = 0u64;
    let mut failed_rows: u64 = errors.iter().map(|e| e.row).collect::<std::collections::BTreeSet<_>>().len() as u64;
    let mut handled = 0usize;
    let mut next_check = CANCEL_CHECK_ROWS;
    // boxed: the two kinds of work are different futures, and a boxed `Send` future keeps the handler's future
    // `Send` for the Lambda runtime
    let mut work: Vec<futures::future::BoxFuture<'_, Vec<Outcome>>> = Vec::new();
    work.extend(batches.into_iter().map(|b| Box::pin(ctx.create_batch(b)) as futures::future::BoxFuture<'_, _>));
    work.extend(groups.into_iter().map(|g| Box::pin(ctx.group(g)) as futures::future::BoxFuture<'_, _>));
    let mut stream = futures::stream::iter(work).buffer_unordered(CONCURRENCY);
    while let Some(outcomes) = stream.next().await {
        for o in outcomes {
            handled += 1;
            match o {
                Outcome::Ok => ok += 1,
                Outcome::Skipped => skipped += 1,
                Outcome::Failed(e) => {
                    failed_rows += 1;
                    errors.extend(e);
                }
            }
        }
        if handled >= next_check {
            next_check = handled + CANCEL_CHECK_ROWS;
            finish_flush(flushing.take()).await;
            let batch = records.clone();
            flushing = Some(tokio::spawn(async move { batch.flush_events().await }));
            let progress = ChunkProgress { ok, failed: failed_rows, skipped };
            let (reported, current) = tokio::join!(
                deps.store.report_progress(&job.tenant, &job.id, run.number, index, progress),
                deps.store.get(&job.tenant, &job.id)
            );
            if let Err(e) = reported {
                tracing::warn!(error = %e, "progress not reported; the counts catch up when the chunk is recorded");
            }
            if current?.map(|j| j.status) != Some(ImportStatus::Running) {
                drop(stream);
                finish_flush(flushing.take()).await;
                records.flush_events().await;
                return Ok(None);
            }
        }
    }
    drop(stream);
    finish_flush(flushing.take()).await;
    records.flush_events().await;

    let report_part = if errors.is_empty() {
        None
    } else {
        errors.sort_by_key(|e| e.row);
        let key = job.report_part_key(run.number, index);
        deps.files
            .put_bytes(&key, render(&errors), "text/csv; charset=utf-8")
            .await
            .map_err(|e| ChunkError::Transient(format!("writing the error report: {e}")))?;
        Some(key)
    };
    Ok(Some(ChunkOutcome {
        state: ChunkState::Done,
        rows: table.rows.len() as u64,
        ok,
        failed: failed_rows,
        skipped,
        error: None,
        report_part,
    }))
}

/// Waits for a background flush. A flush that panicked lost nothing: its events stay in the outbox for the relay.
async fn finish_flush(flushing: Option<tokio::task::JoinHandle<()>>) {
    if let Some(handle) = flushing
        && let Err(e) = handle.await
    {
        tracing::warn!(error = %e, "an event flush did not finish; its events stay in the outbox for the relay");
    }
}

fn key_of(key: &[String], attributes: &Map<String, Value>) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    let mut parts = Vec::with_capacity(key.len());
    for k in key {
        match attributes.get(k) {
            None | Some(Value::Null) => return None,
            Some(Value::String(s)) => parts.push(s.trim().to_lowercase()),
            Some(v) => parts.push(v.to_string()),
        }
    }
    Some(parts.join("\u{1f}"))
}

/// Finds, for every prepared row, the stored record its key points at: through the unique-value claims of each
/// key field (batched reads); a record matches when every key field's claim points at it.
async fn find_stored(
    data: &dyn hw_store::ports::DataStore,
    tenant: &str,
    model: &Model,
    key: &[String],
    rows: &mut [Prepared],
) -> Result<(), ChunkError> {
    if key.is_empty() || rows.is_empty() {
        return Ok(());
    }
    let mut owners: Vec<Vec<Option<String>>> = vec![Vec::new(); rows.len()];
    for field_name in key {
        let Some(field) = model.fields.iter().find(|f| f.name == *field_name) else { return Ok(()) };
        let hashes: Vec<Option<String>> =
            rows.iter().map(|r| r.attributes.get(field_name).map(|v| unique_claim(field, v))).collect();
        let wanted: Vec<String> = hashes.iter().flatten().cloned().collect();
        let found = data
            .find_claims(tenant, &model.name, field_name, &wanted)
            .await
            .map_err(|e| ChunkError::Transient(e.to_string()))?;
        for (i, h) in hashes.iter().enumerate() {
            owners[i].push(h.as_ref().and_then(|h| found.get(h).cloned()));
        }
    }
    for (row, owner) in rows.iter_mut().zip(owners) {
        let first = owner.first().cloned().flatten();
        if first.is_some() && owner.iter().all(|o| *o == first) {
            row.stored = first;
        }
    }
    Ok(())
}

struct Ctx<'a> {
    records: &'a Records,
    model: &'a Model,
    run: &'a RunSettings,
    job: &'a ImportJob,
    principal: &'a Principal,
    converter: &'a Converter,
}

impl Ctx<'_> {
    /// Rows with one key, in file order: the first decides whether the record is new; the others are duplicates
    /// of it (insert) or further changes to it (upsert).
    async fn group(&self, rows: Vec<Prepared>) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut target: Option<String> = None;
        let mut first = true;
        for row in rows {
            let existing = if first { row.stored.clone() } else { target.clone() };
            let own_id = crate::ids::record_id(&self.job.id, &self.job.created_at, row.row);
            let outcome = match existing {
                // written by this import already (a retried chunk, or a dry run's real run)
                Some(id) if id == own_id => Outcome::Ok,
                Some(id) => self.duplicate(&row, &id, first).await,
                None => self.create(&row, &own_id).await,
            };
            if first {
                target = match (&outcome, row.stored.clone()) {
                    (_, Some(stored)) => Some(stored),
                    (Outcome::Ok, None) => Some(own_id),
                    _ => None,
                };
            }
            first = false;
            outcomes.push(outcome);
        }
        outcomes
    }

    async fn duplicate(&self, row: &Prepared, id: &str, stored: bool) -> Outcome {
        let what = if stored { "a stored record" } else { "an earlier row of the file" };
        match (self.run.mode, self.run.duplicates) {
            (Mode::Insert, Duplicates::Fail) => Outcome::Failed(vec![RowError {
                row: row.row,
                column: self.run.key.iter().map(|k| self.converter.column_of(k)).collect::<Vec<_>>().join(" "),
                value: row.key.clone().unwrap_or_default().replace('\u{1f}', " "),
                reason: format!("duplicate: the key matches {what} ({id})"),
            }]),
            (Mode::Insert, _) => Outcome::Skipped,
            (Mode::Upsert, policy) => self.update(row, id, policy).await,
        }
    }

    async fn create(&self, row: &Prepared, id: &str) -> Outcome {
        let pointer = |f: &str| f.to_owned();
        if self.run.dry_run {
            return match validate_attributes(self.model, &row.attributes, Validation::Create, &pointer) {
                Ok(_) => Outcome::Ok,
                Err(errors) => Outcome::Failed(self.field_errors(row, errors)),
            };
        }
        let result =
            self.records.create(self.principal, self.model, Some(id.to_owned()), &row.attributes, &pointer).await;
        self.created(row, result)
    }

    /// Creates rows that are new records (no stored match, no other row with their key) in one call: the store
    /// packs them into a few transactions.
    async fn create_batch(&self, rows: Vec<Prepared>) -> Vec<Outcome> {
        if self.run.dry_run {
            let mut outcomes = Vec::with_capacity(rows.len());
            for row in &rows {
                outcomes.push(self.create(row, "").await);
            }
            return outcomes;
        }
        let pointer = |f: &str| f.to_owned();
        let inputs = rows
            .iter()
            .map(|r| (Some(crate::ids::record_id(&self.job.id, &self.job.created_at, r.row)), r.attributes.clone()))
            .collect();
        let results = self.records.create_many(self.principal, self.model, inputs, &pointer).await;
        rows.iter().zip(results).map(|(row, result)| self.created(row, result)).collect()
    }

    fn created(&self, row: &Prepared, result: Result<hw_domain::record::Record, RecordError>) -> Outcome {
        match result {
            Ok(_) | Err(RecordError::AlreadyExists { .. }) => Outcome::Ok,
            // the key was claimed meanwhile by another chunk's row: that row came first
            Err(RecordError::Conflict(errors))
                if !self.run.key.is_empty() && errors.iter().all(|e| self.run.key.contains(&e.pointer)) =>
            {
                match self.run.mode {
                    Mode::Insert if self.run.duplicates == Duplicates::Skip => Outcome::Skipped,
                    _ => Outcome::Failed(self.field_errors(row, errors)),
                }
            }
            Err(RecordError::Invalid(errors) | RecordError::Conflict(errors)) => {
                Outcome::Failed(self.field_errors(row, errors))
            }
            Err(e) => Outcome::Failed(vec![self.row_error(row, e.to_string())]),
        }
    }

    async fn update(&self, row: &Prepared, id: &str, policy: Duplicates) -> Outcome {
        let mut input = row.attributes.clone();
        if policy == Duplicates::Update {
            // every mapped field is written: an empty cell clears it
            for field in self.converter.fields() {
                input.entry(field.to_owned()).or_insert(Value::Null);
            }
        }
        let pointer = |f: &str| f.to_owned();
        if self.run.dry_run {
            return match validate_attributes(self.model, &input, Validation::Patch, &pointer) {
                Ok(_) => Outcome::Ok,
                Err(errors) => Outcome::Failed(self.field_errors(row, errors)),
            };
        }
        match self.records.update(self.principal, self.model, id, &input, None, &pointer).await {
            Ok(_) => Outcome::Ok,
            Err(RecordError::Invalid(errors) | RecordError::Conflict(errors)) => {
                Outcome::Failed(self.field_errors(row, errors))
            }
            Err(e) => Outcome::Failed(vec![self.row_error(row, e.to_string())]),
        }
    }

    fn field_errors(&self, row: &Prepared, errors: Vec<FieldError>) -> Vec<RowError> {
        errors
            .into_iter()
            .map(|e| RowError {
                row: row.row,
                column: self.converter.column_of(&e.pointer),
                value: row.attributes.get(&e.pointer).map(display).unwrap_or_default(),
                reason: e.detail,
            })
            .collect()
    }

    fn row_error(&self, row: &Prepared, reason: String) -> RowError {
        RowError { row: row.row, column: String::new(), value: String::new(), reason }
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
