//! The DynamoDB adapter of [`OAuthStore`], on the `identity` table:
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | client | `OAUTH#<t>#CLIENT` | client id | `version` for conditional updates |
//! | signing keys | `OAUTH#<t>` | `KEYS` | the whole set, `version` for conditional rotation |
//! | authorization code | `OAUTH#<t>#CODE` | SHA-256 of the code | `grant_id` once redeemed; TTL |
//! | refresh family | `OAUTH#<t>#RT` | `<user>#<client>#<ulid>` | `current_hash`, `token_expires_at`, `revoked_at`, `generation`; TTL |
//! | consent | `OAUTH#<t>#CONSENT#<user>` | client id | |
//! | session | `OAUTH#<t>#SESSION` | SHA-256 of the cookie | TTL |
//! | assertion id | `OAUTH#<t>#JTI` | `<client>#<jti>` | TTL |
//! | revocation marker | `OAUTH#<t>#REVOKED` | `jti#…`, `gid#…`, `sub#…` | `at`, `until`; TTL |
//!
//! Records are kept as one JSON `doc` attribute; the attributes that conditions test live beside it.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use hw_aws::dynamo::{Item, checked, error_text, get_s, key, n, s};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::*;
use crate::ports::{OAuthStore, Redemption, Rotation, StoreError};

/// How long redeemed codes and dead families stay readable after they expire, so a late replay is still
/// recognised as one (and revokes what the first use issued) instead of looking unknown.
const GRACE_SECS: i64 = 7 * 24 * 3600;

#[derive(Clone)]
pub struct DynamoOAuthStore {
    client: Client,
    table: String,
}

impl DynamoOAuthStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn pk(tenant: &str, kind: &str) -> String {
    if kind.is_empty() { format!("OAUTH#{tenant}") } else { format!("OAUTH#{tenant}#{kind}") }
}

fn failed<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: aws_sdk_dynamodb::error::SdkError<E, R>,
) -> StoreError {
    StoreError::Failed(error_text(&e))
}

fn doc<T: Serialize>(value: &T) -> AttributeValue {
    s(serde_json::to_string(value).expect("records serialise"))
}

fn read<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let raw = get_s(item, "doc").ok_or_else(|| StoreError::Failed("item has no doc".into()))?;
    serde_json::from_str(raw).map_err(|e| StoreError::Failed(format!("unreadable item: {e}")))
}

fn num(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

fn item(pk: String, sk: &str, extra: impl IntoIterator<Item = (&'static str, AttributeValue)>) -> Item {
    let mut item = key(pk, sk);
    item.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
    item
}

/// A family from its item: the stored doc with the attributes rotations change laid over it.
fn family(item: &Item) -> Result<RefreshFamily, StoreError> {
    let mut f: RefreshFamily = read(item)?;
    f.current_hash = get_s(item, "current_hash").unwrap_or_default().to_owned();
    f.token_expires_at = num(item, "token_expires_at").unwrap_or(0);
    f.revoked_at = num(item, "revoked_at");
    f.generation = num(item, "generation").unwrap_or(0) as u64;
    Ok(f)
}

impl DynamoOAuthStore {
    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(failed)?;
        Ok(out.item)
    }

    async fn query(&self, pk: String, prefix: Option<&str>) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_values(":pk", s(&pk))
                .set_exclusive_start_key(start);
            q = match prefix {
                Some(p) => q
                    .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                    .expression_attribute_values(":p", s(p)),
                None => q.key_condition_expression("pk = :pk"),
            };
            let out = q.send().await.map_err(failed)?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(failed)?;
        Ok(())
    }

    async fn delete(&self, pk: String, sk: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(failed)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }
}

#[async_trait]
impl OAuthStore for DynamoOAuthStore {
    async fn create_client(&self, tenant: &str, c: &StoredClient) -> Result<(), StoreError> {
        let it = item(pk(tenant, "CLIENT"), &c.id, [("doc", doc(c)), ("version", n(c.version))]);
        let put = self.client.put_item().table_name(&self.table).set_item(Some(it));
        match checked(put.condition_expression("attribute_not_exists(pk)").send().await).map_err(failed)? {
            Some(_) => Ok(()),
            None => Err(StoreError::Conflict(format!("client {} exists", c.id))),
        }
    }

    async fn update_client(&self, tenant: &str, c: &StoredClient, expected: u64) -> Result<(), StoreError> {
        let it = item(pk(tenant, "CLIENT"), &c.id, [("doc", doc(c)), ("version", n(c.version))]);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(it))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(expected));
        match checked(put.send().await).map_err(failed)? {
            Some(_) => Ok(()),
            None => Err(StoreError::Conflict(format!("client {} changed or is gone", c.id))),
        }
    }

    async fn get_client(&self, tenant: &str, id: &str) -> Result<Option<StoredClient>, StoreError> {
        self.get(pk(tenant, "CLIENT"), id).await?.map(|i| read(&i)).transpose()
    }

    async fn list_clients(&self, tenant: &str) -> Result<Vec<StoredClient>, StoreError> {
        self.query(pk(tenant, "CLIENT"), None).await?.iter().map(read).collect()
    }

    async fn delete_client(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        self.delete(pk(tenant, "CLIENT"), id).await
    }

    async fn get_keys(&self, tenant: &str) -> Result<StoredKeySet, StoreError> {
        Ok(self.get(pk(tenant, ""), "KEYS").await?.map(|i| read(&i)).transpose()?.unwrap_or_default())
    }

    async fn put_keys(&self, tenant: &str, keys: &StoredKeySet, expected: u64) -> Result<(), StoreError> {
        let it = item(pk(tenant, ""), "KEYS", [("doc", doc(keys)), ("version", n(keys.version))]);
        let put = self.client.put_item().table_name(&self.table).set_item(Some(it));
        let put = if expected == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :v").expression_attribute_values(":v", n(expected))
        };
        match checked(put.send().await).map_err(failed)? {
            Some(_) => Ok(()),
            None => Err(StoreError::Conflict("the key set changed".into())),
        }
    }

    async fn put_code(&self, tenant: &str, code: &CodeGrant) -> Result<(), StoreError> {
        let ttl = code.expires_at + GRACE_SECS;
        self.put(item(pk(tenant, "CODE"), &code.code_hash, [("doc", doc(code)), ("expires_at", n(ttl))])).await
    }

    async fn redeem_code(&self, tenant: &str, code_hash: &str, grant_id: &str) -> Result<Redemption, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk(tenant, "CODE"), code_hash)))
            .update_expression("SET #f = :f")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(#f)")
            .expression_attribute_names("#f", "grant_id")
            .expression_attribute_values(":f", s(grant_id))
            .return_values(ReturnValue::AllNew);
        if let Some(out) = checked(update.send().await).map_err(failed)? {
            return Ok(Redemption::Redeemed(read(&out.attributes.unwrap_or_default())?));
        }
        Ok(match self.get(pk(tenant, "CODE"), code_hash).await? {
            None => Redemption::Unknown,
            Some(i) => Redemption::AlreadyRedeemed {
                grant: read(&i)?,
                grant_id: get_s(&i, "grant_id").unwrap_or_default().to_owned(),
            },
        })
    }

    async fn create_family(&self, tenant: &str, f: &RefreshFamily) -> Result<(), StoreError> {
        let it = item(
            pk(tenant, "RT"),
            &f.id,
            [
                ("doc", doc(f)),
                ("current_hash", s(&f.current_hash)),
                ("token_expires_at", n(f.token_expires_at)),
                ("generation", n(f.generation)),
                ("expires_at", n(f.token_expires_at + GRACE_SECS)),
            ],
        );
        self.put(it).await
    }

    async fn get_family(&self, tenant: &str, id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        self.get(pk(tenant, "RT"), id).await?.map(|i| family(&i)).transpose()
    }

    async fn rotate_family(
        &self,
        tenant: &str,
        id: &str,
        presented: &str,
        new_hash: &str,
        new_expires_at: i64,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk(tenant, "RT"), id)))
            .update_expression("SET current_hash = :new, token_expires_at = :exp, expires_at = :ttl ADD generation :one")
            .condition_expression(
                "attribute_exists(pk) AND current_hash = :presented AND attribute_not_exists(revoked_at) AND token_expires_at > :now",
            )
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":exp", n(new_expires_at))
            .expression_attribute_values(":ttl", n(new_expires_at + GRACE_SECS))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":presented", s(presented))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew);
        if let Some(out) = checked(update.send().await).map_err(failed)? {
            return Ok(Rotation::Rotated(family(&out.attributes.unwrap_or_default())?));
        }
        let Some(current) = self.get_family(tenant, id).await? else { return Ok(Rotation::Unknown) };
        if current.revoked_at.is_some() {
            return Ok(Rotation::Revoked);
        }
        if !crate::secrets::same_hash(&current.current_hash, presented) {
            self.revoke_family(tenant, id, now).await?;
            return Ok(Rotation::Reused(RefreshFamily { revoked_at: Some(now), ..current }));
        }
        // The current token, but expired.
        Ok(Rotation::Unknown)
    }

    async fn revoke_family(&self, tenant: &str, id: &str, now: i64) -> Result<(), StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk(tenant, "RT"), id)))
            .update_expression("SET revoked_at = :now")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(revoked_at)")
            .expression_attribute_values(":now", n(now));
        checked(update.send().await).map_err(failed)?;
        Ok(())
    }

    async fn list_families(&self, tenant: &str, user_id: &str, client_id: &str) -> Result<Vec<String>, StoreError> {
        let prefix = format!("{user_id}#{client_id}#");
        let items = self.query(pk(tenant, "RT"), Some(&prefix)).await?;
        Ok(items.iter().filter_map(|i| get_s(i, "sk").map(str::to_owned)).collect())
    }

    async fn put_consent(&self, tenant: &str, c: &Consent) -> Result<(), StoreError> {
        self.put(item(pk(tenant, &format!("CONSENT#{}", c.user_id)), &c.client_id, [("doc", doc(c))])).await
    }

    async fn get_consent(&self, tenant: &str, user: &str, client: &str) -> Result<Option<Consent>, StoreError> {
        self.get(pk(tenant, &format!("CONSENT#{user}")), client).await?.map(|i| read(&i)).transpose()
    }

    async fn list_consents(&self, tenant: &str, user: &str) -> Result<Vec<Consent>, StoreError> {
        self.query(pk(tenant, &format!("CONSENT#{user}")), None).await?.iter().map(read).collect()
    }

    async fn delete_consent(&self, tenant: &str, user: &str, client: &str) -> Result<bool, StoreError> {
        self.delete(pk(tenant, &format!("CONSENT#{user}")), client).await
    }

    async fn put_session(&self, tenant: &str, session: &Session) -> Result<(), StoreError> {
        let it = item(
            pk(tenant, "SESSION"),
            &session.cookie_hash,
            [("doc", doc(session)), ("expires_at", n(session.expires_at))],
        );
        self.put(it).await
    }

    async fn get_session(&self, tenant: &str, cookie_hash: &str) -> Result<Option<Session>, StoreError> {
        self.get(pk(tenant, "SESSION"), cookie_hash).await?.map(|i| read(&i)).transpose()
    }

    async fn delete_session(&self, tenant: &str, cookie_hash: &str) -> Result<(), StoreError> {
        self.delete(pk(tenant, "SESSION"), cookie_hash).await.map(|_| ())
    }

    async fn claim_assertion(&self, tenant: &str, client: &str, jti: &str, until: i64) -> Result<bool, StoreError> {
        let now = chrono::Utc::now().timestamp();
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(pk(tenant, "JTI"), &format!("{client}#{jti}"), [("expires_at", n(until))])))
            // TTL deletes lazily: an expired record that still lingers no longer counts.
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", n(now));
        Ok(checked(put.send().await).map_err(failed)?.is_some())
    }

    async fn mark_revoked(&self, tenant: &str, what: &Revoked, at: i64, until: i64) -> Result<(), StoreError> {
        let it =
            item(pk(tenant, "REVOKED"), &what.key(), [("at", n(at)), ("until", n(until)), ("expires_at", n(until))]);
        self.put(it).await
    }

    async fn any_revoked(&self, tenant: &str, what: &[Revoked], issued_at: i64, now: i64) -> Result<bool, StoreError> {
        let keys = what.iter().map(|w| key(pk(tenant, "REVOKED"), w.key())).collect();
        let items = hw_aws::dynamo::batch_get(&self.client, &self.table, keys)
            .await
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        Ok(items
            .iter()
            .any(|i| num(i, "until").is_some_and(|until| until > now) && num(i, "at").unwrap_or(i64::MAX) >= issued_at))
    }
}
