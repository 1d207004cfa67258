//! What the API keeps about its own traffic, in the `ops` table: rate-limit windows, the request log, usage
//! counters, the audit log and idempotency records. Every item carries a TTL.
//!
//! ops table
//!   T#{t}#RL / {counter}#{window start}                 requests counted in one rate-limit window
//!   T#{t}#REQ#{day} / {time}#{request id}               one request-log entry
//!   PLATFORM#REQ#{day} / {time}#{request id}            a request no tenant could be found for
//!   T#{t}#USAGE#{day} / {minute}#{route}#{client}#{status}  per-minute usage counters and latency histogram
//!   T#{t}#AUDIT#{month} / {time}#{request id}           one audit entry
//!   T#{t}#IDEM#{client} / {key}                         an idempotency record

pub mod dynamo;
pub mod memory;
pub mod usage;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ports::StoreError;
pub use usage::{LatencyHistogram, UsageCell};

/// One served request, as the request log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestLogEntry {
    /// `None` when the request never reached a tenant (no or unknown credentials, no route).
    pub tenant: Option<String>,
    pub request_id: String,
    /// RFC 3339 with milliseconds, UTC.
    pub time: String,
    /// `apikey:<id>` (or an OAuth client later); `None` when unauthenticated.
    pub client: Option<String>,
    pub method: String,
    /// The route template (`/v1/data/{entity}/{id}`), so entries group without leaking ids.
    pub route: String,
    pub path: String,
    pub status: u16,
    pub latency_ms: f64,
    pub request_bytes: u64,
    pub response_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
}

/// One write or administrative action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub tenant: String,
    pub time: String,
    pub actor: String,
    /// `record.create`, `model.update`, `api_key.rotate`, ...
    pub action: String,
    pub method: String,
    pub route: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<AuditTarget>,
    pub status: u16,
    /// `success` or `failure`.
    pub outcome: String,
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditTarget {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// A response kept for idempotent replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// What a request finds when it claims an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyClaim {
    /// The key was free; this request now owns it.
    Acquired,
    /// Another request with this key is still running (or died less than a lock period ago).
    InFlight { fingerprint: String },
    /// A request with this key finished; its response is kept.
    Completed { fingerprint: String, response: StoredResponse },
}

/// Where idempotency keys live: per tenant and client, as each client names its own keys.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyScope<'a> {
    pub tenant: &'a str,
    pub client: &'a str,
    pub key: &'a str,
}

/// A rate-limit counter: `tenant` for the tenant's total, or a client id.
#[derive(Debug, Clone, PartialEq)]
pub struct Window<'a> {
    pub tenant: &'a str,
    pub counter: &'a str,
    /// Unix seconds at which the window starts.
    pub start: i64,
    /// Unix seconds after which the counter may be deleted.
    pub expires_at: i64,
}

#[async_trait]
pub trait OpsStore: Send + Sync {
    /// Counts one request in each window, atomically per window, and returns the counts after it.
    async fn hit(&self, windows: &[Window<'_>]) -> Result<Vec<u64>, StoreError>;

    /// Stores the request-log entry and adds the request to the usage counters; also the audit entry if there is
    /// one. `log_expires_at` and `audit_expires_at` are Unix seconds.
    async fn record(
        &self,
        entry: &RequestLogEntry,
        audit: Option<&AuditEntry>,
        log_expires_at: i64,
        audit_expires_at: i64,
    ) -> Result<(), StoreError>;

    /// Usage counters of the minutes in `[from, to)` (both `YYYY-MM-DDTHH:MM`).
    async fn usage(&self, tenant: &str, from_minute: &str, to_minute: &str) -> Result<Vec<UsageCell>, StoreError>;

    /// Audit entries with `from <= time < to`, newest first; `after` is the sort key of the last entry of the
    /// previous page. Returns the entries and the sort key to continue after, if there are more.
    async fn audit(
        &self,
        tenant: &str,
        from: &str,
        to: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError>;

    /// Claims `scope` for a request whose body has `fingerprint`. A claim whose holder died is taken over once
    /// `lock_until` of the earlier claim has passed.
    async fn claim_idempotency_key(
        &self,
        scope: &IdempotencyScope<'_>,
        fingerprint: &str,
        now: i64,
        lock_until: i64,
        expires_at: i64,
    ) -> Result<IdempotencyClaim, StoreError>;
    /// Keeps the response of the request that holds the claim.
    async fn complete_idempotency_key(
        &self,
        scope: &IdempotencyScope<'_>,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;
    /// Gives the key up, so that a retry runs again (after a server error).
    async fn release_idempotency_key(&self, scope: &IdempotencyScope<'_>) -> Result<(), StoreError>;
}

pub fn day_of(time: &str) -> &str {
    &time[..10.min(time.len())]
}

pub fn month_of(time: &str) -> &str {
    &time[..7.min(time.len())]
}

pub fn minute_of(time: &str) -> &str {
    &time[..16.min(time.len())]
}

/// The usage-counter sort key of a request.
pub fn usage_sk(entry: &RequestLogEntry) -> String {
    format!("{}#{}#{}#{}", minute_of(&entry.time), entry.route, entry.client.as_deref().unwrap_or("-"), entry.status)
}
