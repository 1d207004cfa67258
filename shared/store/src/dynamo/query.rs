//! Record queries on the data table: one key condition on an entity's partition (never a table scan), and batched
//! reads of many ids.

use hw_aws::dynamo::get_s;
use hw_domain::query::IdBound;

use super::{DynamoDataStore, backend, decode_record, key, s};
use crate::keys;
use crate::ports::{IdRange, StoreError, StoredRecord};

impl DynamoDataStore {
    pub(super) async fn query_range(
        &self,
        tenant: &str,
        entity: &str,
        range: &IdRange,
        limit: usize,
    ) -> Result<(Vec<StoredRecord>, Option<String>), StoreError> {
        if range.is_empty() || limit == 0 {
            return Ok((vec![], None));
        }
        let sk = |b: &IdBound| s(keys::record_sk(&b.id));
        // One key condition on the sort key; exclusive ends of a BETWEEN are dropped below. The entity's partition
        // holds records only, so open-ended comparisons stay within them.
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(keys::entity_pk(tenant, entity)))
            .scan_index_forward(!range.descending)
            .limit(limit.min(i32::MAX as usize) as i32)
            .consistent_read(true);
        let condition = match (&range.lower, &range.upper) {
            (Some(lo), Some(hi)) => {
                query = query.expression_attribute_values(":lo", sk(lo)).expression_attribute_values(":hi", sk(hi));
                "pk = :pk AND sk BETWEEN :lo AND :hi"
            }
            (Some(lo), None) => {
                query = query.expression_attribute_values(":lo", sk(lo));
                if lo.inclusive { "pk = :pk AND sk >= :lo" } else { "pk = :pk AND sk > :lo" }
            }
            (None, Some(hi)) => {
                query = query.expression_attribute_values(":hi", sk(hi));
                if hi.inclusive { "pk = :pk AND sk <= :hi" } else { "pk = :pk AND sk < :hi" }
            }
            (None, None) => {
                query = query.expression_attribute_values(":r", s(keys::RECORD_SK_PREFIX));
                "pk = :pk AND begins_with(sk, :r)"
            }
        };
        let out = query.key_condition_expression(condition).send().await.map_err(backend)?;
        let mut records = Vec::new();
        for item in out.items.unwrap_or_default() {
            let stored = decode_record(item)?;
            if range.admits(&stored.record.id) {
                records.push(stored);
            }
        }
        let last = out
            .last_evaluated_key
            .as_ref()
            .and_then(|k| get_s(k, "sk"))
            .and_then(|sk| sk.strip_prefix(keys::RECORD_SK_PREFIX))
            .map(str::to_owned);
        Ok((records, last))
    }

    pub(super) async fn batch_get_records(
        &self,
        tenant: &str,
        entity: &str,
        ids: &[String],
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        let pk = keys::entity_pk(tenant, entity);
        let keys = distinct.into_iter().map(|id| key(pk.clone(), keys::record_sk(id))).collect();
        let items = hw_aws::dynamo::batch_get(&self.client, &self.table, keys)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        items.into_iter().map(decode_record).collect()
    }

    pub(super) async fn batch_find_claims(
        &self,
        tenant: &str,
        entity: &str,
        field: &str,
        hashes: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let distinct: std::collections::BTreeSet<&String> = hashes.iter().collect();
        let pk = keys::claim_pk(tenant, entity, field);
        let keys = distinct.into_iter().map(|h| key(pk.clone(), h.clone())).collect();
        let items = hw_aws::dynamo::batch_get(&self.client, &self.table, keys)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let hash = hw_aws::dynamo::get_s(item, "sk")?;
                let id = hw_aws::dynamo::get_s(item, "record_id")?;
                Some((hash.to_owned(), id.to_owned()))
            })
            .collect())
    }
}
