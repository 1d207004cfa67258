//! [`ConnectionStore`] on the `realtime` table.
//!
//! | item         | pk              | sk           | also                                                          |
//! |--------------|-----------------|--------------|---------------------------------------------------------------|
//! | connection   | `CONN#{id}`     | `#CONN`      | connected_at, request_base, caller (JSON, after init), count  |
//! | subscription | `CONN#{id}`     | `SUB#{op id}`| topic `{tenant}#{entity}`, subscriber `{conn}#{op id}`, ...   |
//!
//! One partition per connection, so closing one is a Query and a batch delete; the `topic` index finds a tenant's
//! subscriptions on an entity across connections. Every item carries `expires_at` (TTL).

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, DeleteRequest, Put, TransactWriteItem, Update, WriteRequest};
use hw_aws::dynamo::{Item, cancellation_codes, checked, error_text, get_s, key, n, query_all, s};
use serde_json::Value;

use crate::store::{
    CONNECTION_LIFETIME_SECONDS, Caller, Connection, ConnectionStore, MAX_SUBSCRIPTIONS_PER_CONNECTION, StoreError,
    StoredSubscription,
};

pub const TOPIC_INDEX: &str = "topic";
const CONNECTION_SK: &str = "#CONN";

pub struct DynamoConnections {
    client: Client,
    table: String,
}

impl DynamoConnections {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn pk(connection: &str) -> String {
    format!("CONN#{connection}")
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

fn json_attr<T: serde::de::DeserializeOwned>(item: &Item, name: &str) -> Result<Option<T>, StoreError> {
    get_s(item, name)
        .map(|t| serde_json::from_str(t).map_err(|e| StoreError::Unavailable(format!("`{name}` unreadable: {e}"))))
        .transpose()
}

fn subscription_of(item: &Item) -> Result<StoredSubscription, StoreError> {
    let text = |name: &str| {
        get_s(item, name)
            .map(str::to_owned)
            .ok_or_else(|| StoreError::Unavailable(format!("subscription without {name}")))
    };
    Ok(StoredSubscription {
        connection: text("connection")?,
        id: text("op")?,
        tenant: text("tenant")?,
        entity: text("entity")?,
        event_type: text("event_type")?,
        query: text("query")?,
        variables: json_attr::<Value>(item, "variables")?,
        operation_name: get_s(item, "operation_name").map(str::to_owned),
        caller: json_attr::<Caller>(item, "caller")?
            .ok_or_else(|| StoreError::Unavailable("subscription without caller".into()))?,
        expires_at: get_n(item, "expires_at").unwrap_or_default(),
    })
}

#[async_trait]
impl ConnectionStore for DynamoConnections {
    async fn open(&self, c: &Connection) -> Result<(), StoreError> {
        let mut item = key(pk(&c.id), CONNECTION_SK);
        item.insert("connected_at".into(), n(c.connected_at));
        item.insert("request_base".into(), s(&c.request_base));
        item.insert("expires_at".into(), n(c.connected_at + CONNECTION_LIFETIME_SECONDS));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| unavailable(error_text(&e)))?;
        Ok(())
    }

    async fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk(id), CONNECTION_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(error_text(&e)))?;
        let Some(item) = out.item else { return Ok(None) };
        Ok(Some(Connection {
            id: id.to_owned(),
            connected_at: get_n(&item, "connected_at").unwrap_or_default(),
            request_base: get_s(&item, "request_base").unwrap_or_default().to_owned(),
            caller: json_attr(&item, "caller")?,
        }))
    }

    async fn initialise(&self, id: &str, caller: &Caller) -> Result<(), StoreError> {
        let caller = serde_json::to_string(caller).map_err(unavailable)?;
        let updated = checked(
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk(id), CONNECTION_SK)))
                .update_expression("SET caller = :c")
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(caller)")
                .expression_attribute_values(":c", s(caller))
                .send()
                .await,
        )
        .map_err(|e| unavailable(error_text(&e)))?;
        if updated.is_some() {
            return Ok(());
        }
        // Which condition failed: the connection is gone, or it was initialised before.
        match self.connection(id).await? {
            Some(_) => Err(StoreError::Exists),
            None => Err(StoreError::NoConnection),
        }
    }

    async fn subscribe(&self, sub: &StoredSubscription) -> Result<(), StoreError> {
        let mut item = key(pk(&sub.connection), format!("SUB#{}", sub.id));
        item.insert("topic".into(), s(format!("{}#{}", sub.tenant, sub.entity)));
        item.insert("subscriber".into(), s(format!("{}#{}", sub.connection, sub.id)));
        item.insert("connection".into(), s(&sub.connection));
        item.insert("op".into(), s(&sub.id));
        item.insert("tenant".into(), s(&sub.tenant));
        item.insert("entity".into(), s(&sub.entity));
        item.insert("event_type".into(), s(&sub.event_type));
        item.insert("query".into(), s(&sub.query));
        if let Some(v) = &sub.variables {
            item.insert("variables".into(), s(v.to_string()));
        }
        if let Some(op) = &sub.operation_name {
            item.insert("operation_name".into(), s(op));
        }
        item.insert("caller".into(), s(serde_json::to_string(&sub.caller).map_err(unavailable)?));
        item.insert("expires_at".into(), n(sub.expires_at));
        // One transaction: count the subscription on the connection (at most the cap, and only while the
        // connection is open) and put it (only if its id is new on the connection).
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk(&sub.connection), CONNECTION_SK)))
            .update_expression("SET subscriptions = if_not_exists(subscriptions, :zero) + :one")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(subscriptions) OR subscriptions < :max)",
            )
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(MAX_SUBSCRIPTIONS_PER_CONNECTION))
            .build()
            .map_err(unavailable)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(unavailable)?;
        let actions =
            vec![TransactWriteItem::builder().update(count).build(), TransactWriteItem::builder().put(put).build()];
        let result = self.client.transact_write_items().set_transact_items(Some(actions)).send().await;
        let Err(e) = result else { return Ok(()) };
        match cancellation_codes(&e).as_deref() {
            Some([_, put]) if put == "ConditionalCheckFailed" => Err(StoreError::Exists),
            Some([count, _]) if count == "ConditionalCheckFailed" => match self.connection(&sub.connection).await? {
                Some(_) => Err(StoreError::Full),
                None => Err(StoreError::NoConnection),
            },
            _ => Err(unavailable(error_text(&e))),
        }
    }

    async fn unsubscribe(&self, connection: &str, id: &str) -> Result<(), StoreError> {
        // Delete the subscription and count it off the connection, together; nothing to do when it is not there.
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk(connection), format!("SUB#{id}"))))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(unavailable)?;
        let uncount = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk(connection), CONNECTION_SK)))
            .update_expression("SET subscriptions = subscriptions - :one")
            .condition_expression("subscriptions > :zero")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(unavailable)?;
        let actions = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().update(uncount).build(),
        ];
        let result = self.client.transact_write_items().set_transact_items(Some(actions)).send().await;
        let Err(e) = result else { return Ok(()) };
        match cancellation_codes(&e).as_deref() {
            Some([deleted, _]) if deleted == "ConditionalCheckFailed" => Ok(()),
            // the connection item is gone (closing): the subscription goes with it
            Some([_, counted]) if counted == "ConditionalCheckFailed" => {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key(pk(connection), format!("SUB#{id}"))))
                    .send()
                    .await
                    .map_err(|e| unavailable(error_text(&e)))?;
                Ok(())
            }
            _ => Err(unavailable(error_text(&e))),
        }
    }

    async fn close(&self, id: &str) -> Result<(), StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk(id)))
            .projection_expression("pk, sk");
        let keys = query_all(query).await.map_err(|e| unavailable(error_text(&e)))?;
        let deletes = keys
            .into_iter()
            .map(|k| {
                let request = DeleteRequest::builder().set_key(Some(k)).build().map_err(unavailable)?;
                Ok(WriteRequest::builder().delete_request(request).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        hw_aws::dynamo::batch_write(&self.client, &self.table, deletes).await.map_err(unavailable)
    }

    async fn subscribers(&self, tenant: &str, entity: &str) -> Result<Vec<StoredSubscription>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(TOPIC_INDEX)
            .key_condition_expression("topic = :t")
            .expression_attribute_values(":t", AttributeValue::S(format!("{tenant}#{entity}")));
        let items = query_all(query).await.map_err(|e| unavailable(error_text(&e)))?;
        let mut found = Vec::with_capacity(items.len());
        for item in items {
            match subscription_of(&item) {
                Ok(sub) => found.push(sub),
                Err(e) => tracing::warn!(error = %e, "an unreadable subscription item was skipped"),
            }
        }
        Ok(found)
    }
}
