//! What is kept about WebSocket connections and their subscriptions between Lambda invocations (each message of a
//! connection may reach another instance), behind a port with a DynamoDB adapter ([`crate::dynamo`]) and an
//! in-memory one ([`MemoryConnections`]) for tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use hw_domain::principal::Principal;
use hw_graphql::Authenticated;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// API Gateway ends every WebSocket connection after 2 hours; items are kept a little longer, then expire by TTL
/// (a `$disconnect` is best effort).
pub const CONNECTION_LIFETIME_SECONDS: i64 = 2 * 3600 + 300;

/// Subscriptions one connection may hold at once: each costs an item and a run per matching event, so a client
/// cannot make one connection arbitrarily expensive.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub id: String,
    pub connected_at: i64,
    /// The URL the client connected to (scheme and host): tokens' issuers are checked against it when no public
    /// base URL is configured. Only `$connect` sees the request's headers, so it is kept here.
    pub request_base: String,
    /// The credentials' principal, once `connection_init` was accepted.
    pub caller: Option<Caller>,
}

/// Who a connection acts as, and until when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Caller {
    pub principal: Principal,
    /// When the credentials end (a token's `exp`), in seconds since the epoch.
    pub expires_at: Option<i64>,
}

impl From<Authenticated> for Caller {
    fn from(a: Authenticated) -> Self {
        Self { principal: a.principal, expires_at: a.expires_at }
    }
}

impl Caller {
    pub fn authenticated(&self) -> Authenticated {
        Authenticated { principal: self.principal.clone(), expires_at: self.expires_at }
    }
}

/// One subscription as the publisher needs it: where to send, what to run, as whom.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSubscription {
    pub connection: String,
    /// The client's operation id.
    pub id: String,
    pub tenant: String,
    pub entity: String,
    /// `record.created`, `record.updated` or `record.deleted`.
    pub event_type: String,
    pub query: String,
    pub variables: Option<Value>,
    pub operation_name: Option<String>,
    pub caller: Caller,
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("the connection is unknown or closed")]
    NoConnection,
    #[error("already there")]
    Exists,
    #[error("the connection holds {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions already")]
    Full,
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// Records a new connection (`$connect`).
    async fn open(&self, connection: &Connection) -> Result<(), StoreError>;
    async fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError>;
    /// Records the caller of an accepted `connection_init`, once: `Exists` for a second one, `NoConnection` when the
    /// connection is not open.
    async fn initialise(&self, id: &str, caller: &Caller) -> Result<(), StoreError>;
    /// `Exists` when the connection already has a subscription with this id, `Full` when it holds
    /// [`MAX_SUBSCRIPTIONS_PER_CONNECTION`], `NoConnection` when it is not open.
    async fn subscribe(&self, subscription: &StoredSubscription) -> Result<(), StoreError>;
    async fn unsubscribe(&self, connection: &str, id: &str) -> Result<(), StoreError>;
    /// Forgets a connection and all its subscriptions.
    async fn close(&self, id: &str) -> Result<(), StoreError>;
    /// The subscriptions of a tenant on an entity (any event type), across connections.
    async fn subscribers(&self, tenant: &str, entity: &str) -> Result<Vec<StoredSubscription>, StoreError>;
}

/// In memory, for tests.
#[derive(Default)]
pub struct MemoryConnections {
    connections: Mutex<BTreeMap<String, Connection>>,
    subscriptions: Mutex<BTreeMap<(String, String), StoredSubscription>>,
}

#[async_trait]
impl ConnectionStore for MemoryConnections {
    async fn open(&self, connection: &Connection) -> Result<(), StoreError> {
        self.connections.lock().expect("connections").insert(connection.id.clone(), connection.clone());
        Ok(())
    }

    async fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError> {
        Ok(self.connections.lock().expect("connections").get(id).cloned())
    }

    async fn initialise(&self, id: &str, caller: &Caller) -> Result<(), StoreError> {
        let mut connections = self.connections.lock().expect("connections");
        let c = connections.get_mut(id).ok_or(StoreError::NoConnection)?;
        if c.caller.is_some() {
            return Err(StoreError::Exists);
        }
        c.caller = Some(caller.clone());
        Ok(())
    }

    async fn subscribe(&self, s: &StoredSubscription) -> Result<(), StoreError> {
        if !self.connections.lock().expect("connections").contains_key(&s.connection) {
            return Err(StoreError::NoConnection);
        }
        let mut subs = self.subscriptions.lock().expect("subscriptions");
        let key = (s.connection.clone(), s.id.clone());
        if subs.contains_key(&key) {
            return Err(StoreError::Exists);
        }
        if subs.keys().filter(|(c, _)| *c == s.connection).count() >= MAX_SUBSCRIPTIONS_PER_CONNECTION {
            return Err(StoreError::Full);
        }
        subs.insert(key, s.clone());
        Ok(())
    }

    async fn unsubscribe(&self, connection: &str, id: &str) -> Result<(), StoreError> {
        self.subscriptions.lock().expect("subscriptions").remove(&(connection.to_owned(), id.to_owned()));
        Ok(())
    }

    async fn close(&self, id: &str) -> Result<(), StoreError> {
        self.connections.lock().expect("connections").remove(id);
        self.subscriptions.lock().expect("subscriptions").retain(|(c, _), _| c != id);
        Ok(())
    }

    async fn subscribers(&self, tenant: &str, entity: &str) -> Result<Vec<StoredSubscription>, StoreError> {
        let subs = self.subscriptions.lock().expect("subscriptions");
        Ok(subs.values().filter(|s| s.tenant == tenant && s.entity == entity).cloned().collect())
    }
}
