//! The ports: what the services need from storage. Adapters: [`crate::dynamo`] and [`crate::memory`].

use std::collections::BTreeMap;

use async_trait::async_trait;
use hw_domain::apikey::ApiKeyMeta;
use hw_domain::event::Envelope;
use hw_domain::model::Model;
use hw_domain::record::Record;
use hw_domain::tenant::Tenant;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StoreError {
    #[error("item already exists")]
    AlreadyExists,
    #[error("item not found")]
    NotFound,
    #[error("version conflict")]
    VersionConflict,
    #[error("value of `{field}` is already taken")]
    UniqueViolation { field: String },
    #[error("`{field}` points to a missing record")]
    MissingReference { field: String },
    #[error("storage failed: {0}")]
    Backend(String),
}

/// A record as stored, with the unique values it holds claims on (field → claim hash).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub record: Record,
    pub claims: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WriteKind {
    /// The record must not exist yet.
    Create,
    /// The stored version must still be `expected_version`.
    Update {
        expected_version: u64,
    },
    Delete {
        expected_version: u64,
    },
}

/// One atomic change of a record: the record itself, the unique claims it takes and releases, the references
/// that must exist, and the event that describes it (written to the outbox in the same transaction).
#[derive(Debug, Clone)]
pub struct RecordWrite<'a> {
    pub kind: WriteKind,
    /// The new state (for deletes, the state being deleted).
    pub record: &'a Record,
    /// All claims the record holds after the write.
    pub claims: BTreeMap<String, String>,
    pub take_claims: Vec<(String, String)>,
    pub release_claims: Vec<(String, String)>,
    /// (field, target entity, id) that must exist when the write commits.
    pub references: Vec<(String, String, String)>,
    pub event: &'a Envelope,
}

#[async_trait]
pub trait ControlStore: Send + Sync {
    /// Fails with `AlreadyExists` when the tenant exists.
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError>;
    /// Sets (or, with `None`, clears) the tenant's own rate limit; `NotFound` when there is no such tenant.
    async fn set_tenant_rate_limit(&self, id: &str, per_minute: Option<u32>) -> Result<(), StoreError>;
    /// Sets (or, with `None`, clears back to the defaults) the tenant's GraphQL settings, if the stored ones are
    /// still at `expected_version` (0: the defaults); `VersionConflict` otherwise, `NotFound` without the tenant.
    async fn set_tenant_graphql(
        &self,
        id: &str,
        settings: Option<&hw_domain::tenant::GraphqlSettings>,
        expected_version: u64,
    ) -> Result<(), StoreError>;

    async fn list_models(&self, tenant: &str) -> Result<Vec<Model>, StoreError>;
    async fn get_model(&self, tenant: &str, name: &str) -> Result<Option<Model>, StoreError>;
    /// `expected_version: None` creates (fails with `AlreadyExists`); `Some(v)` replaces version `v`.
    async fn put_model(&self, tenant: &str, model: &Model, expected_version: Option<u64>) -> Result<(), StoreError>;
    async fn delete_model(&self, tenant: &str, name: &str, expected_version: u64) -> Result<(), StoreError>;

    /// Stores the key's metadata and its hash lookup item atomically.
    async fn create_api_key(&self, meta: &ApiKeyMeta, hash: &str) -> Result<(), StoreError>;
    async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKeyMeta>, StoreError>;
    async fn list_api_keys(&self, tenant: &str) -> Result<Vec<ApiKeyMeta>, StoreError>;
    /// Marks the key revoked and removes its lookup item, so it stops authenticating at once.
    async fn revoke_api_key(&self, tenant: &str, id: &str) -> Result<(), StoreError>;
    async fn get_api_key(&self, tenant: &str, id: &str) -> Result<Option<ApiKeyMeta>, StoreError>;
    /// Atomically stores the new key (`AlreadyExists` if its id or hash is taken) and the old key's updated
    /// metadata (its new expiry and `rotated_to`) on both of its items; `VersionConflict` when the old key was
    /// revoked or rotated meanwhile.
    async fn rotate_api_key(&self, old: &ApiKeyMeta, new: &ApiKeyMeta, new_hash: &str) -> Result<(), StoreError>;
    /// Records when the key was last used (on its metadata item only; the lookup item is not touched).
    async fn touch_api_key(&self, tenant: &str, id: &str, at: &str) -> Result<(), StoreError>;

    /// The tenant's data key as wrapped by KMS, if it has one yet.
    async fn get_data_key(&self, tenant: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores the tenant's wrapped data key; `AlreadyExists` when another writer got there first.
    async fn put_data_key(&self, tenant: &str, wrapped: &[u8]) -> Result<(), StoreError>;

    /// Cheap round trip used by health checks.
    async fn ping(&self) -> Result<(), StoreError>;
}

#[async_trait]
pub trait DataStore: Send + Sync {
    async fn has_records(&self, tenant: &str, entity: &str) -> Result<bool, StoreError>;
    async fn get_record(&self, tenant: &str, entity: &str, id: &str) -> Result<Option<StoredRecord>, StoreError>;
    /// Records in id order, after `after` (exclusive); the second value is the cursor of the next page.
    async fn list_records(
        &self,
        tenant: &str,
        entity: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<StoredRecord>, Option<String>), StoreError>;
    async fn write_record(&self, write: RecordWrite<'_>) -> Result<(), StoreError>;
    /// Many independent writes, each atomic on its own, with one result per write in order. Adapters may pack
    /// several into one transaction; the default writes them one by one.
    async fn write_records(&self, writes: Vec<RecordWrite<'_>>) -> Vec<Result<(), StoreError>> {
        let mut results = Vec::with_capacity(writes.len());
        for w in writes {
            results.push(self.write_record(w).await);
        }
        results
    }

    /// Removes published events from the outbox.
    async fn outbox_done(&self, events: &[Envelope]) -> Result<(), StoreError>;
    /// Events still in the outbox whose time is before `older_than` (RFC 3339), oldest first.
    async fn outbox_pending(&self, older_than: &str, limit: usize) -> Result<Vec<Envelope>, StoreError>;

    async fn ping(&self) -> Result<(), StoreError>;

    /// Records whose ids lie in `range`, in id order (descending if asked), at most `limit` per call: a key
    /// condition on the entity's partition, never a scan of the table. The second value is the last id the store
    /// looked at when more may follow; continue by narrowing the range past it (exclusive).
    async fn query_records(
        &self,
        tenant: &str,
        entity: &str,
        range: &IdRange,
        limit: usize,
    ) -> Result<(Vec<StoredRecord>, Option<String>), StoreError>;
    /// The records among `ids` that exist, in no particular order. Ids are deduplicated and read in batches
    /// (BatchGetItem, at most 100 keys per call), never one request per id.
    async fn get_records(&self, tenant: &str, entity: &str, ids: &[String]) -> Result<Vec<StoredRecord>, StoreError>;
    /// Which records hold the unique-value claims `hashes` of `field` (see `hw_domain::validate::unique_claim`):
    /// claim hash → record id, for the claims that exist. Read in batches (BatchGetItem), so looking up a chunk of
    /// import keys or references costs a few calls, not one per value.
    async fn find_claims(
        &self,
        tenant: &str,
        entity: &str,
        field: &str,
        hashes: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError>;
}

use hw_domain::query::{IdBound, IdPlan};

/// A range of record ids (the sort key of an entity's partition), walked ascending or descending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdRange {
    pub lower: Option<IdBound>,
    pub upper: Option<IdBound>,
    pub descending: bool,
}

impl IdRange {
    fn plan(&self) -> IdPlan {
        IdPlan { lower: self.lower.clone(), upper: self.upper.clone(), ids: None }
    }
    /// True when no id lies in the range.
    pub fn is_empty(&self) -> bool {
        self.plan().is_empty()
    }
    pub fn admits(&self, id: &str) -> bool {
        self.plan().admits(id)
    }
    /// Moves the range past `id` (exclusive) in its walking direction: how a walk continues.
    pub fn continue_after(&mut self, id: &str) {
        let mut plan = self.plan();
        let bound = IdBound { id: id.to_owned(), inclusive: false };
        if self.descending {
            plan.lower_upper(bound);
        } else {
            plan.raise_lower(bound);
        }
        self.lower = plan.lower;
        self.upper = plan.upper;
    }
}
