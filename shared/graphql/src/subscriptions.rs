//! Subscriptions: `contactCreated`, `contactUpdated`, `contactDeleted` (each with an optional `filter`), fed by the
//! platform's record events. The transport (graphql-transport-ws) lives outside this crate; it hands each
//! connection an [`EventHub`] receiver through the caller. A subscriber sees only its own tenant's events, needs
//! `data:read:{entity}`, and gets the record as the event carries it (sensitive fields are never in events).

use std::sync::Arc;

use async_graphql::dynamic::{
    FieldValue, InputValue, ResolverContext, Subscription, SubscriptionField, SubscriptionFieldFuture, TypeRef,
};
use futures::StreamExt;
use hw_domain::event::Envelope;
use hw_domain::query::Query;
use hw_domain::record::Record;
use tokio::sync::broadcast;

use crate::catalog::{Catalog, Entity};
use crate::context::{Caller, Env, Node};
use crate::errors;
use crate::filter;
use crate::resolve::read_scope;

/// Events a subscription outpaced by more than this many are dropped for it (and logged), never buffered without
/// bound.
pub const HUB_CAPACITY: usize = 4_096;

/// The record events of every tenant, as the transport receives them from the bus.
#[derive(Clone)]
pub struct EventHub {
    sender: broadcast::Sender<Arc<Envelope>>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self { sender: broadcast::channel(HUB_CAPACITY).0 }
    }
}

impl EventHub {
    /// Hands an event to every open subscription (of any tenant; each filters for its own).
    pub fn publish(&self, event: Envelope) {
        // No receivers is fine: nobody subscribes at the moment.
        let _ = self.sender.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Envelope>> {
        self.sender.subscribe()
    }

    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }
}

const KINDS: [(&str, &str); 3] =
    [("Created", "record.created"), ("Updated", "record.updated"), ("Deleted", "record.deleted")];

pub fn root(catalog: &Catalog) -> Subscription {
    let mut s = Subscription::new("Subscription");
    for e in catalog.entities.values() {
        for (suffix, event_type) in KINDS {
            s = s.field(field(e, suffix, event_type));
        }
    }
    s
}

fn field(e: &Entity, suffix: &str, event_type: &'static str) -> SubscriptionField {
    let entity = e.name().to_owned();
    SubscriptionField::new(format!("{}{suffix}", e.one_field), TypeRef::named_nn(&e.type_name), move |ctx| {
        let entity = entity.clone();
        SubscriptionFieldFuture::new(async move { stream(&ctx, entity, event_type) })
    })
    .description(format!(
        "Each {} record {} from now on, matching `filter` when given (deleted: as it was). Needs `data:read:{}`.",
        e.model.label,
        suffix.to_lowercase(),
        e.name()
    ))
    .argument(InputValue::new("filter", TypeRef::named(format!("{}Filter", e.type_name))))
}

fn stream<'a>(
    ctx: &ResolverContext<'a>,
    entity: String,
    event_type: &'static str,
) -> async_graphql::Result<impl futures::Stream<Item = async_graphql::Result<FieldValue<'a>>> + use<'a>> {
    let caller = ctx.data::<Caller>()?;
    caller.require(&read_scope(&entity))?;
    let env = ctx.data::<Env>()?;
    let model = env.catalog.get(&entity).map(|e| e.model.clone()).ok_or_else(|| errors::internal("entity vanished"))?;
    let filter_arg = match ctx.args.get("filter") {
        Some(v) if !v.is_null() => Some(v.as_value().clone().into_json().map_err(errors::internal)?),
        _ => None,
    };
    let query: Query = filter::parse(&model, filter_arg.as_ref(), None)?;
    let receiver = caller
        .events
        .as_ref()
        .ok_or_else(|| {
            errors::coded(
                "SUBSCRIPTIONS_NEED_WEBSOCKET",
                "subscriptions are served over WebSocket (graphql-transport-ws)",
            )
        })?
        .subscribe();
    let tenant = caller.principal.tenant.clone();
    let entity_name: Arc<str> = Arc::from(entity.as_str());
    let events = tokio_stream_of(receiver);
    Ok(events.filter_map(move |event| {
        let node = matching(&event, &tenant, &entity_name, event_type, &query);
        async move { node.map(|n| Ok(FieldValue::owned_any(n))) }
    }))
}

/// The record of an event, when the event is of this tenant, entity and kind, and the record passes the filter.
fn matching(event: &Envelope, tenant: &str, entity: &Arc<str>, event_type: &str, query: &Query) -> Option<Node> {
    if event.tenant != tenant || event.event_type != event_type || event.data["entity"].as_str() != Some(entity) {
        return None;
    }
    let record: Record = serde_json::from_value(event.data["record"].clone()).ok()?;
    query.matches(&record).then(|| Node { entity: entity.clone(), record: Arc::new(record) })
}

/// A broadcast receiver as a stream; a subscriber that fell behind skips what it missed (logged) and goes on.
fn tokio_stream_of(receiver: broadcast::Receiver<Arc<Envelope>>) -> impl futures::Stream<Item = Arc<Envelope>> {
    futures::stream::unfold(receiver, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(event) => return Some((event, rx)),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a subscription fell behind; events were skipped");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}
