//! In-memory adapters with the same conditional semantics as the DynamoDB ones: for handler unit tests and
//! benchmarks that must not measure the emulator.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use hw_domain::apikey::ApiKeyMeta;
use hw_domain::event::Envelope;
use hw_domain::model::Model;
use hw_domain::tenant::Tenant;

use crate::ports::{ControlStore, DataStore, RecordWrite, StoreError, StoredRecord, WriteKind};

#[derive(Default)]
pub struct MemoryControlStore {
    state: Mutex<ControlState>,
}

#[derive(Default)]
struct ControlState {
    tenants: HashMap<String, Tenant>,
    models: BTreeMap<(String, String), Model>,
    keys: BTreeMap<(String, String), (ApiKeyMeta, String)>,
    hashes: HashMap<String, ApiKeyMeta>,
    data_keys: HashMap<String, Vec<u8>>,
}

#[async_trait]
impl ControlStore for MemoryControlStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        if s.tenants.contains_key(&tenant.id) {
            return Err(StoreError::AlreadyExists);
        }
        s.tenants.insert(tenant.id.clone(), tenant.clone());
        Ok(())
    }
    async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        Ok(self.state.lock().unwrap().tenants.get(id).cloned())
    }
    async fn set_tenant_rate_limit(&self, id: &str, per_minute: Option<u32>) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        s.tenants.get_mut(id).ok_or(StoreError::NotFound)?.rate_limit_per_minute = per_minute;
        Ok(())
    }
    async fn set_tenant_graphql(
        &self,
        id: &str,
        settings: Option<&hw_domain::tenant::GraphqlSettings>,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        let tenant = s.tenants.get_mut(id).ok_or(StoreError::NotFound)?;
        if tenant.graphql.map_or(0, |g| g.version) != expected_version {
            return Err(StoreError::VersionConflict);
        }
        tenant.graphql = settings.copied();
        Ok(())
    }
    async fn list_models(&self, tenant: &str) -> Result<Vec<Model>, StoreError> {
        let s = self.state.lock().unwrap();
        Ok(s.models.iter().filter(|((t, _), _)| t == tenant).map(|(_, m)| m.clone()).collect())
    }
    async fn get_model(&self, tenant: &str, name: &str) -> Result<Option<Model>, StoreError> {
        Ok(self.state.lock().unwrap().models.get(&(tenant.to_owned(), name.to_owned())).cloned())
    }
    async fn put_model(&self, tenant: &str, model: &Model, expected_version: Option<u64>) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        let k = (tenant.to_owned(), model.name.clone());
        match (s.models.get(&k), expected_version) {
            (Some(_), None) => return Err(StoreError::AlreadyExists),
            (None, Some(_)) => return Err(StoreError::VersionConflict),
            (Some(m), Some(v)) if m.version != v => return Err(StoreError::VersionConflict),
            _ => {}
        }
        s.models.insert(k, model.clone());
        Ok(())
    }
    async fn delete_model(&self, tenant: &str, name: &str, expected_version: u64) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        let k = (tenant.to_owned(), name.to_owned());
        match s.models.get(&k) {
            Some(m) if m.version == expected_version => {
                s.models.remove(&k);
                Ok(())
            }
            _ => Err(StoreError::VersionConflict),
        }
    }
    async fn create_api_key(&self, meta: &ApiKeyMeta, hash: &str) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        if s.hashes.contains_key(hash) {
            return Err(StoreError::AlreadyExists);
        }
        s.hashes.insert(hash.to_owned(), meta.clone());
        s.keys.insert((meta.tenant.clone(), meta.id.clone()), (meta.clone(), hash.to_owned()));
        Ok(())
    }
    async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKeyMeta>, StoreError> {
        Ok(self.state.lock().unwrap().hashes.get(hash).cloned())
    }
    async fn list_api_keys(&self, tenant: &str) -> Result<Vec<ApiKeyMeta>, StoreError> {
        let s = self.state.lock().unwrap();
        Ok(s.keys.iter().filter(|((t, _), _)| t == tenant).map(|(_, (m, _))| m.clone()).collect())
    }
    async fn revoke_api_key(&self, tenant: &str, id: &str) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        let (meta, hash) = s.keys.get_mut(&(tenant.to_owned(), id.to_owned())).ok_or(StoreError::NotFound)?;
        meta.revoked = true;
        let hash = hash.clone();
        s.hashes.remove(&hash);
        Ok(())
    }
    async fn get_api_key(&self, tenant: &str, id: &str) -> Result<Option<ApiKeyMeta>, StoreError> {
        Ok(self.state.lock().unwrap().keys.get(&(tenant.to_owned(), id.to_owned())).map(|(m, _)| m.clone()))
    }
    async fn rotate_api_key(&self, old: &ApiKeyMeta, new: &ApiKeyMeta, new_hash: &str) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        let old_key = (old.tenant.clone(), old.id.clone());
        let old_hash = match s.keys.get(&old_key) {
            Some((m, h)) if !m.revoked && m.rotated_to.is_none() => h.clone(),
            _ => return Err(StoreError::VersionConflict),
        };
        if s.hashes.contains_key(new_hash) || s.keys.contains_key(&(new.tenant.clone(), new.id.clone())) {
            return Err(StoreError::AlreadyExists);
        }
        s.keys.insert(old_key, (old.clone(), old_hash.clone()));
        if s.hashes.contains_key(&old_hash) {
            s.hashes.insert(old_hash, old.clone());
        }
        s.hashes.insert(new_hash.to_owned(), new.clone());
        s.keys.insert((new.tenant.clone(), new.id.clone()), (new.clone(), new_hash.to_owned()));
        Ok(())
    }
    async fn touch_api_key(&self, tenant: &str, id: &str, at: &str) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        let (meta, _) = s.keys.get_mut(&(tenant.to_owned(), id.to_owned())).ok_or(StoreError::NotFound)?;
        meta.last_used_at = Some(at.to_owned());
        Ok(())
    }
    async fn get_data_key(&self, tenant: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.state.lock().unwrap().data_keys.get(tenant).cloned())
    }
    async fn put_data_key(&self, tenant: &str, wrapped: &[u8]) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        if s.data_keys.contains_key(tenant) {
            return Err(StoreError::AlreadyExists);
        }
        s.data_keys.insert(tenant.to_owned(), wrapped.to_vec());
        Ok(())
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryDataStore {
    state: Mutex<DataState>,
}

#[derive(Default)]
struct DataState {
    /// (tenant, entity) → id → record
    records: HashMap<(String, String), BTreeMap<String, StoredRecord>>,
    /// (tenant, entity, field, hash) → record id
    claims: HashMap<(String, String, String, String), String>,
    outbox: BTreeMap<String, Envelope>,
}

#[async_trait]
impl DataStore for MemoryDataStore {
    async fn has_records(&self, tenant: &str, entity: &str) -> Result<bool, StoreError> {
        let s = self.state.lock().unwrap();
        Ok(s.records.get(&(tenant.to_owned(), entity.to_owned())).is_some_and(|m| !m.is_empty()))
    }
    async fn get_record(&self, tenant: &str, entity: &str, id: &str) -> Result<Option<StoredRecord>, StoreError> {
        let s = self.state.lock().unwrap();
        Ok(s.records.get(&(tenant.to_owned(), entity.to_owned())).and_then(|m| m.get(id)).cloned())
    }
    async fn list_records(
        &self,
        tenant: &str,
        entity: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<StoredRecord>, Option<String>), StoreError> {
        let s = self.state.lock().unwrap();
        let Some(all) = s.records.get(&(tenant.to_owned(), entity.to_owned())) else {
            return Ok((vec![], None));
        };
        let mut page: Vec<StoredRecord> = all
            .range::<str, _>((
                after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded),
                std::ops::Bound::Unbounded,
            ))
            .take(limit + 1)
            .map(|(_, r)| r.clone())
            .collect();
        let next = if page.len() > limit {
            page.truncate(limit);
            page.last().map(|r| r.record.id.clone())
        } else {
            None
        };
        Ok((page, next))
    }
    async fn write_record(&self, w: RecordWrite<'_>) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        let tenant = w.event.tenant.clone();
        let r = w.record;
        let bucket = (tenant.clone(), r.entity.clone());
        let current = s.records.get(&bucket).and_then(|m| m.get(&r.id)).map(|x| x.record.version);
        match (w.kind, current) {
            (WriteKind::Create, Some(_)) => return Err(StoreError::AlreadyExists),
            (WriteKind::Update { expected_version } | WriteKind::Delete { expected_version }, c)
                if c != Some(expected_version) =>
            {
                return Err(StoreError::VersionConflict);
            }
            _ => {}
        }
        for (field, hash) in &w.take_claims {
            let k = (tenant.clone(), r.entity.clone(), field.clone(), hash.clone());
            if s.claims.get(&k).is_some_and(|owner| *owner != r.id) {
                return Err(StoreError::UniqueViolation { field: field.clone() });
            }
        }
        for (field, target, id) in &w.references {
            let is_self = *target == r.entity && *id == r.id;
            let exists = s.records.get(&(tenant.clone(), target.clone())).is_some_and(|m| m.contains_key(id));
            if !is_self && !exists {
                return Err(StoreError::MissingReference { field: field.clone() });
            }
        }
        for (field, hash) in &w.release_claims {
            let k = (tenant.clone(), r.entity.clone(), field.clone(), hash.clone());
            if s.claims.get(&k) == Some(&r.id) {
                s.claims.remove(&k);
            }
        }
        for (field, hash) in &w.take_claims {
            s.claims.insert((tenant.clone(), r.entity.clone(), field.clone(), hash.clone()), r.id.clone());
        }
        let records = s.records.entry(bucket).or_default();
        match w.kind {
            WriteKind::Delete { .. } => {
                records.remove(&r.id);
            }
            _ => {
                records.insert(r.id.clone(), StoredRecord { record: r.clone(), claims: w.claims.clone() });
            }
        }
        s.outbox.insert(w.event.id.clone(), w.event.clone());
        Ok(())
    }
    async fn outbox_done(&self, events: &[Envelope]) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        for e in events {
            s.outbox.remove(&e.id);
        }
        Ok(())
    }
    async fn outbox_pending(&self, older_than: &str, limit: usize) -> Result<Vec<Envelope>, StoreError> {
        let s = self.state.lock().unwrap();
        let mut v: Vec<Envelope> = s.outbox.values().filter(|e| e.time.as_str() < older_than).cloned().collect();
        v.sort_by(|a, b| a.time.cmp(&b.time));
        v.truncate(limit);
        Ok(v)
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn query_records(
        &self,
        tenant: &str,
        entity: &str,
        range: &IdRange,
        limit: usize,
    ) -> Result<(Vec<StoredRecord>, Option<String>), StoreError> {
        let s = self.state.lock().unwrap();
        let Some(all) = s.records.get(&(tenant.to_owned(), entity.to_owned())) else {
            return Ok((vec![], None));
        };
        if range.is_empty() || limit == 0 {
            return Ok((vec![], None));
        }
        let admitted = all.values().filter(|r| range.admits(&r.record.id));
        let mut page: Vec<StoredRecord> = if range.descending {
            admitted.rev().take(limit + 1).cloned().collect()
        } else {
            admitted.take(limit + 1).cloned().collect()
        };
        let last = if page.len() > limit {
            page.truncate(limit);
            page.last().map(|r| r.record.id.clone())
        } else {
            None
        };
        Ok((page, last))
    }
    async fn get_records(&self, tenant: &str, entity: &str, ids: &[String]) -> Result<Vec<StoredRecord>, StoreError> {
        let s = self.state.lock().unwrap();
        let Some(all) = s.records.get(&(tenant.to_owned(), entity.to_owned())) else {
            return Ok(vec![]);
        };
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        Ok(distinct.into_iter().filter_map(|id| all.get(id).cloned()).collect())
    }

    async fn find_claims(
        &self,
        tenant: &str,
        entity: &str,
        field: &str,
        hashes: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let s = self.state.lock().unwrap();
        Ok(hashes
            .iter()
            .filter_map(|h| {
                let owner = s.claims.get(&(tenant.to_owned(), entity.to_owned(), field.to_owned(), h.clone()))?;
                Some((h.clone(), owner.clone()))
            })
            .collect())
    }
}

// Record queries (appended): ranges of the id-ordered partition and batched reads.
use crate::ports::IdRange;
