//! In-memory adapters for unit tests: the same contract as DynamoDB and SQS, in a mutex.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::delivery::{Attempt, DeadLetter, Delivery, DeliveryStatus, Job};
use crate::endpoint::Endpoint;
use crate::ports::{Claim, DeliveryPage, DeliveryQuery, JobQueue, QueueError, Reopen, WebhookStore, WebhookStoreError};

type Key = (String, String);

#[derive(Default)]
struct State {
    /// (tenant, id) → endpoint
    endpoints: BTreeMap<Key, Endpoint>,
    /// (tenant/endpoint, delivery id) → delivery
    deliveries: BTreeMap<Key, Delivery>,
    attempts: BTreeMap<(String, String, u32), Attempt>,
    rates: HashMap<(String, i64), u32>,
    slots: HashMap<(String, u32), i64>,
}

#[derive(Default)]
pub struct MemoryWebhookStore {
    state: Mutex<State>,
}

fn scope(tenant: &str, endpoint: &str) -> String {
    format!("{tenant}/{endpoint}")
}

impl MemoryWebhookStore {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("not poisoned"))
    }
}

#[async_trait]
impl WebhookStore for MemoryWebhookStore {
    async fn create_endpoint(&self, e: &Endpoint) -> Result<(), WebhookStoreError> {
        self.with(|s| {
            let key = (e.tenant.clone(), e.id.clone());
            if s.endpoints.contains_key(&key) {
                return Err(WebhookStoreError::AlreadyExists);
            }
            s.endpoints.insert(key, e.clone());
            Ok(())
        })
    }

    async fn get_endpoint(&self, tenant: &str, id: &str) -> Result<Option<Endpoint>, WebhookStoreError> {
        Ok(self.with(|s| s.endpoints.get(&(tenant.to_owned(), id.to_owned())).cloned()))
    }

    async fn list_endpoints(&self, tenant: &str) -> Result<Vec<Endpoint>, WebhookStoreError> {
        Ok(self.with(|s| s.endpoints.values().filter(|e| e.tenant == tenant).cloned().collect()))
    }

    async fn replace_endpoint(&self, e: &Endpoint, expected_version: u64) -> Result<(), WebhookStoreError> {
        self.with(|s| match s.endpoints.get_mut(&(e.tenant.clone(), e.id.clone())) {
            None => Err(WebhookStoreError::NotFound),
            Some(current) if current.version != expected_version => Err(WebhookStoreError::Conflict),
            Some(current) => {
                *current = e.clone();
                Ok(())
            }
        })
    }

    async fn delete_endpoint(&self, tenant: &str, id: &str) -> Result<(), WebhookStoreError> {
        self.with(|s| s.endpoints.remove(&(tenant.to_owned(), id.to_owned())).map(|_| ()))
            .ok_or(WebhookStoreError::NotFound)
    }

    async fn note_failure(&self, tenant: &str, id: &str, now: &str) -> Result<String, WebhookStoreError> {
        self.with(|s| {
            let e = s.endpoints.get_mut(&(tenant.to_owned(), id.to_owned())).ok_or(WebhookStoreError::NotFound)?;
            if e.failing_since.is_none() {
                e.failing_since = Some(now.to_owned());
                e.version += 1;
            }
            Ok(e.failing_since.clone().expect("set above"))
        })
    }

    async fn note_success(&self, tenant: &str, id: &str) -> Result<(), WebhookStoreError> {
        self.with(|s| {
            if let Some(e) = s.endpoints.get_mut(&(tenant.to_owned(), id.to_owned()))
                && e.failing_since.take().is_some()
            {
                e.version += 1;
            }
        });
        Ok(())
    }

    async fn disable_endpoint(
        &self,
        tenant: &str,
        id: &str,
        reason: &str,
        now: &str,
    ) -> Result<bool, WebhookStoreError> {
        self.with(|s| {
            let e = s.endpoints.get_mut(&(tenant.to_owned(), id.to_owned())).ok_or(WebhookStoreError::NotFound)?;
            if !e.enabled {
                return Ok(false);
            }
            e.enabled = false;
            e.disabled_reason = Some(reason.to_owned());
            e.disabled_at = Some(now.to_owned());
            e.version += 1;
            e.updated_at = now.to_owned();
            Ok(true)
        })
    }

    async fn create_delivery(&self, d: &Delivery) -> Result<bool, WebhookStoreError> {
        Ok(self.with(|s| {
            let key = (scope(&d.tenant, &d.endpoint_id), d.id.clone());
            if s.deliveries.contains_key(&key) {
                return false;
            }
            s.deliveries.insert(key, d.clone());
            true
        }))
    }

    async fn get_delivery(&self, tenant: &str, ep: &str, id: &str) -> Result<Option<Delivery>, WebhookStoreError> {
        Ok(self.with(|s| s.deliveries.get(&(scope(tenant, ep), id.to_owned())).cloned()))
    }

    async fn list_deliveries(
        &self,
        tenant: &str,
        ep: &str,
        q: &DeliveryQuery,
    ) -> Result<DeliveryPage, WebhookStoreError> {
        let scope = scope(tenant, ep);
        let since = q.since.map(crate::delivery::id_floor);
        Ok(self.with(|s| {
            let mut matching = s
                .deliveries
                .iter()
                .rev()
                .filter(|((sc, id), _)| *sc == scope && q.cursor.as_ref().is_none_or(|c| id < c))
                .filter(|((_, id), _)| since.as_ref().is_none_or(|f| id >= f))
                .map(|(_, d)| d)
                .filter(|d| q.status.is_none_or(|st| d.status == st));
            let items: Vec<Delivery> = matching.by_ref().take(q.limit).cloned().collect();
            let next = if matching.next().is_some() { items.last().map(|d| d.id.clone()) } else { None };
            DeliveryPage { items, next }
        }))
    }

    async fn claim_attempt(
        &self,
        tenant: &str,
        ep: &str,
        id: &str,
        attempt: u32,
        now: &str,
        lease_until: &str,
    ) -> Result<Claim, WebhookStoreError> {
        Ok(self.with(|s| {
            let Some(d) = s.deliveries.get_mut(&(scope(tenant, ep), id.to_owned())) else {
                return Claim::Missing;
            };
            if d.status != DeliveryStatus::Pending || d.next_attempt() != attempt {
                return Claim::Stale(d.clone());
            }
            if d.lease_until.as_deref().is_some_and(|l| l > now) {
                return Claim::Busy;
            }
            d.lease_until = Some(lease_until.to_owned());
            Claim::Claimed(d.clone())
        }))
    }

    async fn finish_attempt(&self, d: &Delivery, a: &Attempt) -> Result<(), WebhookStoreError> {
        self.with(|s| {
            let key = (scope(&d.tenant, &d.endpoint_id), d.id.clone());
            let current = s.deliveries.get_mut(&key).ok_or(WebhookStoreError::NotFound)?;
            if current.status != DeliveryStatus::Pending
                || current.next_attempt() != a.number
                || current.lease_until.is_none()
            {
                return Err(WebhookStoreError::Conflict);
            }
            *current = d.clone();
            s.attempts.insert((key.0, key.1, a.number), a.clone());
            Ok(())
        })
    }

    async fn reopen_delivery(&self, tenant: &str, ep: &str, id: &str, now: &str) -> Result<Reopen, WebhookStoreError> {
        Ok(self.with(|s| {
            let Some(d) = s.deliveries.get_mut(&(scope(tenant, ep), id.to_owned())) else {
                return Reopen::Missing;
            };
            if d.status == DeliveryStatus::Pending {
                return Reopen::AlreadyPending(d.clone());
            }
            d.reopen(now);
            Reopen::Reopened(d.clone())
        }))
    }

    async fn list_attempts(&self, tenant: &str, ep: &str, delivery: &str) -> Result<Vec<Attempt>, WebhookStoreError> {
        let scope = scope(tenant, ep);
        Ok(self.with(|s| {
            s.attempts.iter().filter(|((sc, d, _), _)| *sc == scope && d == delivery).map(|(_, a)| a.clone()).collect()
        }))
    }

    async fn take_rate_token(
        &self,
        tenant: &str,
        ep: &str,
        second: i64,
        limit: u32,
    ) -> Result<bool, WebhookStoreError> {
        Ok(self.with(|s| {
            let n = s.rates.entry((scope(tenant, ep), second)).or_default();
            if *n >= limit {
                return false;
            }
            *n += 1;
            true
        }))
    }

    async fn acquire_slot(
        &self,
        tenant: &str,
        ep: &str,
        max: u32,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Option<u32>, WebhookStoreError> {
        let scope = scope(tenant, ep);
        Ok(self.with(|s| {
            for slot in 0..max {
                let held = s.slots.get(&(scope.clone(), slot)).is_some_and(|until| *until > now_ms);
                if !held {
                    s.slots.insert((scope.clone(), slot), lease_until_ms);
                    return Some(slot);
                }
            }
            None
        }))
    }

    async fn release_slot(&self, tenant: &str, ep: &str, slot: u32) -> Result<(), WebhookStoreError> {
        self.with(|s| s.slots.remove(&(scope(tenant, ep), slot)));
        Ok(())
    }
}

/// Remembers what was enqueued and dead-lettered.
#[derive(Default)]
pub struct MemoryJobQueue {
    pub jobs: Mutex<Vec<(Job, Duration)>>,
    pub dead: Mutex<Vec<DeadLetter>>,
}

impl MemoryJobQueue {
    /// Takes every job enqueued so far.
    pub fn drain(&self) -> Vec<(Job, Duration)> {
        std::mem::take(&mut *self.jobs.lock().expect("not poisoned"))
    }
}

#[async_trait]
impl JobQueue for MemoryJobQueue {
    async fn enqueue(&self, jobs: &[(Job, Duration)]) -> Result<(), QueueError> {
        self.jobs.lock().expect("not poisoned").extend_from_slice(jobs);
        Ok(())
    }

    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), QueueError> {
        self.dead.lock().expect("not poisoned").push(letter.clone());
        Ok(())
    }
}
