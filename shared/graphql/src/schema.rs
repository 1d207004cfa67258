//! The tenant's schema, generated from its models with async-graphql's dynamic schema. Built once per set of
//! model versions (see [`crate::cache`]); resolvers are in [`crate::resolve`].

use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{
    Enum, Field, FieldFuture, FieldValue, InputObject, InputValue, Object, Scalar, Schema, SchemaError, TypeRef,
};
use hw_domain::model::{FieldDef, FieldType};
use hw_domain::query::{FieldRef, Kind};
use hw_domain::tenant::GraphqlSettings;
use hw_store::records::Records;

use crate::catalog::{Catalog, Entity};
use crate::context::Env;
use crate::filter::{is_queryable, sort_value};
use crate::names::{is_enum_value_name, pascal};
use crate::resolve::{self, DEFAULT_PAGE};
use crate::values::{Connection, Edge, PageInfo};

const DATE: &str = "Date";
const DATETIME: &str = "DateTime";
const JSON: &str = "JSON";
const LONG: &str = "Long";

/// Builds the schema of these models.
pub fn build(catalog: Arc<Catalog>, settings: &GraphqlSettings, records: Arc<Records>) -> Result<Schema, SchemaError> {
    let has_entities = !catalog.entities.is_empty();
    let mut query = Object::new("Query");
    let mut mutation = Object::new("Mutation");
    let mut builder_types: Vec<async_graphql::dynamic::Type> = shared_types();
    for e in catalog.entities.values() {
        query = query.field(one_field(e)).field(list_field(e));
        mutation = mutations(mutation, e);
        builder_types.extend(entity_types(e, &catalog));
    }
    if !has_entities {
        // A schema needs a field on Query; a tenant without models still gets a valid (and honest) schema.
        query = query.field(
            Field::new("modelCount", TypeRef::named_nn(TypeRef::INT), |_| {
                FieldFuture::new(async { Ok(Some(FieldValue::value(0))) })
            })
            .description("How many models the tenant has defined (none yet: define models to get their fields here)."),
        );
    }
    let mut builder =
        Schema::build("Query", has_entities.then_some("Mutation"), has_entities.then_some("Subscription"))
            .register(query)
            .data(Env { records, catalog: catalog.clone() })
            .limit_depth(settings.max_depth as usize)
            .limit_complexity(settings.max_complexity as usize)
            .extension(crate::paths::ErrorPaths)
            .enable_federation();
    if has_entities {
        builder = builder
            .register(mutation)
            .register(crate::subscriptions::root(&catalog))
            .entity_resolver(|ctx| FieldFuture::new(async move { resolve::entities(&ctx).await }));
    }
    if !settings.introspection {
        builder = builder.disable_introspection();
    }
    for t in builder_types {
        builder = builder.register(t);
    }
    builder.finish()
}

fn scalar(name: &str, description: &str, valid: fn(&Value) -> bool) -> Scalar {
    Scalar::new(name).description(description).validator(valid)
}

fn shared_types() -> Vec<async_graphql::dynamic::Type> {
    let mut out: Vec<async_graphql::dynamic::Type> = vec![
        scalar(
            DATE,
            "A calendar date, `YYYY-MM-DD`.",
            |v| matches!(v, Value::String(s) if s.len() == 10 && chrono_date(s)),
        )
        .into(),
        scalar(
            DATETIME,
            "An instant, RFC 3339 (`2026-01-31T09:30:00Z`).",
            |v| matches!(v, Value::String(s) if chrono_instant(s)),
        )
        .into(),
        scalar(JSON, "Any JSON value.", |_| true).into(),
        scalar(
            LONG,
            "A whole number beyond GraphQL's 32-bit `Int` (within ±2^53, so JSON keeps it exact).",
            |v| matches!(v, Value::Number(n) if n.as_i64().is_some_and(|i| i.unsigned_abs() <= 1 << 53)),
        )
        .into(),
        page_info().into(),
    ];
    for (name, ty, ops) in [
        ("StringFilter", TypeRef::STRING, Kind::Text.ops()),
        ("IntFilter", TypeRef::INT, Kind::Integer.ops()),
        ("LongFilter", LONG, Kind::Integer.ops()),
        ("FloatFilter", TypeRef::FLOAT, Kind::Decimal.ops()),
        ("BooleanFilter", TypeRef::BOOLEAN, Kind::Boolean.ops()),
        ("DateFilter", DATE, Kind::Date.ops()),
        ("DateTimeFilter", DATETIME, Kind::Instant.ops()),
        ("IDFilter", TypeRef::ID, Kind::Id.ops()),
        ("ReferenceFilter", TypeRef::ID, Kind::Reference.ops()),
        ("EnumStringFilter", TypeRef::STRING, Kind::Enum.ops()),
        ("JSONFilter", JSON, Kind::Json.ops()),
    ] {
        out.push(op_filter(name, ty, ops).into());
    }
    out
}

fn chrono_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn chrono_instant(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

fn op_filter(name: &str, ty: &str, ops: &[hw_domain::query::Op]) -> InputObject {
    use hw_domain::query::Op;
    let mut o = InputObject::new(name).description("Conditions on one field; they all must hold.");
    for op in ops {
        let t = match op {
            Op::In => TypeRef::named_nn_list(ty),
            Op::IsNull => TypeRef::named(TypeRef::BOOLEAN),
            _ => TypeRef::named(ty),
        };
        o = o.field(InputValue::new(op.as_str(), t));
    }
    o
}

fn page_info_field(name: &str, ty: TypeRef, get: fn(&PageInfo) -> Value) -> Field {
    Field::new(name, ty, move |ctx| {
        FieldFuture::new(async move {
            let v = get(ctx.parent_value.try_downcast_ref::<PageInfo>()?);
            Ok(if v == Value::Null { None } else { Some(FieldValue::value(v)) })
        })
    })
}

fn page_info() -> Object {
    Object::new("PageInfo")
        .description("Relay page information.")
        .field(page_info_field("hasNextPage", TypeRef::named_nn(TypeRef::BOOLEAN), |p| Value::from(p.has_next)))
        .field(page_info_field("hasPreviousPage", TypeRef::named_nn(TypeRef::BOOLEAN), |p| Value::from(p.has_previous)))
        .field(page_info_field("startCursor", TypeRef::named(TypeRef::STRING), |p| {
            p.start.clone().map(Value::from).unwrap_or(Value::Null)
        }))
        .field(page_info_field("endCursor", TypeRef::named(TypeRef::STRING), |p| {
            p.end.clone().map(Value::from).unwrap_or(Value::Null)
        }))
}

/// The GraphQL enum type of an enum field, when every value is a valid GraphQL name.
fn enum_type_name(e: &Entity, f: &FieldDef) -> Option<String> {
    let values = f.values.as_ref()?;
    values.iter().all(|v| is_enum_value_name(v)).then(|| format!("{}{}", e.type_name, pascal(&f.name)))
}

fn integer_type(f: &FieldDef) -> &'static str {
    let fits = |v: Option<f64>| v.is_some_and(|n| n >= i32::MIN as f64 && n <= i32::MAX as f64);
    if fits(f.min) && fits(f.max) { TypeRef::INT } else { LONG }
}

/// The GraphQL type of a field's value (references: the target's id on input).
fn value_type(e: &Entity, f: &FieldDef) -> String {
    match f.field_type {
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url => TypeRef::STRING.into(),
        FieldType::Integer => integer_type(f).into(),
        FieldType::Decimal => TypeRef::FLOAT.into(),
        FieldType::Boolean => TypeRef::BOOLEAN.into(),
        FieldType::Date => DATE.into(),
        FieldType::Datetime => DATETIME.into(),
        FieldType::Enum => enum_type_name(e, f).unwrap_or_else(|| TypeRef::STRING.into()),
        FieldType::Reference => TypeRef::ID.into(),
        FieldType::Json => JSON.into(),
    }
}

fn filter_type(e: &Entity, f: &FieldDef) -> String {
    match f.field_type {
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url => "StringFilter".into(),
        FieldType::Integer if integer_type(f) == TypeRef::INT => "IntFilter".into(),
        FieldType::Integer => "LongFilter".into(),
        FieldType::Decimal => "FloatFilter".into(),
        FieldType::Boolean => "BooleanFilter".into(),
        FieldType::Date => "DateFilter".into(),
        FieldType::Datetime => "DateTimeFilter".into(),
        FieldType::Enum => {
            enum_type_name(e, f).map(|t| format!("{t}Filter")).unwrap_or_else(|| "EnumStringFilter".into())
        }
        FieldType::Reference => "ReferenceFilter".into(),
        FieldType::Json => "JSONFilter".into(),
    }
}

fn describe(f: &FieldDef) -> Option<String> {
    let mut d = f.description.clone().or_else(|| f.label.clone()).unwrap_or_default();
    if f.sensitive {
        d.push_str(if d.is_empty() { "" } else { " " });
        d.push_str("Sensitive: needs the `data:sensitive` scope (or `data:sensitive:{entity}`).");
    }
    (!d.is_empty()).then_some(d)
}

fn connection_args(field: Field, e: &Entity) -> Field {
    field
        .argument(InputValue::new("filter", TypeRef::named(format!("{}Filter", e.type_name))))
        .argument(InputValue::new("sort", TypeRef::named_nn_list(format!("{}Order", e.type_name))))
        .argument(
            InputValue::new("first", TypeRef::named(TypeRef::INT))
                .default_value(DEFAULT_PAGE as i32)
                .description("Records per page, 0 to 100."),
        )
        .argument(
            InputValue::new("after", TypeRef::named(TypeRef::STRING))
                .description("The `endCursor` of the previous page."),
        )
}

fn one_field(e: &Entity) -> Field {
    let entity = e.name().to_owned();
    Field::new(e.one_field.clone(), TypeRef::named(&e.type_name), move |ctx| {
        let entity = entity.clone();
        FieldFuture::new(async move { resolve::one(&ctx, &entity).await })
    })
    .description(format!("One {} by id; null when there is none. Needs `data:read:{}`.", e.model.label, e.name()))
    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
}

fn list_field(e: &Entity) -> Field {
    let entity = e.name().to_owned();
    let f = Field::new(e.list_field.clone(), TypeRef::named_nn(format!("{}Connection", e.type_name)), move |ctx| {
        let entity = entity.clone();
        FieldFuture::new(async move { resolve::list(&ctx, &entity).await })
    })
    .description(format!(
        "{} records: filter, sort, cursor pages. Needs `data:read:{}`.",
        e.model.label,
        e.name()
    ));
    connection_args(f, e)
}

fn mutations(m: Object, e: &Entity) -> Object {
    let t = &e.type_name;
    let entity = e.name().to_owned();
    let op = |name: String, ty: TypeRef, kind: &'static str| {
        let entity = entity.clone();
        Field::new(name, ty, move |ctx| {
            let entity = entity.clone();
            FieldFuture::new(async move {
                match kind {
                    "create" => resolve::create(&ctx, &entity).await,
                    "update" => resolve::update(&ctx, &entity).await,
                    "upsert" => resolve::upsert(&ctx, &entity).await,
                    _ => resolve::delete(&ctx, &entity).await,
                }
            })
        })
    };
    let id = || InputValue::new("id", TypeRef::named_nn(TypeRef::ID));
    let version = || {
        InputValue::new("expectedVersion", TypeRef::named(TypeRef::INT))
            .description("Only write when the record is still at this version (optimistic concurrency).")
    };
    let scope = format!("Needs `data:write:{}`.", e.name());
    m.field(
        op(format!("create{t}"), TypeRef::named_nn(t), "create")
            .description(format!("Creates a {}. {scope}", e.model.label))
            .argument(InputValue::new("input", TypeRef::named_nn(format!("{t}CreateInput")))),
    )
    .field(
        op(format!("update{t}"), TypeRef::named_nn(t), "update")
            .description(format!("Changes the fields given (null clears one). {scope}"))
            .argument(id())
            .argument(InputValue::new("input", TypeRef::named_nn(format!("{t}UpdateInput"))))
            .argument(version()),
    )
    .field(
        op(format!("delete{t}"), TypeRef::named_nn(TypeRef::ID), "delete")
            .description(format!("Deletes a {}; answers its id. {scope}", e.model.label))
            .argument(id())
            .argument(version()),
    )
    .field(
        op(format!("upsert{t}"), TypeRef::named_nn(t), "upsert")
            .description(format!("Changes the record with this id, or creates it when there is none. {scope}"))
            .argument(id())
            .argument(InputValue::new("input", TypeRef::named_nn(format!("{t}UpdateInput")))),
    )
}

/// The object, connection, edge, filter, order and input types of one entity, and its enum types.
fn entity_types(e: &Entity, catalog: &Catalog) -> Vec<async_graphql::dynamic::Type> {
    let t = &e.type_name;
    let mut out: Vec<async_graphql::dynamic::Type> = Vec::new();
    let mut obj = Object::new(t.clone()).key("id");
    if let Some(d) = e.model.description.clone().or_else(|| Some(e.model.label.clone())) {
        obj = obj.description(d);
    }
    for (name, ty) in [
        ("id", TypeRef::named_nn(TypeRef::ID)),
        ("version", TypeRef::named_nn(TypeRef::INT)),
        ("created_at", TypeRef::named_nn(DATETIME)),
        ("updated_at", TypeRef::named_nn(DATETIME)),
        ("created_by", TypeRef::named_nn(TypeRef::STRING)),
        ("updated_by", TypeRef::named_nn(TypeRef::STRING)),
    ] {
        obj = obj.field(Field::new(name, ty, move |ctx| FieldFuture::new(async move { resolve::system(&ctx, name) })));
    }
    let mut filter = InputObject::new(format!("{t}Filter"))
        .description("Every condition given must hold; `and`, `or` and `not` combine filters.")
        .field(InputValue::new("id", TypeRef::named("IDFilter")))
        .field(InputValue::new("created_at", TypeRef::named("DateTimeFilter")))
        .field(InputValue::new("updated_at", TypeRef::named("DateTimeFilter")))
        .field(InputValue::new("and", TypeRef::named_nn_list(format!("{t}Filter"))))
        .field(InputValue::new("or", TypeRef::named_nn_list(format!("{t}Filter"))))
        .field(InputValue::new("not", TypeRef::named(format!("{t}Filter"))));
    let mut order = Enum::new(format!("{t}Order")).description("Sort keys; the id breaks ties.");
    for f in ["id", "created_at", "updated_at"] {
        order = order.item(sort_value(f, false)).item(sort_value(f, true));
    }
    let mut create = InputObject::new(format!("{t}CreateInput"))
        .field(InputValue::new("id", TypeRef::named(TypeRef::ID)).description("Leave out to have one made."));
    let mut update = InputObject::new(format!("{t}UpdateInput"));
    for f in &e.model.fields {
        let value_ty = value_type(e, f);
        if let Some(enum_name) = enum_type_name(e, f) {
            let values = f.values.clone().unwrap_or_default();
            out.push(Enum::new(enum_name.clone()).items(values.iter().map(String::as_str)).into());
            out.push(
                InputObject::new(format!("{enum_name}Filter"))
                    .field(InputValue::new("eq", TypeRef::named(&enum_name)))
                    .field(InputValue::new("ne", TypeRef::named(&enum_name)))
                    .field(InputValue::new("in", TypeRef::named_nn_list(&enum_name)))
                    .field(InputValue::new("isNull", TypeRef::named(TypeRef::BOOLEAN)))
                    .into(),
            );
        }
        let name = f.name.clone();
        let mut field = if let (FieldType::Reference, Some(target)) = (f.field_type, f.target.as_deref()) {
            let target_type = catalog.get(target).map(|t| t.type_name.clone()).unwrap_or_else(|| pascal(target));
            let target = target.to_owned();
            Field::new(name.clone(), TypeRef::named(target_type), move |ctx| {
                let (name, target) = (name.clone(), target.clone());
                FieldFuture::new(async move { resolve::reference(&ctx, &name, &target).await })
            })
        } else {
            let sensitive = f.sensitive;
            Field::new(name.clone(), TypeRef::named(&value_ty), move |ctx| {
                let name = name.clone();
                FieldFuture::new(async move { resolve::attribute(&ctx, &name, sensitive) })
            })
        };
        if let Some(d) = describe(f) {
            field = field.description(d);
        }
        obj = obj.field(field);
        let queryable = FieldRef::resolve(&e.model, &f.name).is_some_and(|r| is_queryable(&r));
        if queryable {
            filter = filter.field(InputValue::new(f.name.clone(), TypeRef::named(filter_type(e, f))));
            if f.field_type != FieldType::Json {
                order = order.item(sort_value(&f.name, false)).item(sort_value(&f.name, true));
            }
        }
        let required = f.required && f.default.is_none();
        create = create.field(InputValue::new(
            f.name.clone(),
            if required { TypeRef::named_nn(&value_ty) } else { TypeRef::named(&value_ty) },
        ));
        update = update.field(InputValue::new(f.name.clone(), TypeRef::named(&value_ty)));
    }
    for r in &e.reverse {
        let Some(source) = catalog.get(&r.source) else { continue };
        let (src, fld) = (r.source.clone(), r.field.clone());
        let f = Field::new(r.name.clone(), TypeRef::named_nn(format!("{}Connection", source.type_name)), move |ctx| {
            let (src, fld) = (src.clone(), fld.clone());
            FieldFuture::new(async move { resolve::reverse(&ctx, &src, &fld).await })
        })
        .description(format!("The {} records whose `{}` is this record.", source.model.label, r.field));
        obj = obj.field(connection_args(f, source));
    }
    out.push(obj.into());
    out.push(filter.into());
    out.push(order.into());
    out.push(create.into());
    out.push(update.into());
    out.push(connection_type(t).into());
    out.push(edge_type(t).into());
    out
}

fn connection_type(t: &str) -> Object {
    Object::new(format!("{t}Connection"))
        .field(Field::new("edges", TypeRef::named_nn_list_nn(format!("{t}Edge")), |ctx| {
            FieldFuture::new(async move {
                let c = ctx.parent_value.try_downcast_ref::<Connection>()?;
                Ok(Some(FieldValue::list(c.edges.iter().cloned().map(FieldValue::owned_any))))
            })
        }))
        .field(Field::new("nodes", TypeRef::named_nn_list_nn(t), |ctx| {
            FieldFuture::new(async move {
                let c = ctx.parent_value.try_downcast_ref::<Connection>()?;
                Ok(Some(FieldValue::list(c.edges.iter().map(|e| resolve::node_value(e.node.clone())))))
            })
        }))
        .field(Field::new("pageInfo", TypeRef::named_nn("PageInfo"), |ctx| {
            FieldFuture::new(async move {
                let c = ctx.parent_value.try_downcast_ref::<Connection>()?;
                Ok(Some(FieldValue::owned_any(c.page_info())))
            })
        }))
        .field(
            Field::new("totalCount", TypeRef::named_nn(TypeRef::INT), |ctx| {
                FieldFuture::new(async move { resolve::total_count(&ctx).await })
            })
            .description("How many records match in all (reads every match: ask only when needed)."),
        )
}

fn edge_type(t: &str) -> Object {
    Object::new(format!("{t}Edge"))
        .field(Field::new("cursor", TypeRef::named_nn(TypeRef::STRING), |ctx| {
            FieldFuture::new(async move {
                let e = ctx.parent_value.try_downcast_ref::<Edge>()?;
                Ok(Some(FieldValue::value(e.cursor.clone())))
            })
        }))
        .field(Field::new("node", TypeRef::named_nn(t), |ctx| {
            FieldFuture::new(async move {
                let e = ctx.parent_value.try_downcast_ref::<Edge>()?;
                Ok(Some(resolve::node_value(e.node.clone())))
            })
        }))
}
