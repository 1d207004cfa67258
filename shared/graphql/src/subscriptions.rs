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

/// A record event as subscriptions read it: the envelope's routing fields and its record, parsed once by
/// [`EventHub::publish`] however many subscriptions receive it.
#[derive(Debug)]
pub struct RecordEvent {
    pub tenant: String,
    pub event_type: String,
    pub entity: String,
    pub record: Arc<Record>,
}

/// The record events of every tenant, as the transport receives them from the bus.
#[derive(Clone)]
pub struct EventHub {
    sender: broadcast::Sender<Arc<RecordEvent>>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self { sender: broadcast::channel(HUB_CAPACITY).0 }
    }
}

impl EventHub {
    /// Hands an event to every open subscription (of any tenant; each filters for its own).
    /// Events without an entity and a record (not record events) are left out.
    pub fn publish(&self, event: Envelope) {
        let Envelope { tenant, event_type, mut data, .. } = event;
        let (Some(entity), Ok(record)) =
            (data["entity"].as_str().map(str::to_owned), serde_json::from_value::<Record>(data["record"].take()))
        else {
            return;
        };
        let event = RecordEvent { tenant, event_type, entity, record: Arc::new(record) };
        // No receivers is fine: nobody subscribes at the moment.
        let _ = self.sender.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RecordEvent>> {
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
fn matching(event: &RecordEvent, tenant: &str, entity: &Arc<str>, event_type: &str, query: &Query) -> Option<Node> {
    let wanted = event.tenant == tenant && event.event_type == event_type && *event.entity == **entity;
    (wanted && query.matches(&event.record)).then(|| Node { entity: entity.clone(), record: event.record.clone() })
}

/// A broadcast receiver as a stream; a subscriber that fell behind skips what it missed (logged) and goes on.
fn tokio_stream_of(receiver: broadcast::Receiver<Arc<RecordEvent>>) -> impl futures::Stream<Item = Arc<RecordEvent>> {
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
