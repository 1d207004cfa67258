//! The `ops` port in memory, for handler tests.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::usage::{UsageCell, bucket_of};
use super::{
    AuditEntry, IdempotencyClaim, IdempotencyScope, OpsStore, RequestLogEntry, StoredResponse, Window, minute_of,
    usage_sk,
};
use crate::ports::StoreError;

#[derive(Default)]
pub struct MemoryOpsStore {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    windows: HashMap<(String, String, i64), u64>,
    log: Vec<RequestLogEntry>,
    usage: BTreeMap<(String, String), UsageCell>,
    audit: BTreeMap<(String, String), AuditEntry>,
    idempotency: HashMap<(String, String, String), Claim>,
}

/// An idempotency record: fingerprint, lock end, expiry, kept response.
type Claim = (String, i64, i64, Option<StoredResponse>);

impl MemoryOpsStore {
    /// Every request-log entry so far, oldest first.
    pub fn log(&self) -> Vec<RequestLogEntry> {
        self.state.lock().unwrap().log.clone()
    }
}

fn scope_key(s: &IdempotencyScope<'_>) -> (String, String, String) {
    (s.tenant.to_owned(), s.client.to_owned(), s.key.to_owned())
}

#[async_trait]
impl OpsStore for MemoryOpsStore {
    async fn hit(&self, windows: &[Window<'_>]) -> Result<Vec<u64>, StoreError> {
        let mut s = self.state.lock().unwrap();
        Ok(windows
            .iter()
            .map(|w| {
                let n = s.windows.entry((w.tenant.to_owned(), w.counter.to_owned(), w.start)).or_default();
                *n += 1;
                *n
            })
            .collect())
    }

    async fn record(
        &self,
        entry: &RequestLogEntry,
        audit: Option<&AuditEntry>,
        _log_expires_at: i64,
        _audit_expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        s.log.push(entry.clone());
        if let Some(t) = &entry.tenant {
            let cell = s.usage.entry((t.clone(), usage_sk(entry))).or_insert_with(|| UsageCell {
                minute: minute_of(&entry.time).to_owned(),
                route: entry.route.clone(),
                client: entry.client.clone().unwrap_or_else(|| "-".into()),
                status: entry.status,
                ..UsageCell::default()
            });
            cell.requests += 1;
            cell.bytes_in += entry.request_bytes;
            cell.bytes_out += entry.response_bytes;
            *cell.latency.buckets.entry(bucket_of(entry.latency_ms)).or_default() += 1;
        }
        if let Some(a) = audit {
            s.audit.insert((a.tenant.clone(), format!("{}#{}", a.time, a.id)), a.clone());
        }
        Ok(())
    }

    async fn usage(&self, tenant: &str, from_minute: &str, to_minute: &str) -> Result<Vec<UsageCell>, StoreError> {
        let s = self.state.lock().unwrap();
        Ok(s.usage
            .iter()
            .filter(|((t, _), c)| t == tenant && c.minute.as_str() >= from_minute && c.minute.as_str() < to_minute)
            .map(|(_, c)| c.clone())
            .collect())
    }

    async fn audit(
        &self,
        tenant: &str,
        from: &str,
        to: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
        let s = self.state.lock().unwrap();
        let upper = after.unwrap_or(to);
        let mut page: Vec<(&String, &AuditEntry)> = s
            .audit
            .iter()
            .filter(|((t, sk), _)| t == tenant && sk.as_str() >= from && sk.as_str() < upper)
            .map(|((_, sk), e)| (sk, e))
            .collect();
        page.reverse();
        let more = page.len() > limit;
        page.truncate(limit);
        let next = if more { page.last().map(|(sk, _)| (*sk).clone()) } else { None };
        Ok((page.into_iter().map(|(_, e)| e.clone()).collect(), next))
    }

    async fn claim_idempotency_key(
        &self,
        scope: &IdempotencyScope<'_>,
        fingerprint: &str,
        now: i64,
        lock_until: i64,
        expires_at: i64,
    ) -> Result<IdempotencyClaim, StoreError> {
        let mut s = self.state.lock().unwrap();
        let k = scope_key(scope);
        match s.idempotency.get(&k) {
            Some((fp, lock, exp, response)) if *exp >= now && (response.is_some() || *lock >= now) => {
                Ok(match response {
                    Some(r) => IdempotencyClaim::Completed { fingerprint: fp.clone(), response: r.clone() },
                    None => IdempotencyClaim::InFlight { fingerprint: fp.clone() },
                })
            }
            _ => {
                s.idempotency.insert(k, (fingerprint.to_owned(), lock_until, expires_at, None));
                Ok(IdempotencyClaim::Acquired)
            }
        }
    }

    async fn complete_idempotency_key(
        &self,
        scope: &IdempotencyScope<'_>,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        let entry = s.idempotency.get_mut(&scope_key(scope)).ok_or(StoreError::NotFound)?;
        entry.3 = Some(response.clone());
        Ok(())
    }

    async fn release_idempotency_key(&self, scope: &IdempotencyScope<'_>) -> Result<(), StoreError> {
        self.state.lock().unwrap().idempotency.remove(&scope_key(scope));
        Ok(())
    }
}
