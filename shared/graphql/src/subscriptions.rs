//! Subscriptions: `contactCreated`, `contactUpdated`, `contactDeleted` (each with an optional `filter`), fed by the
//! platform's record events. Transport-free and stateless: a subscription is checked once when it arrives
//! ([`check`]: parsed, validated, scopes and filter values checked, its topic found), stored by the transport, and
//! run again for each event of its topic ([`deliver`]), which yields the `next` payload or nothing when the filter
//! leaves the event out. A subscriber sees only its own tenant's events, needs `data:read:{entity}`, and gets the
//! record as the event carries it (sensitive fields are never in events); nested selections are resolved then.

use std::sync::{Arc, Mutex};

use async_graphql::dynamic::{
    FieldValue, InputValue, ResolverContext, Subscription, SubscriptionField, SubscriptionFieldFuture, TypeRef,
};
use async_graphql::{Request, Response, ServerError};
use futures::StreamExt;
use hw_domain::event::Envelope;
use hw_domain::query::Query;
use hw_domain::record::Record;

use crate::cache::TenantSchema;
use crate::catalog::{Catalog, Entity};
use crate::context::{Caller, Env, Node};
use crate::errors;
use crate::filter;
use crate::resolve::read_scope;

/// A record event as subscriptions read it: the envelope's routing fields and its record.
#[derive(Debug)]
pub struct RecordEvent {
    pub tenant: String,
    pub event_type: String,
    pub entity: String,
    pub record: Arc<Record>,
}

impl RecordEvent {
    /// The record event an envelope carries; `None` for other events (no entity or no record).
    pub fn from_envelope(event: Envelope) -> Option<Self> {
        let Envelope { tenant, event_type, mut data, .. } = event;
        let entity = data["entity"].as_str()?.to_owned();
        let record = serde_json::from_value::<Record>(data["record"].take()).ok()?;
        Some(Self { tenant, event_type, entity, record: Arc::new(record) })
    }
}

/// What a subscription listens to: one entity's events of one kind (`record.created`, ...), in the caller's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub entity: String,
    pub event_type: String,
}

/// Where the subscription fields of one execution read events from.
#[derive(Clone)]
pub enum EventSource {
    /// Check the subscription and note its topic; deliver nothing.
    Probe(Arc<Mutex<Vec<Topic>>>),
    /// Deliver this one event, to the subscriptions that want it.
    One(Arc<RecordEvent>),
}

/// Checks a subscription the way its deliveries will run (syntax, validation, depth and complexity limits,
/// introspection switch, scopes, filter values) and returns its topic; or the GraphQL errors to answer with.
/// A document whose operation is not a subscription with exactly one root field is refused.
pub async fn check(ts: &TenantSchema, caller: Caller, request: Request) -> Result<Topic, Vec<ServerError>> {
    let topics = Arc::new(Mutex::new(Vec::new()));
    let caller = caller.with_events(EventSource::Probe(topics.clone()));
    let mut responses = ts.schema.execute_stream(request.data(caller));
    while let Some(response) = responses.next().await {
        if response.is_err() {
            return Err(response.errors);
        }
    }
    let mut topics = std::mem::take(&mut *topics.lock().expect("topics"));
    match topics.len() {
        1 => Ok(topics.remove(0)),
        0 => Err(vec![ServerError::new("the operation is not a subscription", None)]),
        _ => Err(vec![ServerError::new("a subscription selects exactly one root field", None)]),
    }
}

/// Runs a stored subscription on one event: the `next` payload, or `None` when the event is not for it (another
/// tenant, entity or kind, or left out by its filter).
pub async fn deliver(ts: &TenantSchema, caller: Caller, request: Request, event: Arc<RecordEvent>) -> Option<Response> {
    let caller = caller.with_events(EventSource::One(event));
    ts.schema.execute_stream(request.data(caller)).next().await
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
    let source = caller.events.clone().ok_or_else(|| {
        errors::coded("SUBSCRIPTIONS_NEED_WEBSOCKET", "subscriptions are served over WebSocket (graphql-transport-ws)")
    })?;
    let event = match source {
        EventSource::Probe(topics) => {
            topics.lock().expect("topics").push(Topic { entity, event_type: event_type.to_owned() });
            None
        }
        EventSource::One(event) => {
            let tenant = &caller.principal.tenant;
            matching(&event, tenant, &Arc::from(entity.as_str()), event_type, &query)
        }
    };
    Ok(futures::stream::iter(event.map(|n| Ok(FieldValue::owned_any(n)))))
}

/// The record of an event, when the event is of this tenant, entity and kind, and the record passes the filter.
fn matching(event: &RecordEvent, tenant: &str, entity: &Arc<str>, event_type: &str, query: &Query) -> Option<Node> {
    let wanted = event.tenant == tenant && event.event_type == event_type && *event.entity == **entity;
    (wanted && query.matches(&event.record)).then(|| Node { entity: entity.clone(), record: event.record.clone() })
}
