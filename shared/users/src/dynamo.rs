//! The DynamoDB adapter (the `identity` table, shared with the OAuth provider, whose items start `OAUTH#`).
//!
//! ```text
//! USER#{tenant} / U#{id}                            the user: `doc` (JSON, with its hashes), `user_status`, `version`
//! USER#{tenant}#NAME#{username} / CLAIM             the username claim: `user_id` (unique per tenant)
//! USER#{tenant}#INV#{sha256(token)} / INV           a pending invitation: `user_id`, `expires_at` (TTL)
//! USER#{tenant}#THROTTLE#{subject} / COUNTER        sign-in failures: `failures`, `locked_until`, `expires_at` (TTL)
//! ```
//!
//! TTL deletion is lazy, so every read also checks `expires_at` itself.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, ReturnValue, TransactWriteItem};
use hw_aws::dynamo::{Item, cancellation_codes, checked, error_text, get_s, key, n, s};

use crate::UserStatus;
use crate::ports::{Counter, InvitationOps, InvitationRecord, StoreError, StoredUser, UserStore};

/// Transactions retried when they only collided with another one.
const CONFLICT_RETRIES: u32 = 4;

pub struct DynamoUsers {
    client: Client,
    table: String,
}

impl DynamoUsers {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn backend<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    StoreError::Backend(error_text(&e))
}

fn user_key(tenant: &str, id: &str) -> Item {
    key(format!("USER#{tenant}"), format!("U#{id}"))
}

fn claim_key(tenant: &str, username: &str) -> Item {
    key(format!("USER#{tenant}#NAME#{username}"), "CLAIM")
}

fn invitation_key(tenant: &str, hash: &str) -> Item {
    key(format!("USER#{tenant}#INV#{hash}"), "INV")
}

fn counter_key(tenant: &str, subject: &str) -> Item {
    key(format!("USER#{tenant}#THROTTLE#{subject}"), "COUNTER")
}

fn get_n(item: &Item, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

fn user_item(tenant: &str, u: &StoredUser) -> Result<Item, StoreError> {
    let mut item = user_key(tenant, &u.user.id);
    let doc = serde_json::to_string(u).map_err(|e| StoreError::Backend(format!("encoding: {e}")))?;
    item.insert("doc".into(), s(doc));
    item.insert("user_status".into(), s(u.user.status.as_str()));
    item.insert("username".into(), s(&u.user.username));
    item.insert("version".into(), n(u.version));
    Ok(item)
}

fn user_of(item: &Item) -> Result<StoredUser, StoreError> {
    let raw = get_s(item, "doc").ok_or_else(|| StoreError::Backend("user item lacks `doc`".into()))?;
    serde_json::from_str(raw).map_err(|e| StoreError::Backend(format!("decoding a user: {e}")))
}

fn invitation_item(tenant: &str, i: &InvitationRecord) -> Item {
    let mut item = invitation_key(tenant, &i.token_hash);
    item.insert("user_id".into(), s(&i.user_id));
    item.insert("expires_at".into(), n(i.expires_at));
    item
}

fn put(table: &str, item: Item, condition: Option<&str>) -> TransactWriteItem {
    let p =
        Put::builder().table_name(table).set_item(Some(item)).set_condition_expression(condition.map(str::to_owned));
    TransactWriteItem::builder().put(p.build().expect("table and item set")).build()
}

fn delete(table: &str, key: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .delete(Delete::builder().table_name(table).set_key(Some(key)).build().expect("table and key set"))
        .build()
}

impl DynamoUsers {
    /// Runs a transaction; `Err(codes)` with the cancellation reasons when a condition did not hold. Collisions with
    /// another transaction are retried.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Result<(), Vec<String>>, StoreError> {
        let mut attempt = 0;
        loop {
            let result = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let Err(e) = result else { return Ok(Ok(())) };
            match cancellation_codes(&e) {
                Some(codes) if codes.iter().any(|c| c == "ConditionalCheckFailed") => return Ok(Err(codes)),
                Some(codes) if codes.iter().any(|c| c == "TransactionConflict") && attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(hw_aws::backoff(attempt)).await;
                }
                _ => return Err(backend(e)),
            }
        }
    }

    async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item)
    }
}

#[async_trait]
impl UserStore for DynamoUsers {
    async fn create(
        &self,
        tenant: &str,
        user: &StoredUser,
        invitation: Option<&InvitationRecord>,
    ) -> Result<(), StoreError> {
        let mut claim = claim_key(tenant, &user.user.username);
        claim.insert("user_id".into(), s(&user.user.id));
        let absent = Some("attribute_not_exists(pk)");
        let mut items = vec![put(&self.table, claim, absent), put(&self.table, user_item(tenant, user)?, absent)];
        if let Some(i) = invitation {
            items.push(put(&self.table, invitation_item(tenant, i), None));
        }
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(codes) if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") => {
                Err(StoreError::AlreadyExists)
            }
            Err(_) => Err(StoreError::Conflict),
        }
    }

    async fn get(&self, tenant: &str, id: &str) -> Result<Option<StoredUser>, StoreError> {
        self.get_item(user_key(tenant, id)).await?.as_ref().map(user_of).transpose()
    }

    async fn find_by_username(&self, tenant: &str, username: &str) -> Result<Option<StoredUser>, StoreError> {
        let Some(claim) = self.get_item(claim_key(tenant, username)).await? else { return Ok(None) };
        let Some(id) = get_s(&claim, "user_id") else { return Ok(None) };
        // A claim whose user is gone (or was replaced) is no user.
        Ok(self.get(tenant, id).await?.filter(|u| u.user.username == username))
    }

    async fn list(
        &self,
        tenant: &str,
        status: Option<UserStatus>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<StoredUser>, Option<String>), StoreError> {
        let mut found: Vec<StoredUser> = Vec::new();
        let mut start = after.map(|a| user_key(tenant, a));
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(format!("USER#{tenant}")))
                .expression_attribute_values(":prefix", s("U#"))
                .consistent_read(true)
                .limit((limit + 1 - found.len()).clamp(25, 1000) as i32)
                .set_exclusive_start_key(start.take());
            if let Some(st) = status {
                q = q.filter_expression("user_status = :status").expression_attribute_values(":status", s(st.as_str()));
            }
            let out = q.send().await.map_err(backend)?;
            for item in out.items() {
                found.push(user_of(item)?);
            }
            if found.len() > limit {
                found.truncate(limit);
                let next = found.last().map(|u| u.user.id.clone());
                return Ok((found, next));
            }
            match out.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => return Ok((found, None)),
            }
        }
    }

    async fn update(
        &self,
        tenant: &str,
        user: &StoredUser,
        expected_version: u64,
        ops: &InvitationOps,
    ) -> Result<(), StoreError> {
        let user_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(user_item(tenant, user)?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(expected_version))
            .build()
            .expect("table and item set");
        let mut items = vec![TransactWriteItem::builder().put(user_put).build()];
        if let Some((hash, now)) = &ops.consume {
            let consume = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(invitation_key(tenant, hash)))
                .condition_expression("attribute_exists(pk) AND user_id = :uid AND expires_at > :now")
                .expression_attribute_values(":uid", s(&user.user.id))
                .expression_attribute_values(":now", n(now))
                .build()
                .expect("table and key set");
            items.push(TransactWriteItem::builder().delete(consume).build());
        }
        if let Some(hash) = &ops.remove {
            items.push(delete(&self.table, invitation_key(tenant, hash)));
        }
        if let Some(i) = &ops.put {
            items.push(put(&self.table, invitation_item(tenant, i), None));
        }
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Conflict),
        }
    }

    async fn invitation(&self, tenant: &str, token_hash: &str) -> Result<Option<InvitationRecord>, StoreError> {
        let Some(item) = self.get_item(invitation_key(tenant, token_hash)).await? else { return Ok(None) };
        Ok(get_s(&item, "user_id").map(|id| InvitationRecord {
            token_hash: token_hash.to_owned(),
            user_id: id.to_owned(),
            expires_at: get_n(&item, "expires_at"),
        }))
    }

    async fn delete(&self, tenant: &str, user: &StoredUser) -> Result<(), StoreError> {
        let mut items = vec![
            delete(&self.table, user_key(tenant, &user.user.id)),
            delete(&self.table, claim_key(tenant, &user.user.username)),
        ];
        if let Some(h) = &user.invitation_hash {
            items.push(delete(&self.table, invitation_key(tenant, h)));
        }
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Conflict),
        }
    }

    async fn counter(&self, tenant: &str, subject: &str, now: i64) -> Result<Option<Counter>, StoreError> {
        let item = self.get_item(counter_key(tenant, subject)).await?;
        Ok(item.filter(|i| get_n(i, "expires_at") > now).map(|i| Counter {
            failures: get_n(&i, "failures").max(0) as u32,
            locked_until: get_n(&i, "locked_until"),
        }))
    }

    async fn add_failure(&self, tenant: &str, subject: &str, now: i64, expires_at: i64) -> Result<Counter, StoreError> {
        for _ in 0..3 {
            // A live counter: one more failure, atomically.
            let added = checked(
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(counter_key(tenant, subject)))
                    .update_expression("ADD failures :one SET expires_at = :exp")
                    .condition_expression("attribute_exists(pk) AND expires_at > :now")
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":exp", n(expires_at))
                    .expression_attribute_values(":now", n(now))
                    .return_values(ReturnValue::AllNew)
                    .send()
                    .await,
            )
            .map_err(backend)?;
            if let Some(out) = added {
                let item = out.attributes.unwrap_or_default();
                return Ok(Counter {
                    failures: get_n(&item, "failures").max(0) as u32,
                    locked_until: get_n(&item, "locked_until"),
                });
            }
            // None, or an expired one TTL has not removed yet: start again at one.
            let mut item = counter_key(tenant, subject);
            item.insert("failures".into(), n(1));
            item.insert("locked_until".into(), n(0));
            item.insert("expires_at".into(), n(expires_at));
            let fresh = checked(
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
                    .expression_attribute_values(":now", n(now))
                    .send()
                    .await,
            )
            .map_err(backend)?;
            if fresh.is_some() {
                return Ok(Counter { failures: 1, locked_until: 0 });
            }
            // Another sign-in created it meanwhile: add to that one.
        }
        Err(StoreError::Conflict)
    }

    async fn lock(&self, tenant: &str, subject: &str, until: i64, expires_at: i64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(tenant, subject)))
            .update_expression("SET locked_until = :until, expires_at = :exp")
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":exp", n(expires_at))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn reset(&self, tenant: &str, subject: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(tenant, subject)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}
