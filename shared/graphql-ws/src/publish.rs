//! Delivery of one record event to the subscriptions that want it: the tenant's subscriptions on the event's
//! entity (one index Query), those of the event's kind whose credentials still hold, each distinct document run once
//! on the event (a thousand clients with the same subscription cost one execution), one `next` per subscription.
//! Connections that are gone are forgotten; those whose credentials ended (a token past `exp`, an API key revoked or
//! expired) are closed, and the client reconnects with fresh credentials.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use hw_domain::event::Envelope;
use hw_graphql::subscriptions::{RecordEvent, deliver};
use hw_graphql::{Authenticated, Authenticator, SchemaCache};

use crate::protocol::server;
use crate::sender::{ConnectionSender, SendError};
use crate::session::request_of;
use crate::store::{ConnectionStore, StoreError, StoredSubscription};

/// Messages posted at once (API Gateway's Management API takes many small requests well).
const SEND_CONCURRENCY: usize = 64;
/// Distinct documents run at once for one event.
const RUN_CONCURRENCY: usize = 8;

pub struct Publisher {
    pub store: Arc<dyn ConnectionStore>,
    pub sender: Arc<dyn ConnectionSender>,
    pub schemas: Arc<SchemaCache>,
    pub auth: Arc<Authenticator>,
}

/// What one event came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Published {
    /// Subscriptions of the event's tenant, entity and kind.
    pub subscriptions: usize,
    /// `next` messages sent (the filter of the others left the event out).
    pub delivered: usize,
    /// Connections forgotten (gone) or closed (credentials ended).
    pub closed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Storage or credentials could not be read: the event should come again.
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for PublishError {
    fn from(e: StoreError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl Publisher {
    pub async fn publish(&self, envelope: Envelope, now: i64) -> Result<Published, PublishError> {
        let Some(event) = RecordEvent::from_envelope(envelope) else { return Ok(Published::default()) };
        let event = Arc::new(event);
        let subscriptions: Vec<StoredSubscription> = self
            .store
            .subscribers(&event.tenant, &event.entity)
            .await?
            .into_iter()
            .filter(|s| s.event_type == event.event_type && s.expires_at > now)
            .collect();
        let mut published = Published { subscriptions: subscriptions.len(), ..Published::default() };
        if subscriptions.is_empty() {
            return Ok(published);
        }
        let ts = match self.schemas.schema(&event.tenant).await {
            Ok(ts) => ts,
            Err(hw_graphql::cache::CacheError::UnknownTenant(_)) => return Ok(published),
            Err(e) => return Err(PublishError::Unavailable(e.to_string())),
        };

        // Credentials, once per distinct caller, checked concurrently (an API key is one read).
        let callers: BTreeMap<String, Authenticated> =
            subscriptions.iter().map(|s| (caller_key(s), s.caller.authenticated())).collect();
        let checks = callers
            .into_iter()
            .map(|(who, caller)| async move { self.auth.still_valid(&caller, now).await.map(|ok| (who, ok)) });
        let valid: HashMap<String, bool> = futures::stream::iter(checks)
            .buffer_unordered(RUN_CONCURRENCY)
            .try_collect()
            .await
            .map_err(|_| PublishError::Unavailable("credentials cannot be checked now".into()))?;

        // Subscriptions whose credentials ended close their connections; the others group by what they run.
        let mut ended = BTreeSet::new();
        let mut groups: BTreeMap<(String, String, String, String), Vec<StoredSubscription>> = BTreeMap::new();
        for s in subscriptions {
            let who = caller_key(&s);
            if !valid[&who] {
                ended.insert(s.connection.clone());
                continue;
            }
            let variables = s.variables.as_ref().map(|v| v.to_string()).unwrap_or_default();
            let key = (s.query.clone(), variables, s.operation_name.clone().unwrap_or_default(), who);
            groups.entry(key).or_default().push(s);
        }

        // Each distinct document once, on this event.
        let runs = groups.into_values().map(|subs| {
            let (ts, event, records) = (ts.clone(), event.clone(), self.schemas.records().clone());
            async move {
                let first = &subs[0];
                let request = request_of(&first.query, first.variables.as_ref(), first.operation_name.as_deref());
                let Ok(request) = request else { return (subs, None) };
                let caller = ts.caller(first.caller.principal.clone(), records);
                let response = deliver(&ts, caller, request, event).await;
                (subs, response.and_then(|r| serde_json::to_value(&r).ok()))
            }
        });
        let results: Vec<(Vec<StoredSubscription>, Option<serde_json::Value>)> =
            futures::stream::iter(runs).buffer_unordered(RUN_CONCURRENCY).collect().await;

        let messages: Vec<(String, String)> = results
            .iter()
            .filter_map(|(subs, response)| response.as_ref().map(|r| (subs, r)))
            .flat_map(|(subs, r)| subs.iter().map(move |s| (s.connection.clone(), server::next(&s.id, r))))
            .collect();
        let sends = messages.into_iter().map(|(connection, message)| {
            let sender = self.sender.clone();
            async move {
                let sent = sender.send(&connection, &message).await;
                (connection, sent)
            }
        });
        let outcomes: Vec<(String, Result<(), SendError>)> =
            futures::stream::iter(sends).buffer_unordered(SEND_CONCURRENCY).collect().await;
        let mut gone = BTreeSet::new();
        for (connection, outcome) in outcomes {
            match outcome {
                Ok(()) => published.delivered += 1,
                Err(SendError::Gone) => {
                    gone.insert(connection);
                }
                Err(e) => tracing::warn!(connection, error = %e, "a subscription event could not be sent"),
            }
        }
        for connection in &ended {
            match self.sender.close(connection).await {
                Ok(()) | Err(SendError::Gone) => {}
                Err(e) => tracing::warn!(connection, error = %e, "the connection could not be closed"),
            }
        }
        for connection in gone.union(&ended) {
            self.store.close(connection).await?;
            published.closed += 1;
        }
        Ok(published)
    }
}

/// Who a subscription runs as, as a key: the same principal with the same credential expiry.
fn caller_key(s: &StoredSubscription) -> String {
    serde_json::to_string(&s.caller).unwrap_or_default()
}
