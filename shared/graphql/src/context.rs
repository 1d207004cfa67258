//! What resolvers read from the GraphQL context: the schema's environment (registered once with the schema) and
//! the caller of one request, with its DataLoaders.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use hw_domain::principal::Principal;
use hw_domain::record::Record;
use hw_store::records::Records;
use tokio::sync::OnceCell;

use crate::catalog::Catalog;
use crate::errors;
use crate::loaders::{RecordLoader, ReverseLoader};

/// Built with the schema: the records service and the catalog the schema was generated from.
pub struct Env {
    pub records: Arc<Records>,
    pub catalog: Arc<Catalog>,
}

/// One request's caller: its principal, its DataLoaders, and the tenant's cursor key once needed.
pub struct Caller {
    pub principal: Principal,
    pub records: DataLoader<RecordLoader>,
    pub reverse: DataLoader<ReverseLoader>,
    cursor_key: OnceCell<[u8; 32]>,
    store: Arc<Records>,
    /// Where subscription fields read events from; only subscriptions (checked or delivered) have one.
    pub events: Option<crate::subscriptions::EventSource>,
}

impl Caller {
    pub fn new(principal: Principal, records: Arc<Records>, catalog: Arc<Catalog>) -> Self {
        let record_loader =
            RecordLoader { records: records.clone(), catalog: catalog.clone(), principal: principal.clone() };
        let reverse_loader = ReverseLoader::new(records.clone(), catalog, principal.clone());
        Self {
            records: DataLoader::new(record_loader, tokio::spawn),
            reverse: DataLoader::new(reverse_loader, tokio::spawn),
            principal,
            cursor_key: OnceCell::new(),
            store: records,
            events: None,
        }
    }

    /// The same caller, with the events its subscription fields read.
    pub fn with_events(mut self, source: crate::subscriptions::EventSource) -> Self {
        self.events = Some(source);
        self
    }

    /// The tenant's key for signing page cursors (read once per request).
    pub async fn cursor_key(&self) -> async_graphql::Result<[u8; 32]> {
        self.cursor_key
            .get_or_try_init(|| async { self.store.cipher.cursor_key(&self.principal.tenant).await })
            .await
            .copied()
            .map_err(errors::internal)
    }

    /// Refuses the field unless the caller holds `scope`.
    pub fn require(&self, scope: &str) -> async_graphql::Result<()> {
        if self.principal.has_scope(scope) { Ok(()) } else { Err(errors::forbidden(scope)) }
    }
}

/// A record as a GraphQL object value: which entity it belongs to, and its (opened) state.
#[derive(Debug, Clone)]
pub struct Node {
    pub entity: Arc<str>,
    pub record: Arc<Record>,
}
