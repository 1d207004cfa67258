//! The `ops` table in DynamoDB. Counters are single `UpdateItem`s with `ADD`, so concurrent Lambda instances never
//! lose a count; idempotency claims are conditional writes.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{Datelike, NaiveDate};
use hw_aws::dynamo::{Item, get_s, key, n, s};

use super::usage::{LatencyHistogram, UsageCell, bucket_of};
use super::{
    AuditEntry, Hits, IdempotencyClaim, IdempotencyScope, OpsStore, RequestLogEntry, StoredResponse, Window, day_of,
    month_of, usage_sk,
};
use crate::ports::StoreError;

fn backend<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    StoreError::Backend(DisplayErrorContext(&e).to_string())
}

fn get_n(item: &Item, attr: &str) -> u64 {
    item.get(attr).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn conditional_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::ServiceError(se) if se.err().code() == Some("ConditionalCheckFailedException"))
}

fn json_attr<T: serde::Serialize>(v: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(v).map(AttributeValue::S).map_err(|e| StoreError::Backend(format!("encoding: {e}")))
}

fn from_json_attr<T: serde::de::DeserializeOwned>(item: &Item, attr: &str) -> Result<T, StoreError> {
    let raw = get_s(item, attr).ok_or_else(|| StoreError::Backend(format!("item lacks `{attr}`")))?;
    serde_json::from_str(raw).map_err(|e| StoreError::Backend(format!("decoding `{attr}`: {e}")))
}

/// Days from `from` to `to` (both `YYYY-MM-DD...`), inclusive.
fn days_between(from: &str, to: &str) -> Vec<String> {
    let parse = |t: &str| NaiveDate::parse_from_str(day_of(t), "%Y-%m-%d").ok();
    let (Some(mut d), Some(end)) = (parse(from), parse(to)) else { return vec![] };
    let mut out = Vec::new();
    while d <= end {
        out.push(d.format("%Y-%m-%d").to_string());
        d = d.succ_opt().expect("dates end far away");
    }
    out
}

/// Months from `to` back to `from` (both `YYYY-MM...`), newest first.
fn months_back(from: &str, to: &str) -> Vec<String> {
    let parse = |t: &str| NaiveDate::parse_from_str(&format!("{}-01", month_of(t)), "%Y-%m-%d").ok();
    let (Some(start), Some(mut m)) = (parse(from), parse(to)) else { return vec![] };
    let mut out = Vec::new();
    while m >= start {
        out.push(m.format("%Y-%m").to_string());
        m = if m.month() == 1 {
            NaiveDate::from_ymd_opt(m.year() - 1, 12, 1)
        } else {
            NaiveDate::from_ymd_opt(m.year(), m.month() - 1, 1)
        }
        .expect("valid month");
    }
    out
}

/// Sort keys `from..=to` of the partition `pk`.
struct SkRange<'a> {
    pk: String,
    from: &'a str,
    to: &'a str,
}

#[derive(PartialEq)]
enum Direction {
    Forward,
    Backward,
}

pub struct DynamoOpsStore {
    client: Client,
    table: String,
}

impl DynamoOpsStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    async fn put_log(&self, e: &RequestLogEntry, expires_at: i64) -> Result<(), StoreError> {
        let pk = match &e.tenant {
            Some(t) => format!("T#{t}#REQ#{}", day_of(&e.time)),
            None => format!("PLATFORM#REQ#{}", day_of(&e.time)),
        };
        let mut item = key(pk, format!("{}#{}", e.time, e.request_id));
        item.insert("entry".into(), json_attr(e)?);
        item.insert("expires_at".into(), n(expires_at));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        Ok(())
    }

    async fn count_usage(&self, tenant: &str, e: &RequestLogEntry, expires_at: i64) -> Result<(), StoreError> {
        let bucket = format!("l{}", bucket_of(e.latency_ms));
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("T#{tenant}#USAGE#{}", day_of(&e.time)), usage_sk(e))))
            .update_expression(
                "ADD requests :one, bytes_in :bi, bytes_out :bo, #bucket :one \
                 SET route = :route, client = :client, http_status = :status, expires_at = :exp",
            )
            .expression_attribute_names("#bucket", bucket)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":bi", n(e.request_bytes))
            .expression_attribute_values(":bo", n(e.response_bytes))
            .expression_attribute_values(":route", s(&e.route))
            .expression_attribute_values(":client", s(e.client.as_deref().unwrap_or("-")))
            .expression_attribute_values(":status", n(e.status))
            .expression_attribute_values(":exp", n(expires_at))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn put_audit(&self, a: &AuditEntry, expires_at: i64) -> Result<(), StoreError> {
        let mut item = key(format!("T#{}#AUDIT#{}", a.tenant, month_of(&a.time)), format!("{}#{}", a.time, a.id));
        item.insert("entry".into(), json_attr(a)?);
        item.insert("expires_at".into(), n(expires_at));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        Ok(())
    }

    /// Queries `from <= sk <= to` of one partition page by page, handing each page to `each` until it says stop.
    async fn query_range(
        &self,
        range: &SkRange<'_>,
        direction: Direction,
        page_size: Option<usize>,
        mut each: impl FnMut(&[Item]) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(&range.pk))
            .expression_attribute_values(":from", s(range.from))
            .expression_attribute_values(":to", s(range.to))
            .scan_index_forward(direction == Direction::Forward)
            .set_limit(page_size.map(|n| n as i32))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            if each(page.map_err(backend)?.items())? {
                break;
            }
        }
        Ok(())
    }

    fn idem_key(scope: &IdempotencyScope<'_>) -> Item {
        key(format!("T#{}#IDEM#{}", scope.tenant, scope.client), scope.key.to_owned())
    }
}

fn usage_cell(item: &Item) -> UsageCell {
    let sk = get_s(item, "sk").unwrap_or_default();
    let mut latency = LatencyHistogram::default();
    for (k, v) in item {
        if let (Some(b), Some(count)) = (k.strip_prefix('l').and_then(|b| b.parse::<u16>().ok()), v.as_n().ok()) {
            latency.buckets.insert(b, count.parse().unwrap_or(0));
        }
    }
    UsageCell {
        minute: sk.get(..16).unwrap_or_default().to_owned(),
        route: get_s(item, "route").unwrap_or_default().to_owned(),
        client: get_s(item, "client").unwrap_or_default().to_owned(),
        status: get_n(item, "http_status") as u16,
        requests: get_n(item, "requests"),
        bytes_in: get_n(item, "bytes_in"),
        bytes_out: get_n(item, "bytes_out"),
        latency,
    }
}

#[async_trait]
impl OpsStore for DynamoOpsStore {
    async fn hit(&self, w: &Window<'_>) -> Result<Hits, StoreError> {
        let client_attr = format!("client:{}", w.client);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("T#{}#RL", w.tenant), w.start.to_string())))
            .update_expression("ADD hits :one, #client :one SET expires_at = :exp")
            .expression_attribute_names("#client", &client_attr)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":exp", n(w.expires_at))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(backend)?;
        let counts = out.attributes.unwrap_or_default();
        Ok(Hits { client: get_n(&counts, &client_attr).max(1), tenant: get_n(&counts, "hits").max(1) })
    }

    async fn record(
        &self,
        entry: &RequestLogEntry,
        audit: Option<&AuditEntry>,
        log_expires_at: i64,
        audit_expires_at: i64,
    ) -> Result<(), StoreError> {
        let log = self.put_log(entry, log_expires_at);
        let usage = async {
            match &entry.tenant {
                Some(t) => self.count_usage(t, entry, log_expires_at).await,
                None => Ok(()),
            }
        };
        let audit = async {
            match audit {
                Some(a) => self.put_audit(a, audit_expires_at).await,
                None => Ok(()),
            }
        };
        let (a, b, c) = tokio::join!(log, usage, audit);
        a.and(b).and(c)
    }

    async fn usage(&self, tenant: &str, from_minute: &str, to_minute: &str) -> Result<Vec<UsageCell>, StoreError> {
        let mut cells = Vec::new();
        for day in days_between(from_minute, to_minute) {
            // `to` is exclusive: every sort key of the minute before it sorts below `to` itself.
            let range = SkRange { pk: format!("T#{tenant}#USAGE#{day}"), from: from_minute, to: to_minute };
            self.query_range(&range, Direction::Forward, None, |items| {
                cells.extend(items.iter().map(usage_cell).filter(|c| c.minute.as_str() < to_minute));
                Ok(false)
            })
            .await?;
        }
        Ok(cells)
    }

    async fn audit(
        &self,
        tenant: &str,
        from: &str,
        to: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
        // Newest first: walk months backwards from the page's upper bound.
        let upper = after.unwrap_or(to);
        let mut entries: Vec<(String, AuditEntry)> = Vec::new();
        for month in months_back(from, upper) {
            let range = SkRange { pk: format!("T#{tenant}#AUDIT#{month}"), from, to: upper };
            self.query_range(&range, Direction::Backward, Some(limit + 1), |items| {
                for item in items {
                    let sk = get_s(item, "sk").unwrap_or_default().to_owned();
                    // BETWEEN is inclusive; the page's upper bound itself was on the previous page (or is `to`).
                    if sk.as_str() < upper {
                        entries.push((sk, from_json_attr(item, "entry")?));
                    }
                }
                Ok(entries.len() > limit)
            })
            .await?;
            if entries.len() > limit {
                break;
            }
        }
        let more = entries.len() > limit;
        entries.truncate(limit);
        let next = if more { entries.last().map(|(sk, _)| sk.clone()) } else { None };
        Ok((entries.into_iter().map(|(_, e)| e).collect(), next))
    }

    async fn claim_idempotency_key(
        &self,
        scope: &IdempotencyScope<'_>,
        fingerprint: &str,
        now: i64,
        lock_until: i64,
        expires_at: i64,
    ) -> Result<IdempotencyClaim, StoreError> {
        let mut item = Self::idem_key(scope);
        item.insert("fingerprint".into(), s(fingerprint));
        item.insert("lock_until".into(), n(lock_until));
        item.insert("expires_at".into(), n(expires_at));
        // Free, expired (TTL deletion lags), or held by a request that died: take it.
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now OR (attribute_not_exists(kept_response) AND lock_until < :now)",
            )
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(IdempotencyClaim::Acquired),
            Err(e) if conditional_failed(&e) => {}
            Err(e) => return Err(backend(e)),
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::idem_key(scope)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        let Some(item) = out.item else {
            // Released between our write and our read: the caller may simply try again.
            return Ok(IdempotencyClaim::InFlight { fingerprint: fingerprint.to_owned() });
        };
        let fingerprint = get_s(&item, "fingerprint").unwrap_or_default().to_owned();
        Ok(match item.get("kept_response") {
            Some(_) => IdempotencyClaim::Completed { fingerprint, response: from_json_attr(&item, "kept_response")? },
            None => IdempotencyClaim::InFlight { fingerprint },
        })
    }

    async fn complete_idempotency_key(
        &self,
        scope: &IdempotencyScope<'_>,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::idem_key(scope)))
            .update_expression("SET kept_response = :r")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":r", json_attr(response)?)
            .send()
            .await
            .map_err(|e| if conditional_failed(&e) { StoreError::NotFound } else { backend(e) })?;
        Ok(())
    }

    async fn release_idempotency_key(&self, scope: &IdempotencyScope<'_>) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::idem_key(scope)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn day_and_month_ranges() {
        assert_eq!(days_between("2026-02-27T10:00", "2026-03-01T00:00"), ["2026-02-27", "2026-02-28", "2026-03-01"]);
        assert_eq!(months_back("2025-11-30T00:00", "2026-01-02T00:00"), ["2026-01", "2025-12", "2025-11"]);
        assert!(days_between("garbage", "2026-01-01").is_empty());
    }

    #[test]
    fn usage_items_decode_with_their_histogram() {
        let item: Item = std::collections::HashMap::from([
            ("sk".to_owned(), s("2026-11-25T10:01#/v1/models#apikey:k#200")),
            ("route".to_owned(), s("/v1/models")),
            ("client".to_owned(), s("apikey:k")),
            ("http_status".to_owned(), n(200)),
            ("requests".to_owned(), n(3)),
            ("l25".to_owned(), n(2)),
            ("l30".to_owned(), n(1)),
        ]);
        let c = usage_cell(&item);
        assert_eq!((c.minute.as_str(), c.status, c.requests), ("2026-11-25T10:01", 200, 3));
        assert_eq!(c.latency.buckets, BTreeMap::from([(25, 2), (30, 1)]));
    }
}
