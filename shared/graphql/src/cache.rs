//! Schemas per tenant, rebuilt only when the tenant's models or GraphQL settings change. A cached schema is
//! re-checked (the model list, one Query on the control table, and the tenant item) at most once per
//! [`FRESHNESS`]; so a model change reaches GraphQL within that time, and a burst of requests (or a thousand
//! subscriptions opening at once) costs two reads per second per tenant instead of two per operation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::dynamic::Schema;
use hw_domain::tenant::GraphqlSettings;
use hw_store::StoreError;
use hw_store::records::Records;
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("there is no tenant `{0}`")]
    UnknownTenant(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the schema could not be built: {0}")]
    Build(String),
}

/// How long a checked schema is used without looking at the models again.
pub const FRESHNESS: Duration = Duration::from_secs(1);

pub struct SchemaCache {
    records: Arc<Records>,
    schemas: Mutex<HashMap<String, Cached>>,
    freshness: Duration,
    /// One refresh at a time: requests that find a stale schema together wait for one check instead of each
    /// reading the models (a thousand subscriptions opening at once would otherwise cost two thousand reads).
    refreshing: tokio::sync::Mutex<()>,
}

struct Cached {
    fingerprint: String,
    checked: Instant,
    schema: TenantSchema,
}

/// A tenant's schema with the catalog it was built from (its DataLoaders need it) and its settings.
#[derive(Clone)]
pub struct TenantSchema {
    pub schema: Schema,
    pub catalog: Arc<Catalog>,
    pub settings: GraphqlSettings,
}

impl TenantSchema {
    /// The caller of one request on this schema, with fresh DataLoaders.
    pub fn caller(&self, principal: hw_domain::principal::Principal, records: Arc<Records>) -> crate::Caller {
        crate::Caller::new(principal, records, self.catalog.clone())
    }
}

impl SchemaCache {
    pub fn new(records: Arc<Records>) -> Self {
        Self::with_freshness(records, FRESHNESS)
    }

    /// A cache that re-checks the models after `freshness` (zero: on every call).
    pub fn with_freshness(records: Arc<Records>, freshness: Duration) -> Self {
        Self { records, schemas: Mutex::new(HashMap::new()), freshness, refreshing: tokio::sync::Mutex::new(()) }
    }

    fn fresh(&self, tenant: &str) -> Option<TenantSchema> {
        let schemas = self.schemas.lock().expect("schema cache");
        schemas.get(tenant).filter(|c| c.checked.elapsed() < self.freshness).map(|c| c.schema.clone())
    }

    pub fn records(&self) -> &Arc<Records> {
        &self.records
    }

    /// The tenant's current schema and settings, built at most once per version of its models and settings.
    pub async fn schema(&self, tenant: &str) -> Result<TenantSchema, CacheError> {
        if let Some(fresh) = self.fresh(tenant) {
            return Ok(fresh);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        if let Some(fresh) = self.fresh(tenant) {
            return Ok(fresh); // refreshed while this request waited
        }
        let (models, t) =
            tokio::try_join!(self.records.control.list_models(tenant), self.records.control.get_tenant(tenant))?;
        let settings = t.ok_or_else(|| CacheError::UnknownTenant(tenant.to_owned()))?.graphql.unwrap_or_default();
        let mut h = Sha256::new();
        let mut versions: Vec<(&str, u64)> = models.iter().map(|m| (m.name.as_str(), m.version)).collect();
        versions.sort();
        for (name, v) in versions {
            h.update(format!("{name}\u{1f}{v}\u{1e}"));
        }
        h.update(format!("{settings:?}"));
        let fingerprint = hex::encode(h.finalize());
        if let Some(c) = self.schemas.lock().expect("schema cache").get_mut(tenant)
            && c.fingerprint == fingerprint
        {
            c.checked = Instant::now();
            return Ok(c.schema.clone());
        }
        let catalog = Arc::new(Catalog::new(&models));
        let schema = crate::schema::build(catalog.clone(), &settings, self.records.clone())
            .map_err(|e| CacheError::Build(e.to_string()))?;
        let built = TenantSchema { schema, catalog, settings };
        let cached = Cached { fingerprint, checked: Instant::now(), schema: built.clone() };
        self.schemas.lock().expect("schema cache").insert(tenant.to_owned(), cached);
        Ok(built)
    }
}
