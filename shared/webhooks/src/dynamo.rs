//! The DynamoDB adapter of `WebhookStore`, on the `webhooks` table:
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | endpoint | `T#<tenant>` | `E#<endpoint id>` | `version` for optimistic concurrency |
//! | delivery | `T#<tenant>#E#<endpoint id>` | `D#<delivery id>` | ids are `msg_<ulid>`: the sort key is time order |
//! | attempt | `T#<tenant>#E#<endpoint id>` | `A#<delivery id>#<number, 4 digits>` | |
//! | rate window | `T#<tenant>#E#<endpoint id>` | `R#<epoch second>` | count `n` |
//! | concurrency slot | `T#<tenant>#E#<endpoint id>` | `S#<slot>` | `lease_until_ms` |
//!
//! Deliveries, attempts, windows and slots expire by TTL (`expires_at`): the delivery log's retention.
//! The delivery's status is stored as `delivery_status` so expressions need no reserved word.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};
use hw_aws::dynamo::{Item, key, n, s};
use serde::{Deserialize, Serialize};

use crate::delivery::{Attempt, Delivery, DeliveryStatus};
use crate::endpoint::Endpoint;
use crate::ports::{Claim, DeliveryPage, DeliveryQuery, Reopen, WebhookStore, WebhookStoreError};

/// Default retention of the delivery log.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;

#[derive(Clone)]
pub struct DynamoWebhookStore {
    client: Client,
    table: String,
    retention: chrono::Duration,
}

impl DynamoWebhookStore {
    pub fn new(client: Client, table: impl Into<String>, retention: chrono::Duration) -> Self {
        Self { client, table: table.into(), retention }
    }

    /// The deployment's webhooks table, with the delivery log's retention from its limits.
    pub fn for_config(client: Client, config: &hw_resources::Config) -> Self {
        let retention = chrono::Duration::days(i64::from(config.limits.webhook_log_days));
        Self::new(client, &config.webhooks_table, retention)
    }

    fn expires_at(&self) -> AttributeValue {
        n((chrono::Utc::now() + self.retention).timestamp())
    }
}

fn backend<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> WebhookStoreError {
    WebhookStoreError::Backend(hw_aws::dynamo::error_text(&e))
}

/// The outcome of a conditional write: `Some` when it was made, `None` when its condition did not hold.
fn checked<T, E: std::error::Error + ProvideErrorMetadata + 'static, R: std::fmt::Debug>(
    result: Result<T, SdkError<E, R>>,
) -> Result<Option<T>, WebhookStoreError> {
    hw_aws::dynamo::checked(result).map_err(backend)
}

fn tenant_pk(tenant: &str) -> String {
    format!("T#{tenant}")
}

fn endpoint_pk(tenant: &str, endpoint: &str) -> String {
    format!("T#{tenant}#E#{endpoint}")
}

/// The key of endpoint `id`.
fn endpoint_key(tenant: &str, id: &str) -> Item {
    key(tenant_pk(tenant), format!("E#{id}"))
}

/// The key of delivery `id` of endpoint `ep`.
fn delivery_key(tenant: &str, ep: &str, id: &str) -> Item {
    key(endpoint_pk(tenant, ep), format!("D#{id}"))
}

fn to_item<T: Serialize>(v: &T, pk: String, sk: String) -> Result<Item, WebhookStoreError> {
    let mut item: Item = serde_dynamo::to_item(v).map_err(|e| WebhookStoreError::Backend(format!("encoding: {e}")))?;
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    Ok(item)
}

fn from_item<T: for<'de> Deserialize<'de>>(mut item: Item) -> Result<T, WebhookStoreError> {
    for k in ["pk", "sk", "expires_at"] {
        item.remove(k);
    }
    serde_dynamo::from_item(item).map_err(|e| WebhookStoreError::Backend(format!("decoding: {e}")))
}

fn delivery_item(d: &Delivery, expires_at: AttributeValue) -> Result<Item, WebhookStoreError> {
    let mut item = to_item(d, endpoint_pk(&d.tenant, &d.endpoint_id), format!("D#{}", d.id))?;
    if let Some(status) = item.remove("status") {
        item.insert("delivery_status".into(), status);
    }
    item.insert("expires_at".into(), expires_at);
    // Absent rather than NULL, so that `attribute_not_exists(lease_until)` means "no lease".
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    Ok(item)
}

fn delivery_from(mut item: Item) -> Result<Delivery, WebhookStoreError> {
    if let Some(status) = item.remove("delivery_status") {
        item.insert("status".into(), status);
    }
    from_item(item)
}

/// `pending` as stored.
fn pending() -> AttributeValue {
    s(DeliveryStatus::Pending.as_str())
}

#[async_trait]
impl WebhookStore for DynamoWebhookStore {
    async fn create_endpoint(&self, e: &Endpoint) -> Result<(), WebhookStoreError> {
        let item = to_item(e, tenant_pk(&e.tenant), format!("E#{}", e.id))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        checked(result)?.map(|_| ()).ok_or(WebhookStoreError::AlreadyExists)
    }

    async fn get_endpoint(&self, tenant: &str, id: &str) -> Result<Option<Endpoint>, WebhookStoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(tenant, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.map(from_item).transpose()
    }

    async fn list_endpoints(&self, tenant: &str) -> Result<Vec<Endpoint>, WebhookStoreError> {
        let pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :e)")
            .expression_attribute_values(":pk", s(tenant_pk(tenant)))
            .expression_attribute_values(":e", s("E#"))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        pages.into_iter().map(|item| from_item(item.map_err(backend)?)).collect()
    }

    async fn replace_endpoint(&self, e: &Endpoint, expected_version: u64) -> Result<(), WebhookStoreError> {
        let item = to_item(e, tenant_pk(&e.tenant), format!("E#{}", e.id))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("#v = :v")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":v", n(expected_version))
            .send()
            .await;
        match checked(result)? {
            Some(_) => Ok(()),
            None if self.get_endpoint(&e.tenant, &e.id).await?.is_none() => Err(WebhookStoreError::NotFound),
            None => Err(WebhookStoreError::Conflict),
        }
    }

    async fn delete_endpoint(&self, tenant: &str, id: &str) -> Result<(), WebhookStoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(tenant, id)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        checked(result)?.map(|_| ()).ok_or(WebhookStoreError::NotFound)
    }

    async fn note_failure(&self, tenant: &str, id: &str, now: &str) -> Result<String, WebhookStoreError> {
        // Only the first failure of a run writes (and changes the version, as the endpoint's representation
        // changes); the others read when the run began.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(tenant, id)))
            .update_expression("SET failing_since = :now, #v = #v + :one")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(failing_since)")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        match checked(result)? {
            Some(_) => Ok(now.to_owned()),
            None => self
                .get_endpoint(tenant, id)
                .await?
                .ok_or(WebhookStoreError::NotFound)
                .map(|e| e.failing_since.unwrap_or_else(|| now.to_owned())),
        }
    }

    async fn note_success(&self, tenant: &str, id: &str) -> Result<(), WebhookStoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(tenant, id)))
            .update_expression("REMOVE failing_since SET #v = #v + :one")
            .condition_expression("attribute_exists(failing_since)")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        // `None`: nothing to end, the usual case.
        checked(result).map(|_| ())
    }

    async fn disable_endpoint(
        &self,
        tenant: &str,
        id: &str,
        reason: &str,
        now: &str,
    ) -> Result<bool, WebhookStoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(tenant, id)))
            .update_expression(
                "SET enabled = :f, disabled_reason = :r, disabled_at = :now, updated_at = :now, #v = #v + :one",
            )
            .condition_expression("enabled = :t")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":r", s(reason))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        Ok(checked(result)?.is_some())
    }

    async fn create_delivery(&self, d: &Delivery) -> Result<bool, WebhookStoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(delivery_item(d, self.expires_at())?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        Ok(checked(result)?.is_some())
    }

    async fn get_delivery(&self, tenant: &str, ep: &str, id: &str) -> Result<Option<Delivery>, WebhookStoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(delivery_key(tenant, ep, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.map(delivery_from).transpose()
    }

    async fn list_deliveries(
        &self,
        tenant: &str,
        ep: &str,
        q: &DeliveryQuery,
    ) -> Result<DeliveryPage, WebhookStoreError> {
        let pk = endpoint_pk(tenant, ep);
        let low = format!("D#{}", q.since.map(crate::delivery::id_floor).unwrap_or_default());
        let mut start = q.cursor.as_ref().map(|c| key(pk.clone(), format!("D#{c}")));
        let mut items = Vec::new();
        let limit = q.limit.max(1);
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":low", s(&low))
                .expression_attribute_values(":high", s("D#\u{10FFFF}"))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit((limit + 1 - items.len().min(limit)) as i32)
                .set_exclusive_start_key(start.take());
            if let Some(status) = q.status {
                req = req
                    .filter_expression("delivery_status = :st")
                    .expression_attribute_values(":st", s(status.as_str()));
            }
            let out = req.send().await.map_err(backend)?;
            for item in out.items.unwrap_or_default() {
                items.push(delivery_from(item)?);
            }
            start = out.last_evaluated_key;
            if items.len() > limit || start.is_none() {
                break;
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|d| d.id.clone())
        } else {
            None
        };
        Ok(DeliveryPage { items, next })
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
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(delivery_key(tenant, ep, id)))
            .update_expression("SET lease_until = :lease")
            .condition_expression(
                "delivery_status = :pending AND attempts = :made AND \
                 (attribute_not_exists(lease_until) OR lease_until < :now)",
            )
            .expression_attribute_values(":pending", pending())
            .expression_attribute_values(":made", n(attempt.saturating_sub(1)))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":lease", s(lease_until))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match checked(result)? {
            Some(out) => Ok(Claim::Claimed(delivery_from(out.attributes.unwrap_or_default())?)),
            None => Ok(match self.get_delivery(tenant, ep, id).await? {
                None => Claim::Missing,
                Some(d) if d.status == DeliveryStatus::Pending && d.next_attempt() == attempt => Claim::Busy,
                Some(d) => Claim::Stale(d),
            }),
        }
    }

    async fn finish_attempt(&self, d: &Delivery, a: &Attempt) -> Result<(), WebhookStoreError> {
        let pk = endpoint_pk(&d.tenant, &d.endpoint_id);
        let mut attempt_item = to_item(a, pk.clone(), format!("A#{}#{:04}", d.id, a.number))?;
        attempt_item.insert("expires_at".into(), self.expires_at());
        let put_delivery = Put::builder()
            .table_name(&self.table)
            .set_item(Some(delivery_item(d, self.expires_at())?))
            .condition_expression("delivery_status = :pending AND attempts = :made AND attribute_exists(lease_until)")
            .expression_attribute_values(":pending", pending())
            .expression_attribute_values(":made", n(a.number.saturating_sub(1)))
            .build()
            .expect("table and item set");
        let put_attempt =
            Put::builder().table_name(&self.table).set_item(Some(attempt_item)).build().expect("table and item set");
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_delivery).build())
            .transact_items(TransactWriteItem::builder().put(put_attempt).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se))
                if matches!(
                    se.err(),
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(_)
                ) =>
            {
                Err(WebhookStoreError::Conflict)
            }
            Err(err) => Err(backend(err)),
        }
    }

    async fn reopen_delivery(&self, tenant: &str, ep: &str, id: &str, now: &str) -> Result<Reopen, WebhookStoreError> {
        // Read, change, write back under a condition on what was read; a concurrent change makes us read again.
        for _ in 0..5 {
            let Some(mut d) = self.get_delivery(tenant, ep, id).await? else {
                return Ok(Reopen::Missing);
            };
            if d.status == DeliveryStatus::Pending {
                return Ok(Reopen::AlreadyPending(d));
            }
            let (status, attempts) = (d.status, d.attempts);
            d.reopen(now);
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(delivery_item(&d, self.expires_at())?))
                .condition_expression("delivery_status = :st AND attempts = :a")
                .expression_attribute_values(":st", s(status.as_str()))
                .expression_attribute_values(":a", n(attempts))
                .send()
                .await;
            if checked(result)?.is_some() {
                return Ok(Reopen::Reopened(d));
            }
        }
        Err(WebhookStoreError::Conflict)
    }

    async fn list_attempts(&self, tenant: &str, ep: &str, delivery: &str) -> Result<Vec<Attempt>, WebhookStoreError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :a)")
            .expression_attribute_values(":pk", s(endpoint_pk(tenant, ep)))
            .expression_attribute_values(":a", s(format!("A#{delivery}#")))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        items.into_iter().map(|item| from_item(item.map_err(backend)?)).collect()
    }

    async fn take_rate_token(
        &self,
        tenant: &str,
        ep: &str,
        second: i64,
        limit: u32,
    ) -> Result<bool, WebhookStoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(endpoint_pk(tenant, ep), format!("R#{second}"))))
            .update_expression("ADD hits :one SET expires_at = :exp")
            .condition_expression("attribute_not_exists(hits) OR hits < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":exp", n(second + 120))
            .send()
            .await;
        Ok(checked(result)?.is_some())
    }

    async fn acquire_slot(
        &self,
        tenant: &str,
        ep: &str,
        max: u32,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Option<u32>, WebhookStoreError> {
        // Start at a random slot so that concurrent callers rarely contend for the same item.
        let first = rand::random_range(0..max.max(1));
        for i in 0..max {
            let slot = (first + i) % max;
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(endpoint_pk(tenant, ep), format!("S#{slot}"))))
                .update_expression("SET lease_until_ms = :until, expires_at = :exp")
                .condition_expression("attribute_not_exists(lease_until_ms) OR lease_until_ms < :now")
                .expression_attribute_values(":until", n(lease_until_ms))
                .expression_attribute_values(":now", n(now_ms))
                .expression_attribute_values(":exp", n(lease_until_ms / 1000 + 3600))
                .send()
                .await;
            if checked(result)?.is_some() {
                return Ok(Some(slot));
            }
        }
        Ok(None)
    }

    async fn release_slot(&self, tenant: &str, ep: &str, slot: u32) -> Result<(), WebhookStoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(endpoint_pk(tenant, ep), format!("S#{slot}"))))
            .update_expression("REMOVE lease_until_ms")
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}
