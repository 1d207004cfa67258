//! Ports: where endpoints, deliveries and attempts are kept, and how jobs travel. DynamoDB and SQS adapters live
//! in `dynamo` and `queue`; in-memory ones in `memory` serve the unit tests.

use async_trait::async_trait;

use crate::delivery::{Attempt, DeadLetter, Delivery, DeliveryStatus, Job};
use crate::endpoint::Endpoint;

#[derive(Debug, thiserror::Error)]
pub enum WebhookStoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    /// The item changed since it was read (optimistic concurrency).
    #[error("changed concurrently")]
    Conflict,
    #[error("storage failed: {0}")]
    Backend(String),
}

/// The outcome of trying to start attempt `n` of a delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This caller owns attempt `n` until the lease passes; the delivery as it is now.
    Claimed(Delivery),
    /// Another caller is making attempt `n` right now (a duplicate message).
    Busy,
    /// Attempt `n` is not the one due: it was made already, or the delivery is finished. The current state.
    Stale(Delivery),
    Missing,
}

/// The outcome of asking for a delivery to be tried again (resend, replay, redrive).
#[derive(Debug, Clone, PartialEq)]
pub enum Reopen {
    /// Now pending with a new retry cycle; its job must be enqueued.
    Reopened(Delivery),
    /// Still pending: its retries are running, nothing to do.
    AlreadyPending(Delivery),
    Missing,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
    /// Only deliveries of events at or after this time (RFC 3339).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// The `next` of a previous page.
    pub cursor: Option<String>,
    pub limit: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryPage {
    /// Newest first.
    pub items: Vec<Delivery>,
    pub next: Option<String>,
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), WebhookStoreError>;
    async fn get_endpoint(&self, tenant: &str, id: &str) -> Result<Option<Endpoint>, WebhookStoreError>;
    /// Every endpoint of the tenant, oldest first.
    async fn list_endpoints(&self, tenant: &str) -> Result<Vec<Endpoint>, WebhookStoreError>;
    /// Stores `endpoint` if the stored one still has `expected_version` (else `Conflict`; `NotFound` if gone).
    async fn replace_endpoint(&self, endpoint: &Endpoint, expected_version: u64) -> Result<(), WebhookStoreError>;
    async fn delete_endpoint(&self, tenant: &str, id: &str) -> Result<(), WebhookStoreError>;
    /// Records a failed attempt: starts the failing period unless one runs (a change of the endpoint, so its
    /// version moves and a concurrent replace conflicts instead of erasing it). Returns when it started.
    async fn note_failure(&self, tenant: &str, id: &str, now: &str) -> Result<String, WebhookStoreError>;
    /// Records a success: ends the failing period.
    async fn note_success(&self, tenant: &str, id: &str) -> Result<(), WebhookStoreError>;
    /// Disables an enabled endpoint; `true` when this call did it (so the event is published once).
    async fn disable_endpoint(
        &self,
        tenant: &str,
        id: &str,
        reason: &str,
        now: &str,
    ) -> Result<bool, WebhookStoreError>;

    /// Creates the delivery unless it exists; `false` when it did (a duplicate fan-out).
    async fn create_delivery(&self, delivery: &Delivery) -> Result<bool, WebhookStoreError>;
    async fn get_delivery(&self, tenant: &str, endpoint: &str, id: &str)
    -> Result<Option<Delivery>, WebhookStoreError>;
    async fn list_deliveries(
        &self,
        tenant: &str,
        endpoint: &str,
        query: &DeliveryQuery,
    ) -> Result<DeliveryPage, WebhookStoreError>;
    /// Starts attempt `attempt`, if it is the one due and nobody holds a live lease on it.
    async fn claim_attempt(
        &self,
        tenant: &str,
        endpoint: &str,
        id: &str,
        attempt: u32,
        now: &str,
        lease_until: &str,
    ) -> Result<Claim, WebhookStoreError>;
    /// Records the attempt and the delivery's new state together, provided the caller still owns the attempt
    /// (`Conflict` otherwise).
    async fn finish_attempt(&self, delivery: &Delivery, attempt: &Attempt) -> Result<(), WebhookStoreError>;
    /// Makes a finished delivery pending again with a new retry cycle.
    async fn reopen_delivery(
        &self,
        tenant: &str,
        endpoint: &str,
        id: &str,
        now: &str,
    ) -> Result<Reopen, WebhookStoreError>;
    /// The attempts of a delivery, oldest first.
    async fn list_attempts(
        &self,
        tenant: &str,
        endpoint: &str,
        delivery: &str,
    ) -> Result<Vec<Attempt>, WebhookStoreError>;
    /// Counts one send in the endpoint's window for `second`; `false` when `limit` sends were counted already.
    async fn take_rate_token(
        &self,
        tenant: &str,
        endpoint: &str,
        second: i64,
        limit: u32,
    ) -> Result<bool, WebhookStoreError>;
    /// Takes one of `max` concurrency slots until `lease_until_ms` (a crashed holder's slot frees itself).
    async fn acquire_slot(
        &self,
        tenant: &str,
        endpoint: &str,
        max: u32,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Option<u32>, WebhookStoreError>;
    async fn release_slot(&self, tenant: &str, endpoint: &str, slot: u32) -> Result<(), WebhookStoreError>;
}

#[derive(Debug, thiserror::Error)]
#[error("queue: {0}")]
pub struct QueueError(pub String);

/// The deliveries queue and its dead-letter queue.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Sends jobs, each held back by its delay (SQS allows at most 15 minutes; longer waits are chained).
    async fn enqueue(&self, jobs: &[(Job, std::time::Duration)]) -> Result<(), QueueError>;
    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), QueueError>;
}
