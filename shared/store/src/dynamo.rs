//! DynamoDB adapters of the storage ports. Multi-item changes are transactions with conditions, so that unique
//! values, references, versions and the outbox can never disagree.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, DeleteRequest, Put, TransactWriteItem, WriteRequest,
};
use futures::StreamExt;
use hw_aws::dynamo::{Item, batch_write, get_s, key, s};
use hw_domain::event::Envelope;
use hw_domain::record::Record;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::keys;
use crate::ports::{DataStore, RecordWrite, StoreError, StoredRecord, WriteKind};

/// DynamoDB allows 100 actions per transaction.
const MAX_TRANSACT_ITEMS: usize = 100;
const TRANSACTION_CONFLICT_RETRIES: u32 = 5;
/// BatchWriteItem's limit, and how many such calls one `outbox_done` keeps in flight.
const OUTBOX_DELETE_BATCH: usize = 25;
const OUTBOX_DELETE_CALLS: usize = 4;

fn backend<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    StoreError::Backend(DisplayErrorContext(&e).to_string())
}

fn encode<T: Serialize>(v: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(v).map_err(|e| StoreError::Backend(format!("encoding: {e}")))
}

fn decode<T: for<'de> Deserialize<'de>>(item: &Item, attr: &str) -> Result<T, StoreError> {
    let v = item.get(attr).cloned().ok_or_else(|| StoreError::Backend(format!("item lacks `{attr}`")))?;
    serde_dynamo::from_attribute_value(v).map_err(|e| StoreError::Backend(format!("decoding `{attr}`: {e}")))
}

/// A transaction action that creates `item` unless its key is taken.
fn put_if_absent(table: &str, item: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .expect("table and item set"),
        )
        .build()
}

use hw_aws::dynamo::{cancellation_codes, is_condition_failed as is_conditional_failure};

// The control plane (tenants, models, API keys, data keys) is in dynamo/control.rs.
mod control;
pub use control::DynamoControlStore;

// ---------------------------------------------------------------------------------------------------------------
// Tenant data
// ---------------------------------------------------------------------------------------------------------------

#[derive(Clone)]
pub struct DynamoDataStore {
    client: Client,
    table: String,
}

/// A record item as stored: system attributes at the top level, the tenant's attributes in `attrs`.
#[derive(Serialize, Deserialize)]
struct RecordItem {
    pk: String,
    sk: String,
    id: String,
    entity: String,
    version: u64,
    created_at: String,
    updated_at: String,
    created_by: String,
    updated_by: String,
    attrs: Map<String, Value>,
    #[serde(default)]
    claims: BTreeMap<String, String>,
}

impl RecordItem {
    fn new(tenant: &str, r: &Record, claims: &BTreeMap<String, String>) -> Self {
        Self {
            pk: keys::entity_pk(tenant, &r.entity),
            sk: keys::record_sk(&r.id),
            id: r.id.clone(),
            entity: r.entity.clone(),
            version: r.version,
            created_at: r.created_at.clone(),
            updated_at: r.updated_at.clone(),
            created_by: r.created_by.clone(),
            updated_by: r.updated_by.clone(),
            attrs: r.attributes.clone(),
            claims: claims.clone(),
        }
    }

    fn into_stored(self) -> StoredRecord {
        StoredRecord {
            record: Record {
                id: self.id,
                entity: self.entity,
                attributes: self.attrs,
                version: self.version,
                created_at: self.created_at,
                updated_at: self.updated_at,
                created_by: self.created_by,
                updated_by: self.updated_by,
            },
            claims: self.claims,
        }
    }
}

fn decode_record(item: Item) -> Result<StoredRecord, StoreError> {
    serde_dynamo::from_item::<_, RecordItem>(item)
        .map(RecordItem::into_stored)
        .map_err(|e| StoreError::Backend(format!("decoding record: {e}")))
}

/// What each action of a record transaction stands for, to explain a cancellation.
enum Action {
    Record,
    Claim(String),
    Release,
    Reference(String),
    Outbox,
}

impl DynamoDataStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn put(&self, item: Item, condition: Option<(&str, Vec<(&str, AttributeValue)>)>) -> TransactWriteItem {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some((expr, values)) = condition {
            put = put.condition_expression(expr);
            for (k, v) in values {
                put = put.expression_attribute_values(k, v);
            }
        }
        TransactWriteItem::builder().put(put.build().expect("table and item set")).build()
    }

    fn transaction(&self, w: &RecordWrite<'_>) -> Result<(Vec<TransactWriteItem>, Vec<Action>), StoreError> {
        let tenant = &w.event.tenant;
        let r = w.record;
        let mut items = Vec::new();
        let mut actions = Vec::new();
        let version_is = |v: u64| ("version = :v", vec![(":v", AttributeValue::N(v.to_string()))]);
        match w.kind {
            WriteKind::Create | WriteKind::Update { .. } => {
                let item: Item = serde_dynamo::to_item(RecordItem::new(tenant, r, &w.claims))
                    .map_err(|e| StoreError::Backend(format!("encoding record: {e}")))?;
                let condition = match w.kind {
                    WriteKind::Update { expected_version } => version_is(expected_version),
                    _ => ("attribute_not_exists(pk)", vec![]),
                };
                items.push(self.put(item, Some(condition)));
            }
            WriteKind::Delete { expected_version } => {
                let (expr, values) = version_is(expected_version);
                let mut del = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(keys::entity_pk(tenant, &r.entity), keys::record_sk(&r.id))))
                    .condition_expression(expr);
                for (k, v) in values {
                    del = del.expression_attribute_values(k, v);
                }
                items.push(TransactWriteItem::builder().delete(del.build().expect("set")).build());
            }
        }
        actions.push(Action::Record);

        let owner = || vec![(":rid", s(r.id.clone()))];
        for (field, hash) in &w.take_claims {
            let mut item = key(keys::claim_pk(tenant, &r.entity, field), hash.clone());
            item.insert("record_id".into(), s(r.id.clone()));
            items.push(self.put(item, Some(("attribute_not_exists(pk) OR record_id = :rid", owner()))));
            actions.push(Action::Claim(field.clone()));
        }
        for (field, hash) in &w.release_claims {
            let mut del = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::claim_pk(tenant, &r.entity, field), hash.clone())))
                .condition_expression("attribute_not_exists(pk) OR record_id = :rid");
            for (k, v) in owner() {
                del = del.expression_attribute_values(k, v);
            }
            items.push(TransactWriteItem::builder().delete(del.build().expect("set")).build());
            actions.push(Action::Release);
        }
        for (field, target, id) in &w.references {
            if *target == r.entity && *id == r.id {
                continue; // a record pointing at itself exists once this write commits
            }
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::entity_pk(tenant, target), keys::record_sk(id))))
                .condition_expression("attribute_exists(pk)")
                .build()
                .expect("set");
            items.push(TransactWriteItem::builder().condition_check(check).build());
            actions.push(Action::Reference(field.clone()));
        }
        let mut outbox = key(keys::outbox_pk(tenant), w.event.id.clone());
        outbox.insert("outbox_shard".into(), s(keys::outbox_shard(&w.event.id)));
        outbox.insert("outbox_at".into(), s(w.event.time.clone()));
        outbox.insert("envelope".into(), s(serde_json::to_string(w.event).expect("envelope serialises")));
        items.push(self.put(outbox, None));
        actions.push(Action::Outbox);

        if items.len() > MAX_TRANSACT_ITEMS {
            return Err(StoreError::Backend(format!(
                "a write of this record needs {} actions; DynamoDB allows {MAX_TRANSACT_ITEMS} per transaction (too many unique or reference fields change at once)",
                items.len()
            )));
        }
        Ok((items, actions))
    }
}

#[async_trait]
impl DataStore for DynamoDataStore {
    async fn has_records(&self, tenant: &str, entity: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :r)")
            .expression_attribute_values(":pk", s(keys::entity_pk(tenant, entity)))
            .expression_attribute_values(":r", s(keys::RECORD_SK_PREFIX))
            .projection_expression("pk")
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.count > 0)
    }

    async fn get_record(&self, tenant: &str, entity: &str, id: &str) -> Result<Option<StoredRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::entity_pk(tenant, entity), keys::record_sk(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.map(decode_record).transpose()
    }

    async fn list_records(
        &self,
        tenant: &str,
        entity: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<StoredRecord>, Option<String>), StoreError> {
        let pk = keys::entity_pk(tenant, entity);
        let start = after.map(|id| key(pk.clone(), keys::record_sk(id)));
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :r)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":r", s(keys::RECORD_SK_PREFIX))
            .limit(limit as i32)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(backend)?;
        let records: Vec<StoredRecord> =
            out.items.unwrap_or_default().into_iter().map(decode_record).collect::<Result<_, _>>()?;
        let next = match out.last_evaluated_key {
            Some(_) if records.len() == limit => records.last().map(|r| r.record.id.clone()),
            _ => None,
        };
        Ok((records, next))
    }

    /// Packs whole writes into transactions of up to 100 actions: a bulk import then costs one call per few dozen
    /// records instead of one per record. A pack that fails for any reason (a taken unique value, a missing
    /// reference, two writes touching one item) is written again one write at a time, so each write gets its own
    /// answer and none is lost to another's problem.
    async fn write_records(&self, writes: Vec<RecordWrite<'_>>) -> Vec<Result<(), StoreError>> {
        let mut results: Vec<Option<Result<(), StoreError>>> = (0..writes.len()).map(|_| None).collect();
        let mut packs: Vec<(Vec<usize>, Vec<TransactWriteItem>)> = Vec::new();
        let mut open: (Vec<usize>, Vec<TransactWriteItem>) = (Vec::new(), Vec::new());
        for (i, w) in writes.iter().enumerate() {
            match self.transaction(w) {
                Ok((items, _)) => {
                    if open.1.len() + items.len() > MAX_TRANSACT_ITEMS {
                        packs.push(std::mem::take(&mut open));
                    }
                    open.0.push(i);
                    open.1.extend(items);
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if !open.0.is_empty() {
            packs.push(open);
        }
        let mut writes: Vec<Option<RecordWrite<'_>>> = writes.into_iter().map(Some).collect();
        for (members, items) in packs {
            let packed = members.len() > 1
                && self.client.transact_write_items().set_transact_items(Some(items)).send().await.is_ok();
            for i in members {
                let w = writes[i].take().expect("each write is in one pack");
                results[i] = Some(if packed { Ok(()) } else { self.write_record(w).await });
            }
        }
        results.into_iter().map(|r| r.expect("every write answered")).collect()
    }

    async fn write_record(&self, write: RecordWrite<'_>) -> Result<(), StoreError> {
        let (items, actions) = self.transaction(&write)?;
        let mut attempt = 0;
        loop {
            let result = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let Err(err) = result else { return Ok(()) };
            let Some(codes) = cancellation_codes(&err) else {
                return Err(backend(err));
            };
            // Conflicts with a concurrent transaction are retried: on the next attempt the other one has either
            // committed (and our conditions say so) or not.
            if codes.iter().any(|c| c == "TransactionConflict") && attempt < TRANSACTION_CONFLICT_RETRIES {
                attempt += 1;
                tokio::time::sleep(hw_aws::backoff(attempt)).await;
                continue;
            }
            for (code, action) in codes.iter().zip(&actions) {
                if code != "ConditionalCheckFailed" {
                    continue;
                }
                return Err(match (action, write.kind) {
                    (Action::Record, WriteKind::Create) => StoreError::AlreadyExists,
                    (Action::Record, _) => StoreError::VersionConflict,
                    (Action::Claim(field), _) => StoreError::UniqueViolation { field: field.clone() },
                    (Action::Reference(field), _) => StoreError::MissingReference { field: field.clone() },
                    (Action::Release | Action::Outbox, _) => {
                        StoreError::Backend(format!("unexpected condition failure: {codes:?}"))
                    }
                });
            }
            return Err(StoreError::Backend(format!("transaction cancelled: {codes:?}")));
        }
    }

    /// Deletes in batches of 25, a few batches in flight at once (the entries are distinct items, so their order
    /// does not matter): an import clears 250 entries at a time.
    async fn outbox_done(&self, events: &[Envelope]) -> Result<(), StoreError> {
        let requests: Vec<WriteRequest> = events
            .iter()
            .map(|e| {
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(key(keys::outbox_pk(&e.tenant), e.id.clone())))
                            .build()
                            .expect("key set"),
                    )
                    .build()
            })
            .collect();
        let calls: Vec<_> = requests
            .chunks(OUTBOX_DELETE_BATCH)
            .map(|batch| batch_write(&self.client, &self.table, batch.to_vec()))
            .collect();
        let results: Vec<_> = futures::stream::iter(calls).buffered(OUTBOX_DELETE_CALLS).collect().await;
        results.into_iter().collect::<Result<(), _>>().map_err(|e| StoreError::Backend(e.to_string()))
    }

    async fn outbox_pending(&self, older_than: &str, limit: usize) -> Result<Vec<Envelope>, StoreError> {
        let mut events = Vec::new();
        for shard in 0..keys::OUTBOX_SHARDS {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("outbox")
                .key_condition_expression("outbox_shard = :s AND outbox_at < :t")
                .expression_attribute_values(":s", s(format!("OUTBOX#{shard}")))
                .expression_attribute_values(":t", s(older_than))
                .limit(limit as i32)
                .send()
                .await
                .map_err(backend)?;
            for item in out.items.unwrap_or_default() {
                let raw = get_s(&item, "envelope")
                    .ok_or_else(|| StoreError::Backend("outbox item lacks its envelope".into()))?;
                events.push(
                    serde_json::from_str::<Envelope>(raw)
                        .map_err(|e| StoreError::Backend(format!("outbox envelope: {e}")))?,
                );
            }
        }
        events.sort_by(|a, b| a.time.cmp(&b.time));
        events.truncate(limit);
        Ok(events)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("HEALTH", "HEALTH")))
            .send()
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn query_records(
        &self,
        tenant: &str,
        entity: &str,
        range: &IdRange,
        limit: usize,
    ) -> Result<(Vec<StoredRecord>, Option<String>), StoreError> {
        self.query_range(tenant, entity, range, limit).await
    }

    async fn get_records(&self, tenant: &str, entity: &str, ids: &[String]) -> Result<Vec<StoredRecord>, StoreError> {
        self.batch_get_records(tenant, entity, ids).await
    }

    async fn find_claims(
        &self,
        tenant: &str,
        entity: &str,
        field: &str,
        hashes: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        self.batch_find_claims(tenant, entity, field, hashes).await
    }
}

// Record queries (appended): ranges of the id-ordered partition and batched reads, in dynamo/query.rs.
mod query;
use crate::ports::IdRange;
