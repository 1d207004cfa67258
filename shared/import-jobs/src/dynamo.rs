//! The DynamoDB adapter (the `jobs` table).
//!
//! ```text
//! T#{tenant} / I#{id}                          the job: `doc` (JSON), `job_status`, counters n_*
//! T#{tenant}#I#{id} / R#{run}#C#{index}        one recorded chunk of a run (TTL: 30 days after)
//! T#{tenant}#I#{id} / P#{run}#C#{index}        a chunk's progress while it works (TTL: 30 days after)
//! T#{tenant} / IM#{entity}                     the mapping confirmed last for an entity
//! ```

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, ReturnValue, TransactWriteItem, Update};
use hw_aws::dynamo::{Item, cancellation_codes, error_text, get_s, is_condition_failed, key, n, s};

use crate::ports::{ChunkOutcome, ChunkProgress, ChunkState, ImportStore, StoreError};
use crate::{Counts, ImportJob, ImportStatus};

/// How long chunk bookkeeping outlives its import.
const CHUNK_TTL_SECONDS: i64 = 30 * 86_400;
const COUNTERS: [&str; 6] = ["n_total", "n_ok", "n_failed", "n_skipped", "n_chunks_done", "n_chunks_failed"];

pub struct DynamoImports {
    client: Client,
    table: String,
}

impl DynamoImports {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn backend<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    StoreError::Backend(error_text(&e))
}

/// Transactions retried when they only collided with another one (counters of one job are updated by every
/// chunk, so collisions are expected).
const CONFLICT_RETRIES: u32 = 5;

impl DynamoImports {
    /// The `doc` of every item of an import whose sort key starts with `prefix` (`…#C#{index}`), by index.
    async fn chunk_docs<T: for<'de> serde::Deserialize<'de>>(
        &self,
        tenant: &str,
        id: &str,
        prefix: &str,
    ) -> Result<BTreeMap<usize, T>, StoreError> {
        let mut found = BTreeMap::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(format!("T#{tenant}#I#{id}")))
                .expression_attribute_values(":prefix", s(prefix.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(backend)?;
            for item in out.items() {
                let index = get_s(item, "sk")
                    .and_then(|sk| sk.rsplit('#').next())
                    .and_then(|i| i.parse::<usize>().ok())
                    .ok_or_else(|| StoreError::Backend("chunk item without index".into()))?;
                found.insert(index, doc(item)?);
            }
            match out.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => return Ok(found),
            }
        }
    }

    /// Runs a transaction whose first action carries the condition that makes it happen at most once. `true` when
    /// it committed, `false` when that condition did not hold (done before); a collision with a concurrent
    /// transaction is retried, since it says nothing about the condition.
    async fn transact_once(&self, items: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        let mut attempt = 0;
        loop {
            let result = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let Err(e) = result else { return Ok(true) };
            match cancellation_codes(&e) {
                Some(codes) if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") => return Ok(false),
                Some(codes) if codes.iter().any(|c| c == "TransactionConflict") && attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(hw_aws::backoff(attempt)).await;
                }
                _ => return Err(backend(e)),
            }
        }
    }
}

fn job_key(tenant: &str, id: &str) -> Item {
    key(format!("T#{tenant}"), format!("I#{id}"))
}

fn chunk_key(tenant: &str, id: &str, run: u32, index: usize) -> Item {
    key(format!("T#{tenant}#I#{id}"), format!("R#{run:04}#C#{index:06}"))
}

fn progress_key(tenant: &str, id: &str, run: u32, index: usize) -> Item {
    key(format!("T#{tenant}#I#{id}"), format!("P#{run:04}#C#{index:06}"))
}

fn json<T: serde::Serialize>(v: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(v).map(s).map_err(|e| StoreError::Backend(format!("encoding: {e}")))
}

fn doc<T: for<'de> serde::Deserialize<'de>>(item: &Item) -> Result<T, StoreError> {
    let raw = get_s(item, "doc").ok_or_else(|| StoreError::Backend("item lacks `doc`".into()))?;
    serde_json::from_str(raw).map_err(|e| StoreError::Backend(format!("decoding: {e}")))
}

fn counter(item: &Item, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse::<i64>().unwrap_or(0).max(0) as u64,
        _ => 0,
    }
}

fn job_of(item: &Item) -> Result<ImportJob, StoreError> {
    let mut job: ImportJob = doc(item)?;
    job.counts = Counts {
        total: counter(item, "n_total"),
        ok: counter(item, "n_ok"),
        failed: counter(item, "n_failed"),
        skipped: counter(item, "n_skipped"),
        chunks_done: counter(item, "n_chunks_done"),
        chunks_failed: counter(item, "n_chunks_failed"),
    };
    Ok(job)
}

/// `ADD` of a chunk's numbers (negated with `sign = -1`) to the job's counters.
fn counter_update(table: &str, tenant: &str, id: &str, o: &ChunkOutcome, sign: i64) -> Update {
    let (done, failed_chunk) = match o.state {
        ChunkState::Done => (1, 0),
        ChunkState::Failed => (0, 1),
    };
    let values =
        [(o.ok + o.failed + o.skipped) as i64, o.ok as i64, o.failed as i64, o.skipped as i64, done, failed_chunk];
    let mut u = Update::builder()
        .table_name(table)
        .set_key(Some(job_key(tenant, id)))
        .update_expression(format!(
            "ADD {}",
            COUNTERS.iter().map(|c| format!("{c} :{c}")).collect::<Vec<_>>().join(", ")
        ))
        .condition_expression("attribute_exists(pk)");
    for (c, v) in COUNTERS.iter().zip(values) {
        u = u.expression_attribute_values(format!(":{c}"), n(sign * v));
    }
    u.build().expect("table, key and expression set")
}

#[async_trait]
impl ImportStore for DynamoImports {
    async fn create(&self, job: &ImportJob) -> Result<(), StoreError> {
        let mut item = job_key(&job.tenant, &job.id);
        item.insert("doc".into(), json(job)?);
        item.insert("job_status".into(), s(job.status.as_str()));
        for c in COUNTERS {
            item.insert(c.into(), n(0));
        }
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Err(StoreError::AlreadyExists),
            Err(e) => Err(backend(e)),
        }
    }

    async fn get(&self, tenant: &str, id: &str) -> Result<Option<ImportJob>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(job_key(tenant, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item().map(job_of).transpose()
    }

    async fn list(
        &self,
        tenant: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<ImportJob>, Option<String>), StoreError> {
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(format!("T#{tenant}")))
            .expression_attribute_values(":prefix", s("I#"))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 100) as i32);
        if let Some(after) = after {
            q = q.set_exclusive_start_key(Some(job_key(tenant, after)));
        }
        let out = q.send().await.map_err(backend)?;
        let jobs = out.items().iter().map(job_of).collect::<Result<Vec<_>, _>>()?;
        let next = out
            .last_evaluated_key()
            .and_then(|k| get_s(k, "sk"))
            .and_then(|sk| sk.strip_prefix("I#"))
            .map(str::to_owned);
        Ok((jobs, next))
    }

    async fn transition(&self, job: &ImportJob, from: &[ImportStatus], reset_counts: bool) -> Result<(), StoreError> {
        let allowed: Vec<String> = (0..from.len()).map(|i| format!(":from{i}")).collect();
        let mut set = "SET doc = :doc, job_status = :status".to_owned();
        if reset_counts {
            for c in COUNTERS {
                set.push_str(&format!(", {c} = :zero"));
            }
        }
        let mut u = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(job_key(&job.tenant, &job.id)))
            .update_expression(set)
            .condition_expression(format!("job_status IN ({})", allowed.join(", ")))
            .expression_attribute_values(":doc", json(job)?)
            .expression_attribute_values(":status", s(job.status.as_str()));
        if reset_counts {
            u = u.expression_attribute_values(":zero", n(0));
        }
        for (name, status) in allowed.iter().zip(from) {
            u = u.expression_attribute_values(name, s(status.as_str()));
        }
        match u.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Err(StoreError::WrongState),
            Err(e) => Err(backend(e)),
        }
    }

    async fn record_chunk(
        &self,
        tenant: &str,
        id: &str,
        run: u32,
        index: usize,
        outcome: &ChunkOutcome,
    ) -> Result<(bool, Counts), StoreError> {
        let mut item = chunk_key(tenant, id, run, index);
        item.insert("doc".into(), json(outcome)?);
        item.insert("chunk_state".into(), json(&outcome.state)?);
        item.insert("expires_at".into(), n(chrono::Utc::now().timestamp() + CHUNK_TTL_SECONDS));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("table and item set");
        let first = self
            .transact_once(vec![
                TransactWriteItem::builder().put(put).build(),
                TransactWriteItem::builder().update(counter_update(&self.table, tenant, id, outcome, 1)).build(),
            ])
            .await?;
        let job = self.get(tenant, id).await?.ok_or(StoreError::WrongState)?;
        Ok((first, job.counts))
    }

    async fn chunk(&self, tenant: &str, id: &str, run: u32, index: usize) -> Result<Option<ChunkOutcome>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(chunk_key(tenant, id, run, index)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item().map(doc).transpose()
    }

    async fn chunks(&self, tenant: &str, id: &str, run: u32) -> Result<BTreeMap<usize, ChunkOutcome>, StoreError> {
        self.chunk_docs(tenant, id, &format!("R#{run:04}#C#")).await
    }

    async fn report_progress(
        &self,
        tenant: &str,
        id: &str,
        run: u32,
        index: usize,
        progress: ChunkProgress,
    ) -> Result<(), StoreError> {
        let mut item = progress_key(tenant, id, run, index);
        item.insert("doc".into(), json(&progress)?);
        item.insert("expires_at".into(), n(chrono::Utc::now().timestamp() + CHUNK_TTL_SECONDS));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        Ok(())
    }

    async fn progress(&self, tenant: &str, id: &str, run: u32) -> Result<BTreeMap<usize, ChunkProgress>, StoreError> {
        self.chunk_docs(tenant, id, &format!("P#{run:04}#C#")).await
    }

    async fn forget_failed_chunks(
        &self,
        tenant: &str,
        id: &str,
        run: u32,
        indexes: &[usize],
    ) -> Result<(), StoreError> {
        let recorded = self.chunks(tenant, id, run).await?;
        for i in indexes {
            let Some(outcome) = recorded.get(i).filter(|o| o.state == ChunkState::Failed) else { continue };
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(chunk_key(tenant, id, run, *i)))
                .condition_expression("chunk_state = :failed")
                .expression_attribute_values(":failed", json(&ChunkState::Failed)?)
                .build()
                .expect("table and key set");
            // `false`: forgotten by a concurrent retry already
            self.transact_once(vec![
                TransactWriteItem::builder().delete(delete).build(),
                TransactWriteItem::builder().update(counter_update(&self.table, tenant, id, outcome, -1)).build(),
            ])
            .await?;
        }
        Ok(())
    }

    async fn last_mapping(&self, tenant: &str, entity: &str) -> Result<BTreeMap<String, String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("T#{tenant}")))
            .key("sk", s(format!("IM#{entity}")))
            .send()
            .await
            .map_err(backend)?;
        out.item().map(doc).transpose().map(Option::unwrap_or_default)
    }

    async fn save_mapping(
        &self,
        tenant: &str,
        entity: &str,
        mapping: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("T#{tenant}")))
            .item("sk", s(format!("IM#{entity}")))
            .item("doc", json(mapping)?)
            .return_values(ReturnValue::None)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}
