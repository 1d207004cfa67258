//! Resolver bodies: root queries, relations, connections and mutations. The schema (`schema.rs`) wires them to
//! fields; everything they need comes from the context ([`Env`], [`Caller`]).

use std::sync::Arc;

use async_graphql::dynamic::{FieldValue, ResolverContext};
use async_graphql::{Result, Value};
use hw_domain::cursor;
use hw_domain::ids::is_valid_record_id;
use hw_domain::model::Model;
use hw_domain::principal::scope;
use hw_domain::query::{FieldRef, Filter, Op, Position, Query, Scalar};
use hw_domain::record::Record;
use hw_store::records::RecordError;

use crate::context::{Caller, Env, Node};
use crate::errors::{self, bad_argument};
use crate::filter;
use crate::loaders::{ReverseSpec, WALK_PAGE};
use crate::values::{Connection, Edge, Total, node};

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

pub fn read_scope(entity: &str) -> String {
    format!("{}:{entity}", scope::DATA_READ)
}
pub fn write_scope(entity: &str) -> String {
    format!("{}:{entity}", scope::DATA_WRITE)
}
pub fn sensitive_scope(entity: &str) -> String {
    format!("{}:{entity}", scope::DATA_SENSITIVE)
}

fn env<'a>(ctx: &'a ResolverContext<'_>) -> Result<&'a Env> {
    ctx.data::<Env>()
}
fn caller<'a>(ctx: &'a ResolverContext<'_>) -> Result<&'a Caller> {
    ctx.data::<Caller>()
}

fn model<'a>(env: &'a Env, entity: &str) -> Result<&'a Model> {
    env.catalog.get(entity).map(|e| &e.model).ok_or_else(|| errors::internal(format!("no entity `{entity}`")))
}

fn arg_json(ctx: &ResolverContext<'_>, name: &str) -> Result<Option<serde_json::Value>> {
    match ctx.args.get(name) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(None),
        Some(v) => {
            Ok(Some(v.as_value().clone().into_json().map_err(|e| bad_argument(name, "invalid-value", e.to_string()))?))
        }
    }
}

pub fn node_value(node: Node) -> FieldValue<'static> {
    FieldValue::owned_any(node)
}

pub fn parent_node<'a>(ctx: &'a ResolverContext<'_>) -> Result<&'a Node> {
    if ctx.parent_value.as_value() == Some(&Value::Null) {
        // `_entities` answers a representation without a record as a typed null (async-graphql's dynamic schema
        // has no null list items for unions): its fields say so.
        return Err(errors::coded(errors::NOT_FOUND, "there is no record with this id"));
    }
    ctx.parent_value.try_downcast_ref::<Node>()
}

/// An attribute of a record; sensitive ones need `data:sensitive:{entity}`.
pub fn attribute(ctx: &ResolverContext<'_>, field: &str, sensitive: bool) -> Result<Option<FieldValue<'static>>> {
    let node = parent_node(ctx)?;
    if sensitive {
        caller(ctx)?.require(&sensitive_scope(&node.entity))?;
    }
    match node.record.attributes.get(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => Ok(Some(FieldValue::value(Value::from_json(v.clone()).map_err(errors::internal)?))),
    }
}

pub fn system(ctx: &ResolverContext<'_>, field: &str) -> Result<Option<FieldValue<'static>>> {
    let r = &parent_node(ctx)?.record;
    let v = match field {
        "id" => Value::from(r.id.clone()),
        "version" => Value::from(r.version),
        "created_at" => Value::from(r.created_at.clone()),
        "updated_at" => Value::from(r.updated_at.clone()),
        "created_by" => Value::from(r.created_by.clone()),
        "updated_by" => Value::from(r.updated_by.clone()),
        _ => return Ok(None),
    };
    Ok(Some(FieldValue::value(v)))
}

/// `contact(id)`: through the record loader, so `_entities` and references of the same request share reads.
pub async fn one(ctx: &ResolverContext<'_>, entity: &str) -> Result<Option<FieldValue<'static>>> {
    let caller = caller(ctx)?;
    caller.require(&read_scope(entity))?;
    let id = ctx.args.try_get("id")?.string()?;
    if !is_valid_record_id(id) {
        return Ok(None);
    }
    let found = caller.records.load_one((entity.to_owned(), id.to_owned())).await?;
    Ok(found.map(|r| node_value(Node { entity: Arc::from(entity), record: r })))
}

/// `contact.company`: the referenced record, batched with its siblings.
pub async fn reference(ctx: &ResolverContext<'_>, field: &str, target: &str) -> Result<Option<FieldValue<'static>>> {
    let node = parent_node(ctx)?;
    let Some(id) = node.record.attributes.get(field).and_then(|v| v.as_str()) else { return Ok(None) };
    let caller = caller(ctx)?;
    caller.require(&read_scope(target))?;
    let found = caller.records.load_one((target.to_owned(), id.to_owned())).await?;
    Ok(found.map(|r| node_value(Node { entity: Arc::from(target), record: r })))
}

struct PageArgs {
    query: Query,
    first: usize,
    after: Option<String>,
}

fn page_args(ctx: &ResolverContext<'_>, model: &Model) -> Result<PageArgs> {
    let query = filter::parse(model, arg_json(ctx, "filter")?.as_ref(), arg_json(ctx, "sort")?.as_ref())?;
    let first = match ctx.args.get("first") {
        Some(v) if !v.is_null() => {
            let n = v.i64()?;
            if !(0..=MAX_PAGE as i64).contains(&n) {
                return Err(bad_argument("first", "out-of-range", format!("`first` must lie in 0..={MAX_PAGE}")));
            }
            n as usize
        }
        _ => DEFAULT_PAGE,
    };
    let after = match ctx.args.get("after") {
        Some(v) if !v.is_null() => Some(v.string()?.to_owned()),
        _ => None,
    };
    Ok(PageArgs { query, first, after })
}

async fn position(caller: &Caller, query: &Query, fingerprint: &str, token: &str) -> Result<Position> {
    let key = caller.cursor_key().await?;
    let c =
        cursor::decode(&key, token, fingerprint).map_err(|e| bad_argument("after", "invalid-cursor", e.to_string()))?;
    query
        .position(&c.values, &c.id)
        .ok_or_else(|| bad_argument("after", "invalid-cursor", "the cursor does not fit this query"))
}

async fn edges(caller: &Caller, entity: &Arc<str>, query: &Query, records: Vec<Arc<Record>>) -> Result<Vec<Edge>> {
    let key = caller.cursor_key().await?;
    let fingerprint = query.fingerprint(entity);
    Ok(records
        .into_iter()
        .map(|r| {
            let c = cursor::Cursor { query: fingerprint.clone(), values: query.raw_key_of(&r), id: r.id.clone() };
            Edge { cursor: cursor::encode(&key, &c), node: node(entity, r) }
        })
        .collect())
}

/// One page of `query` after `after`, as a connection.
async fn page(
    env: &Env,
    caller: &Caller,
    model: &Model,
    query: Query,
    first: usize,
    after: Option<String>,
) -> Result<Connection> {
    let entity: Arc<str> = Arc::from(model.name.as_str());
    let after = match &after {
        Some(token) => Some(position(caller, &query, &query.fingerprint(&model.name), token).await?),
        None => None,
    };
    let (records, has_next) = if first == 0 {
        (vec![], false)
    } else {
        let page =
            env.records.query(&caller.principal, model, &query, first, after.as_ref()).await.map_err(errors::query)?;
        (page.records.into_iter().map(Arc::new).collect(), page.next.is_some())
    };
    let edges = edges(caller, &entity, &query, records).await?;
    Ok(Connection { entity, edges, has_next, has_previous: after.is_some(), total: Total::Walk(query) })
}

/// `contacts(filter, sort, first, after)`.
pub async fn list(ctx: &ResolverContext<'_>, entity: &str) -> Result<Option<FieldValue<'static>>> {
    let (env, caller) = (env(ctx)?, caller(ctx)?);
    caller.require(&read_scope(entity))?;
    let model = model(env, entity)?;
    let args = page_args(ctx, model)?;
    let conn = page(env, caller, model, args.query, args.first, args.after).await?;
    Ok(Some(FieldValue::owned_any(conn)))
}

/// `company.contacts`: without `after`, batched over every parent of this level by the reverse loader.
pub async fn reverse(ctx: &ResolverContext<'_>, source: &str, field: &str) -> Result<Option<FieldValue<'static>>> {
    let (env, caller) = (env(ctx)?, caller(ctx)?);
    caller.require(&read_scope(source))?;
    let parent = parent_node(ctx)?.record.id.clone();
    let model = model(env, source)?;
    let args = page_args(ctx, model)?;
    let reference = FieldRef::resolve(model, field).ok_or_else(|| errors::internal("reverse field vanished"))?;
    let mut own = args.query.clone();
    own.filters.push(Filter {
        field: reference,
        op: Op::Eq,
        values: vec![Scalar::Str(parent.clone())],
        is_null: false,
    });
    if args.after.is_some() {
        let conn = page(env, caller, model, own, args.first, args.after).await?;
        return Ok(Some(FieldValue::owned_any(conn)));
    }
    let spec = ReverseSpec { source: source.to_owned(), field: field.to_owned(), query: args.query, first: args.first };
    let key = caller.reverse.loader().key(spec, &parent);
    let children = caller.reverse.load_one(key).await?.ok_or_else(|| errors::internal("reverse load lost a key"))?;
    let entity: Arc<str> = Arc::from(source);
    let records: Vec<Arc<Record>> = children.records.iter().take(args.first).cloned().collect();
    let edges = edges(caller, &entity, &own, records).await?;
    Ok(Some(FieldValue::owned_any(Connection {
        entity,
        edges,
        has_next: children.records.len() > args.first,
        has_previous: false,
        total: Total::Known(children.total),
    })))
}

/// `totalCount`: known for reverse relations, otherwise a walk of the query (only when asked for).
pub async fn total_count(ctx: &ResolverContext<'_>) -> Result<Option<FieldValue<'static>>> {
    let conn = ctx.parent_value.try_downcast_ref::<Connection>()?;
    let query = match &conn.total {
        Total::Known(n) => return Ok(Some(FieldValue::value(*n as u64))),
        Total::Walk(q) => q,
    };
    let (env, caller) = (env(ctx)?, caller(ctx)?);
    let model = model(env, &conn.entity)?;
    let (mut count, mut after) = (0u64, None);
    loop {
        let page = env
            .records
            .query(&caller.principal, model, query, WALK_PAGE, after.as_ref())
            .await
            .map_err(errors::query)?;
        count += page.records.len() as u64;
        match page.next.and_then(|(values, id)| query.position(&values, &id)) {
            Some(p) => after = Some(p),
            None => break,
        }
    }
    Ok(Some(FieldValue::value(count)))
}

fn input_object(ctx: &ResolverContext<'_>) -> Result<serde_json::Map<String, serde_json::Value>> {
    match arg_json(ctx, "input")? {
        Some(serde_json::Value::Object(m)) => Ok(m),
        _ => Err(bad_argument("input", "invalid-value", "`input` must be an object")),
    }
}

fn id_arg<'a>(ctx: &'a ResolverContext<'_>) -> Result<&'a str> {
    let id = ctx.args.try_get("id")?.string()?;
    if is_valid_record_id(id) {
        Ok(id)
    } else {
        Err(bad_argument(
            "id",
            "invalid-id",
            "ids are 1 to 64 letters, digits, `_`, `.` or `-`, starting with a letter or digit",
        ))
    }
}

fn expected_version(ctx: &ResolverContext<'_>) -> Result<Option<u64>> {
    match ctx.args.get("expectedVersion") {
        Some(v) if !v.is_null() => Ok(Some(v.u64()?)),
        _ => Ok(None),
    }
}

const INPUT_POINTER: &(dyn Fn(&str) -> String + Sync) = &|f: &str| format!("/input/{f}");

fn written(entity: &str, r: Record) -> Option<FieldValue<'static>> {
    Some(node_value(Node { entity: Arc::from(entity), record: Arc::new(r) }))
}

pub async fn create(ctx: &ResolverContext<'_>, entity: &str) -> Result<Option<FieldValue<'static>>> {
    let (env, caller) = (env(ctx)?, caller(ctx)?);
    caller.require(&write_scope(entity))?;
    let mut input = input_object(ctx)?;
    let id = match input.remove("id") {
        Some(serde_json::Value::String(id)) if is_valid_record_id(&id) => Some(id),
        Some(serde_json::Value::Null) | None => None,
        Some(_) => {
            return Err(bad_argument(
                "input.id",
                "invalid-id",
                "ids are 1 to 64 letters, digits, `_`, `.` or `-`, starting with a letter or digit",
            ));
        }
    };
    let model = model(env, entity)?;
    let r = env.records.create(&caller.principal, model, id, &input, INPUT_POINTER).await.map_err(errors::record)?;
    Ok(written(entity, r))
}

pub async fn update(ctx: &ResolverContext<'_>, entity: &str) -> Result<Option<FieldValue<'static>>> {
    let (env, caller) = (env(ctx)?, caller(ctx)?);
    caller.require(&write_scope(entity))?;
    let (id, input, expected) = (id_arg(ctx)?, input_object(ctx)?, expected_version(ctx)?);
    let model = model(env, entity)?;
    let r = env
        .records
        .update(&caller.principal, model, id, &input, expected, INPUT_POINTER)
        .await
        .map_err(errors::record)?;
    Ok(written(entity, r))
}

/// Updates the record if it exists, else creates it with that id (a create that loses a race becomes the update).
pub async fn upsert(ctx: &ResolverContext<'_>, entity: &str) -> Result<Option<FieldValue<'static>>> {
    let (env, caller) = (env(ctx)?, caller(ctx)?);
    caller.require(&write_scope(entity))?;
    let (id, input) = (id_arg(ctx)?, input_object(ctx)?);
    let model = model(env, entity)?;
    let p = &caller.principal;
    for _ in 0..2 {
        match env.records.update(p, model, id, &input, None, INPUT_POINTER).await {
            Err(RecordError::NotFound { .. }) => {}
            other => return other.map(|r| written(entity, r)).map_err(errors::record),
        }
        match env.records.create(p, model, Some(id.to_owned()), &input, INPUT_POINTER).await {
            Err(RecordError::AlreadyExists { .. }) => continue,
            other => return other.map(|r| written(entity, r)).map_err(errors::record),
        }
    }
    Err(errors::record(RecordError::Busy))
}

pub async fn delete(ctx: &ResolverContext<'_>, entity: &str) -> Result<Option<FieldValue<'static>>> {
    let (env, caller) = (env(ctx)?, caller(ctx)?);
    caller.require(&write_scope(entity))?;
    let (id, expected) = (id_arg(ctx)?, expected_version(ctx)?);
    let model = model(env, entity)?;
    env.records.delete(&caller.principal, model, id, expected).await.map_err(errors::record)?;
    Ok(Some(FieldValue::value(id.to_owned())))
}

/// `_entities(representations)`: each `{__typename, id}` through the record loader.
pub async fn entities(ctx: &ResolverContext<'_>) -> Result<Option<FieldValue<'static>>> {
    let (env, caller) = (env(ctx)?, caller(ctx)?);
    let reps = ctx.args.try_get("representations")?.list()?;
    let mut wanted = Vec::with_capacity(reps.len());
    for (i, rep) in reps.iter().enumerate() {
        let rep = rep.object()?;
        let type_name = rep.try_get("__typename")?.string()?;
        let entity = env.catalog.by_type(type_name).ok_or_else(|| {
            bad_argument(&format!("representations.{i}"), "unknown-type", format!("`{type_name}` is not an entity"))
        })?;
        caller.require(&read_scope(entity.name()))?;
        let id = rep.try_get("id")?.string()?.to_owned();
        wanted.push((entity.name().to_owned(), entity.type_name.clone(), id));
    }
    let keys: Vec<(String, String)> = wanted.iter().map(|(e, _, id)| (e.clone(), id.clone())).collect();
    let found = caller.records.load_many(keys).await?;
    let values = wanted.into_iter().map(|(entity, type_name, id)| match found.get(&(entity.clone(), id)) {
        Some(r) => node_value(Node { entity: Arc::from(entity.as_str()), record: r.clone() }).with_type(type_name),
        None => FieldValue::NULL.with_type(type_name),
    });
    Ok(Some(FieldValue::list(values)))
}
