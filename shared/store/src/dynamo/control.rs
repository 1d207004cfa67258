//! The control-plane adapter: tenants, models, API keys (with their hash lookup items) and wrapped data keys.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use hw_aws::dynamo::{Item, get_s, s};
use hw_domain::apikey::ApiKeyMeta;
use hw_domain::model::Model;
use hw_domain::tenant::Tenant;

use super::{backend, cancellation_codes, decode, encode, is_conditional_failure, key, put_if_absent};
use crate::keys;
use crate::ports::{ControlStore, StoreError};

#[derive(Clone)]
pub struct DynamoControlStore {
    client: Client,
    table: String,
}

impl DynamoControlStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    async fn put_new(&self, mut item: Item, extra: Option<(&str, AttributeValue)>) -> Result<(), StoreError> {
        if let Some((k, v)) = extra {
            item.insert(k.to_owned(), v);
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| if is_conditional_failure(&e) { StoreError::AlreadyExists } else { backend(e) })?;
        Ok(())
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item)
    }

    /// Every item of the partition whose sort key starts with `prefix` (the SDK's paginator follows the pages).
    async fn query_prefix(&self, pk: String, prefix: &str) -> Result<Vec<Item>, StoreError> {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":p", s(prefix))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(backend)
    }
}

#[async_trait]
impl ControlStore for DynamoControlStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.put_new(key(keys::tenant_pk(&tenant.id), keys::TENANT_SK), Some(("tenant", encode(tenant)?))).await
    }

    async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        self.get(keys::tenant_pk(id), keys::TENANT_SK).await?.map(|i| decode(&i, "tenant")).transpose()
    }

    async fn set_tenant_rate_limit(&self, id: &str, per_minute: Option<u32>) -> Result<(), StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::tenant_pk(id), keys::TENANT_SK)))
            .condition_expression("attribute_exists(pk)");
        let update = match per_minute {
            Some(n) => update
                .update_expression("SET tenant.rate_limit_per_minute = :n")
                .expression_attribute_values(":n", AttributeValue::N(n.to_string())),
            None => update.update_expression("REMOVE tenant.rate_limit_per_minute"),
        };
        update.send().await.map_err(|e| if is_conditional_failure(&e) { StoreError::NotFound } else { backend(e) })?;
        Ok(())
    }

    async fn set_tenant_graphql(
        &self,
        id: &str,
        settings: Option<&hw_domain::tenant::GraphqlSettings>,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        let update =
            self.client.update_item().table_name(&self.table).set_key(Some(key(keys::tenant_pk(id), keys::TENANT_SK)));
        let update = if expected_version == 0 {
            update.condition_expression("attribute_exists(pk) AND attribute_not_exists(tenant.graphql)")
        } else {
            update
                .condition_expression("tenant.graphql.version = :v")
                .expression_attribute_values(":v", AttributeValue::N(expected_version.to_string()))
        };
        let update = match settings {
            Some(s) => {
                update.update_expression("SET tenant.graphql = :g").expression_attribute_values(":g", encode(s)?)
            }
            None => update.update_expression("REMOVE tenant.graphql"),
        };
        if let Err(e) = update.send().await {
            if !is_conditional_failure(&e) {
                return Err(backend(e));
            }
            return Err(match self.get_tenant(id).await? {
                None => StoreError::NotFound,
                Some(_) => StoreError::VersionConflict,
            });
        }
        Ok(())
    }

    async fn list_models(&self, tenant: &str) -> Result<Vec<Model>, StoreError> {
        let items = self.query_prefix(keys::tenant_pk(tenant), keys::MODEL_SK_PREFIX).await?;
        items.iter().map(|i| decode(i, "model")).collect()
    }

    async fn get_model(&self, tenant: &str, name: &str) -> Result<Option<Model>, StoreError> {
        self.get(keys::tenant_pk(tenant), &keys::model_sk(name)).await?.map(|i| decode(&i, "model")).transpose()
    }

    async fn put_model(&self, tenant: &str, model: &Model, expected_version: Option<u64>) -> Result<(), StoreError> {
        let mut item = key(keys::tenant_pk(tenant), keys::model_sk(&model.name));
        item.insert("model".into(), encode(model)?);
        item.insert("version".into(), AttributeValue::N(model.version.to_string()));
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        let put = match expected_version {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(v) => put
                .condition_expression("version = :v")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        put.send().await.map_err(|e| match (is_conditional_failure(&e), expected_version) {
            (true, None) => StoreError::AlreadyExists,
            (true, Some(_)) => StoreError::VersionConflict,
            _ => backend(e),
        })?;
        Ok(())
    }

    async fn delete_model(&self, tenant: &str, name: &str, expected_version: u64) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::tenant_pk(tenant), keys::model_sk(name))))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", AttributeValue::N(expected_version.to_string()))
            .send()
            .await
            .map_err(|e| if is_conditional_failure(&e) { StoreError::VersionConflict } else { backend(e) })?;
        Ok(())
    }

    async fn create_api_key(&self, meta: &ApiKeyMeta, hash: &str) -> Result<(), StoreError> {
        let encoded = encode(meta)?;
        let mut key_item = key(keys::tenant_pk(&meta.tenant), keys::api_key_sk(&meta.id));
        key_item.insert("meta".into(), encoded.clone());
        key_item.insert("hash".into(), s(hash));
        let mut lookup = key(keys::api_key_hash_pk(hash), keys::API_KEY_HASH_SK);
        lookup.insert("meta".into(), encoded);
        self.client
            .transact_write_items()
            .transact_items(put_if_absent(&self.table, key_item))
            .transact_items(put_if_absent(&self.table, lookup))
            .send()
            .await
            .map_err(|e| match cancellation_codes(&e) {
                Some(codes) if codes.iter().any(|c| c == "ConditionalCheckFailed") => StoreError::AlreadyExists,
                _ => backend(e),
            })?;
        Ok(())
    }

    async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKeyMeta>, StoreError> {
        self.get(keys::api_key_hash_pk(hash), keys::API_KEY_HASH_SK).await?.map(|i| decode(&i, "meta")).transpose()
    }

    async fn list_api_keys(&self, tenant: &str) -> Result<Vec<ApiKeyMeta>, StoreError> {
        let items = self.query_prefix(keys::tenant_pk(tenant), keys::API_KEY_SK_PREFIX).await?;
        items.iter().map(|i| decode(i, "meta")).collect()
    }

    async fn revoke_api_key(&self, tenant: &str, id: &str) -> Result<(), StoreError> {
        let item = self.get(keys::tenant_pk(tenant), &keys::api_key_sk(id)).await?.ok_or(StoreError::NotFound)?;
        let mut meta: ApiKeyMeta = decode(&item, "meta")?;
        let hash =
            get_s(&item, "hash").ok_or_else(|| StoreError::Backend("API key item lacks its hash".into()))?.to_owned();
        meta.revoked = true;
        let mut updated = item.clone();
        updated.insert("meta".into(), encode(&meta)?);
        self.client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(Put::builder().table_name(&self.table).set_item(Some(updated)).build().expect("set"))
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&self.table)
                            .set_key(Some(key(keys::api_key_hash_pk(&hash), keys::API_KEY_HASH_SK)))
                            .build()
                            .expect("set"),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn get_api_key(&self, tenant: &str, id: &str) -> Result<Option<ApiKeyMeta>, StoreError> {
        self.get(keys::tenant_pk(tenant), &keys::api_key_sk(id)).await?.map(|i| decode(&i, "meta")).transpose()
    }

    async fn rotate_api_key(&self, old: &ApiKeyMeta, new: &ApiKeyMeta, new_hash: &str) -> Result<(), StoreError> {
        let item = self
            .get(keys::tenant_pk(&old.tenant), &keys::api_key_sk(&old.id))
            .await?
            .ok_or(StoreError::VersionConflict)?;
        let old_hash =
            get_s(&item, "hash").ok_or_else(|| StoreError::Backend("API key item lacks its hash".into()))?.to_owned();
        let encoded_old = encode(old)?;
        let encoded_new = encode(new)?;
        let update_old = |k: Item, condition: &str| {
            TransactWriteItem::builder()
                .update(
                    aws_sdk_dynamodb::types::Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(k))
                        .update_expression("SET meta = :meta")
                        .condition_expression(condition)
                        .expression_attribute_values(":meta", encoded_old.clone())
                        .expression_attribute_values(":false", AttributeValue::Bool(false))
                        .build()
                        .expect("table, key and expression set"),
                )
                .build()
        };
        // The old key must still be live and never rotated: two concurrent rotations cannot both win.
        let live = "attribute_exists(pk) AND meta.revoked = :false AND attribute_not_exists(meta.rotated_to)";
        let mut new_item = key(keys::tenant_pk(&new.tenant), keys::api_key_sk(&new.id));
        new_item.insert("meta".into(), encoded_new.clone());
        new_item.insert("hash".into(), s(new_hash));
        let mut lookup = key(keys::api_key_hash_pk(new_hash), keys::API_KEY_HASH_SK);
        lookup.insert("meta".into(), encoded_new);
        self.client
            .transact_write_items()
            .transact_items(update_old(key(keys::tenant_pk(&old.tenant), keys::api_key_sk(&old.id)), live))
            .transact_items(update_old(key(keys::api_key_hash_pk(&old_hash), keys::API_KEY_HASH_SK), live))
            .transact_items(put_if_absent(&self.table, new_item))
            .transact_items(put_if_absent(&self.table, lookup))
            .send()
            .await
            .map_err(|e| match cancellation_codes(&e) {
                Some(codes) if codes.iter().take(2).any(|c| c == "ConditionalCheckFailed") => {
                    StoreError::VersionConflict
                }
                Some(codes) if codes.iter().any(|c| c == "ConditionalCheckFailed") => StoreError::AlreadyExists,
                _ => backend(e),
            })?;
        Ok(())
    }

    async fn touch_api_key(&self, tenant: &str, id: &str, at: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::tenant_pk(tenant), keys::api_key_sk(id))))
            .update_expression("SET meta.last_used_at = :at")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", s(at))
            .send()
            .await
            .map_err(|e| if is_conditional_failure(&e) { StoreError::NotFound } else { backend(e) })?;
        Ok(())
    }

    async fn get_data_key(&self, tenant: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let item = self.get(keys::tenant_pk(tenant), keys::DATA_KEY_SK).await?;
        Ok(item.and_then(|i| i.get("wrapped").and_then(|v| v.as_b().ok()).map(|b| b.as_ref().to_vec())))
    }

    async fn put_data_key(&self, tenant: &str, wrapped: &[u8]) -> Result<(), StoreError> {
        let blob = AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(wrapped));
        self.put_new(key(keys::tenant_pk(tenant), keys::DATA_KEY_SK), Some(("wrapped", blob))).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.get("HEALTH".into(), "HEALTH").await.map(|_| ())
    }
}
