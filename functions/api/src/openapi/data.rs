//! Data routes (JSON:API 1.1, `application/vnd.api+json`, JSON:API error documents): the generic templated routes
//! of the static document, and concrete routes with generated schemas for each model of a tenant.

use hw_domain::model::{FieldType, Model};
use serde_json::{Map, Value, json};

use super::common::{Errors::JsonApi as J, Op};
use super::fields;
use super::schemas::{NAME_PATTERN, RECORD_ID_PATTERN, schema_ref};
use crate::http::JSON_API;
use crate::records::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// Most resource objects in one bulk request.
pub const MAX_BULK: usize = 100;

fn date_time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

/// Schemas of the generic data routes and the pieces every entity's schemas reuse.
pub fn generic_schemas() -> Vec<(&'static str, Value)> {
    let identifier = json!({"type": "object", "required": ["type", "id"],
        "properties": {"type": {"type": "string"}, "id": {"type": "string"}}});
    vec![
        (
            "ResourceMeta",
            json!({"type": "object",
            "required": ["version", "created_at", "updated_at", "created_by", "updated_by"],
            "properties": {"version": {"type": "integer", "minimum": 1}, "created_at": date_time(),
                           "updated_at": date_time(), "created_by": {"type": "string"},
                           "updated_by": {"type": "string"}}}),
        ),
        ("ResourceIdentifier", identifier),
        (
            "Relationship",
            json!({"type": "object", "required": ["data"],
            "properties": {"data": {"oneOf": [schema_ref("ResourceIdentifier"), {"type": "null"}]},
                           "links": {"type": "object", "properties": {"related": {"type": "string", "format": "uri"}}}}}),
        ),
        (
            "SelfLink",
            json!({"type": "object", "required": ["self"],
            "properties": {"self": {"type": "string", "format": "uri"}}}),
        ),
        (
            "Resource",
            json!({"type": "object", "required": ["type", "id", "attributes", "meta", "links"],
            "properties": {"type": {"type": "string"}, "id": {"type": "string"},
                           "attributes": {"type": "object"},
                           "relationships": {"type": "object", "additionalProperties": schema_ref("Relationship")},
                           "meta": schema_ref("ResourceMeta"), "links": schema_ref("SelfLink")}}),
        ),
        (
            "ResourceDocument",
            json!({"type": "object", "required": ["data"],
            "properties": {"data": schema_ref("Resource"),
                           "included": {"type": "array", "items": schema_ref("Resource")},
                           "jsonapi": schema_ref("JsonApiVersion")}}),
        ),
        (
            "CollectionDocument",
            json!({"type": "object", "required": ["data", "links"],
            "properties": {"data": {"type": "array", "items": schema_ref("Resource")},
                           "included": {"type": "array", "items": schema_ref("Resource")},
                           "links": schema_ref("PageLinks"), "jsonapi": schema_ref("JsonApiVersion")}}),
        ),
        (
            "ResourceInput",
            json!({"type": "object", "required": ["type"],
            "properties": {"type": {"type": "string", "pattern": NAME_PATTERN},
                           "id": {"type": "string", "pattern": RECORD_ID_PATTERN},
                           "attributes": {"type": "object"},
                           "relationships": {"type": "object", "additionalProperties": {
                               "type": "object", "required": ["data"],
                               "properties": {"data": {"oneOf": [schema_ref("ResourceIdentifier"), {"type": "null"}]}}}}}}),
        ),
        (
            "ResourceRequest",
            json!({"type": "object", "required": ["data"], "properties": {"data": schema_ref("ResourceInput")}}),
        ),
        (
            "BulkMeta",
            json!({"type": "object", "properties": {"mode": {"type": "string", "enum": ["create", "upsert"], "default": "create",
                "description": "`upsert` updates the records whose `id` exists and creates the others."}}}),
        ),
        (
            "BulkRequest",
            json!({"type": "object", "required": ["data"],
            "properties": {"data": {"type": "array", "minItems": 1, "maxItems": MAX_BULK, "items": schema_ref("ResourceInput")},
                           "meta": schema_ref("BulkMeta")}}),
        ),
        (
            "BulkResult",
            json!({"type": "object", "required": ["index", "status"],
            "properties": {"index": {"type": "integer", "minimum": 0}, "status": {"type": "integer"},
                           "id": {"type": "string"},
                           "errors": {"type": "array", "items": schema_ref("JsonApiError")}}}),
        ),
        (
            "BulkResponseMeta",
            json!({"type": "object", "required": ["created", "updated", "failed", "results"],
            "properties": {"created": {"type": "integer", "minimum": 0}, "updated": {"type": "integer", "minimum": 0},
                           "failed": {"type": "integer", "minimum": 0},
                           "results": {"type": "array", "items": schema_ref("BulkResult")}}}),
        ),
        (
            "BulkResponse",
            json!({"type": "object", "required": ["data", "meta"],
            "properties": {"data": {"type": "array", "items": schema_ref("Resource")},
                           "meta": schema_ref("BulkResponseMeta"), "jsonapi": schema_ref("JsonApiVersion")}}),
        ),
    ]
}

fn page_params() -> Vec<Value> {
    vec![
        json!({"name": "page[size]", "in": "query", "required": false, "description": "Records per page.",
               "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}}),
        json!({"name": "page[after]", "in": "query", "required": false,
               "description": "The opaque cursor of `links.next`; a cursor this API did not return is refused with 400.",
               "schema": {"type": "string", "minLength": 1, "pattern": "^[A-Za-z0-9_-]+$"}}),
    ]
}

fn id_param() -> Value {
    json!({"name": "id", "in": "path", "required": true, "description": "The record's id.",
           "schema": {"type": "string", "pattern": RECORD_ID_PATTERN}})
}

const LIST_ERRORS: &[u16] = &[400, 401, 403, 404, 406, 429, 503];
const CREATE_ERRORS: &[u16] = &[400, 401, 403, 404, 406, 409, 413, 415, 422, 429, 503];
const READ_ERRORS: &[u16] = &[400, 401, 403, 404, 406, 429, 503];
const UPDATE_ERRORS: &[u16] = &[400, 401, 403, 404, 406, 409, 412, 413, 415, 422, 429, 503];
const DELETE_ERRORS: &[u16] = &[400, 401, 403, 404, 409, 412, 429, 503];
const BULK_ERRORS: &[u16] = &[400, 401, 403, 404, 406, 413, 415, 422, 429, 503];

/// Names of one entity's operations and schemas.
struct Names {
    tag: String,
    pascal: String,
    /// Stem of the collection operations (`listRecords` in the static document, `listContact` per entity).
    collection: String,
}

impl Names {
    fn op(&self, verb: &str) -> String {
        let stem = if matches!(verb, "list" | "bulk") { &self.collection } else { &self.pascal };
        format!("{verb}{stem}")
    }
    fn schema(&self, suffix: &str) -> Value {
        schema_ref(&format!("{}{suffix}", self.pascal))
    }
}

/// Everything a group of data operations needs to know about its entity.
struct Entity<'a> {
    names: Names,
    deprecated: bool,
    model: Option<&'a Model>,
    list_params: Vec<Value>,
    read_params: Vec<Value>,
    entity_param: Option<Value>,
}

fn ok_headers(deprecated: bool, extra: &[&'static str]) -> Vec<&'static str> {
    let mut h = extra.to_vec();
    if deprecated {
        h.extend(["Deprecation", "Sunset", "Link"]);
    }
    h
}

fn operations(e: &Entity) -> (Value, Value, Value) {
    let n = &e.names;
    let pick = |generic: &str, suffix: &str| if e.model.is_some() { n.schema(suffix) } else { schema_ref(generic) };
    let dep = e.deprecated;
    let with_entity = |op: Op| match &e.entity_param {
        Some(p) => op.param(p.clone()),
        None => op,
    };
    let link_params = || {
        if e.entity_param.is_some() {
            json!({"entity": "$request.path.entity", "id": "$response.body#/data/id"})
        } else {
            json!({"id": "$response.body#/data/id"})
        }
    };
    let example = e.model.and_then(create_example);

    let mut list = with_entity(Op::new(&n.op("list"), &n.tag, "List records")).deprecated(dep).description(
        "In id order (ids are time-ordered) unless `sort` says otherwise, in cursor pages: follow `links.next`.",
    );
    for p in &e.list_params {
        list = list.param(p.clone());
    }
    let list = list
        .ok(
            200,
            "A page of records.",
            Some((JSON_API, pick("CollectionDocument", "Collection"))),
            &ok_headers(dep, &[]),
        )
        .errors(J, LIST_ERRORS)
        .build();

    let mut create = with_entity(Op::new(&n.op("create"), &n.tag, "Create a record"))
        .deprecated(dep)
        .description("References are given as relationships. A client may supply its own `data.id`.")
        .param_ref("IdempotencyKey")
        .body(JSON_API, pick("ResourceRequest", "CreateRequest"), example, true)
        .ok(
            201,
            "The record, at version 1.",
            Some((JSON_API, pick("ResourceDocument", "Document"))),
            &ok_headers(dep, &["ETag", "Location", "Idempotent-Replayed"]),
        )
        .errors(J, CREATE_ERRORS);
    for (name, verb) in [("GetRecord", "get"), ("UpdateRecord", "update"), ("DeleteRecord", "delete")] {
        create = create.link(201, name, &n.op(verb), link_params());
    }
    let bulk = with_entity(Op::new(&n.op("bulk"), &n.tag, "Create or upsert up to 100 records"))
        .deprecated(dep)
        .description(
            "Each resource object succeeds or fails on its own; `meta.results` has one entry per input, in order.",
        )
        .param_ref("IdempotencyKey")
        .body(JSON_API, pick("BulkRequest", "BulkRequest"), None, true)
        .ok(
            200,
            "What happened to each resource object.",
            Some((JSON_API, pick("BulkResponse", "BulkResponse"))),
            &ok_headers(dep, &["Idempotent-Replayed"]),
        )
        .errors(J, BULK_ERRORS)
        .build();

    let mut get = with_entity(Op::new(&n.op("get"), &n.tag, "Read a record")).deprecated(dep).param(id_param());
    for p in &e.read_params {
        get = get.param(p.clone());
    }
    let one = || Some((JSON_API, pick("ResourceDocument", "Document")));
    let get = get.ok(200, "The record.", one(), &ok_headers(dep, &["ETag"])).errors(J, READ_ERRORS).build();
    let update = with_entity(Op::new(&n.op("update"), &n.tag, "Update a record"))
        .deprecated(dep)
        .description("Merges the given attributes and relationships; `null` clears an optional field. Without `If-Match`, a concurrent write makes the update re-apply itself on the new version.")
        .param(id_param())
        .param_ref("IfMatch")
        .param_ref("IdempotencyKey")
        .body(JSON_API, pick("ResourceRequest", "UpdateRequest"), None, true)
        .ok(200, "The record, at its new version.", one(), &ok_headers(dep, &["ETag", "Idempotent-Replayed"]))
        .errors(J, UPDATE_ERRORS)
        .build();
    let delete = with_entity(Op::new(&n.op("delete"), &n.tag, "Delete a record"))
        .deprecated(dep)
        .description("References to the record from other records are left as they are.")
        .param(id_param())
        .param_ref("IfMatch")
        .ok(204, "Deleted.", None, &ok_headers(dep, &[]))
        .errors(J, DELETE_ERRORS)
        .build();
    (
        json!({"get": list, "post": create.build()}),
        json!({"get": get, "patch": update, "delete": delete}),
        json!({"post": bulk}),
    )
}

/// `GET .../{id}/relationships/{field}`: the linkage of a to-one relationship. `fields` are the entity's reference
/// fields (`None`: any name, in the static document).
fn relationship_op(e: &Entity, fields: Option<Vec<String>>) -> Value {
    let n = &e.names;
    let field_schema = match fields {
        Some(names) => json!({"type": "string", "enum": names}),
        None => json!({"type": "string", "pattern": NAME_PATTERN}),
    };
    let linkage = json!({
        "type": "object",
        "required": ["data", "links"],
        "properties": {
            "data": {"oneOf": [
                {"type": "null"},
                {"type": "object", "required": ["type", "id"],
                 "properties": {"type": {"type": "string"}, "id": {"type": "string"}}}
            ]},
            "links": {"type": "object", "required": ["self"], "properties": {
                "self": {"type": "string", "format": "uri"},
                "related": {"type": "string", "format": "uri"}
            }},
            "jsonapi": {"type": "object"}
        }
    });
    let op = Op::new(&n.op("getRelationship"), &n.tag, "Read a relationship")
        .deprecated(e.deprecated)
        .description("The resource identifier a to-one relationship points to (`null` when unset), with links.");
    let op = match &e.entity_param {
        Some(p) => op.param(p.clone()),
        None => op,
    };
    op.param(id_param())
        .param(json!({"name": "field", "in": "path", "required": true, "description": "A reference field.",
                      "schema": field_schema}))
        .ok(200, "The relationship's linkage.", Some((JSON_API, linkage)), &ok_headers(e.deprecated, &[]))
        .errors(J, READ_ERRORS)
        .build()
}

/// `/v1/data/{entity}`, `/v1/data/{entity}/{id}`, `/v1/data/{entity}/_bulk` for any entity.
pub fn generic_paths() -> Map<String, Value> {
    let entity = json!({"name": "entity", "in": "path", "required": true, "description": "The model's name.",
                        "schema": {"type": "string", "pattern": NAME_PATTERN}});
    let query = |name: &str, d: &str| {
        json!({"name": name, "in": "query", "required": false, "description": d,
                                             "schema": {"type": "string"}})
    };
    let mut list_params = vec![
        query(
            "filter",
            "Filters, `filter[field]=value` or `filter[field][op]=value` with op one of eq, ne, gt, gte, lt, lte, in, contains, startsWith, isNull; fields are the model's fields plus id, created_at and updated_at. The tenant's document lists them per entity.",
        ),
        query("sort", "Comma-separated sort keys, `-` for descending, e.g. `-updated_at,name`."),
        query("fields", "Sparse fieldsets, `fields[type]=a,b`."),
        query("include", "Related records to include, e.g. `company,company.owner`."),
    ];
    list_params.extend(page_params());
    let e = Entity {
        names: Names { tag: "Records".into(), pascal: "Record".into(), collection: "Records".into() },
        deprecated: false,
        model: None,
        list_params,
        read_params: vec![
            query("fields", "Sparse fieldsets, `fields[type]=a,b`."),
            query("include", "Related records to include."),
        ],
        entity_param: Some(entity),
    };
    let (collection, single, bulk) = operations(&e);
    let mut p = Map::new();
    p.insert("/v1/data/{entity}".into(), collection);
    p.insert("/v1/data/{entity}/{id}".into(), single);
    p.insert("/v1/data/{entity}/_bulk".into(), bulk);
    p.insert("/v1/data/{entity}/{id}/relationships/{field}".into(), json!({"get": relationship_op(&e, None)}));
    p
}

/// PascalCase of a model name (`sales_order` → `SalesOrder`), the stem of its schema and operation names.
pub fn pascal(name: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Concrete paths and schemas for every model of a tenant.
pub fn tenant_paths(models: &[Model]) -> (Map<String, Value>, Map<String, Value>) {
    let stems = stems(models);
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for m in models {
        let stem = stems[&m.name].clone();
        let includes = include_paths(m, models);
        let mut list_params = fields::filter_params(m);
        list_params.push(json!({"name": "sort", "in": "query", "required": false,
            "description": "Comma-separated sort keys, `-` for descending (default: `id`).",
            "schema": {"type": "string", "pattern": fields::list_pattern(&fields::sort_keys(m), true)}}));
        let mut read_params = sparse_fieldsets(m, models, &includes);
        if !includes.is_empty() {
            read_params.push(json!({"name": "include", "in": "query", "required": false,
                "description": "Related records to include in `included` (relationship paths, comma-separated; at most 20 distinct).",
                "schema": {"type": "string", "pattern": fields::list_pattern(&includes, false)}}));
        }
        list_params.extend(read_params.iter().cloned());
        list_params.extend(page_params());
        let e = Entity {
            names: Names { tag: m.name.clone(), pascal: stem.clone(), collection: stem.clone() },
            deprecated: is_deprecated(m),
            model: Some(m),
            list_params,
            read_params,
            entity_param: None,
        };
        let (collection, single, bulk) = operations(&e);
        paths.insert(format!("/v1/data/{}", m.name), collection);
        paths.insert(format!("/v1/data/{}/{{id}}", m.name), single);
        paths.insert(format!("/v1/data/{}/_bulk", m.name), bulk);
        let references: Vec<String> = m.references().map(|(f, _)| f.name.clone()).collect();
        if !references.is_empty() {
            let op = relationship_op(&e, Some(references));
            paths.insert(format!("/v1/data/{}/{{id}}/relationships/{{field}}", m.name), json!({"get": op}));
        }
        let included: Vec<Value> =
            included_types(m, models, &includes).iter().map(|t| schema_ref(&format!("{}Resource", stems[t]))).collect();
        entity_schemas(m, &stem, &included, &mut schemas);
    }
    (paths, schemas)
}

pub fn is_deprecated(m: &Model) -> bool {
    m.deprecation.is_some()
}

/// Schema stems per model, unique even when two names PascalCase alike (`a_b` and `a__b`).
fn stems(models: &[Model]) -> std::collections::HashMap<String, String> {
    let mut count = std::collections::HashMap::new();
    for m in models {
        *count.entry(pascal(&m.name)).or_insert(0) += 1;
    }
    models
        .iter()
        .map(|m| {
            let p = pascal(&m.name);
            let stem = if count[&p] > 1 { format!("{p}_{}", m.name) } else { p };
            (m.name.clone(), stem)
        })
        .collect()
}

/// Relationship paths a collection can include: direct references and their references (two levels).
fn include_paths(m: &Model, models: &[Model]) -> Vec<String> {
    let mut out = Vec::new();
    for (f, target) in m.references() {
        out.push(f.name.clone());
        if let Some(t) = models.iter().find(|x| x.name == target) {
            out.extend(t.references().map(|(g, _)| format!("{}.{}", f.name, g.name)));
        }
    }
    out
}

/// The entity names reachable through `includes`, in model order.
fn included_types(m: &Model, models: &[Model], includes: &[String]) -> Vec<String> {
    let target_of = |model: &str, field: &str| {
        models.iter().find(|x| x.name == model).and_then(|x| x.field(field)).and_then(|f| f.target.clone())
    };
    let mut types = Vec::new();
    for path in includes {
        let mut at = m.name.clone();
        for step in path.split('.') {
            match target_of(&at, step) {
                Some(t) => at = t,
                None => break,
            }
            if !types.contains(&at) && models.iter().any(|x| x.name == at) {
                types.push(at.clone());
            }
        }
    }
    types
}

fn sparse_fieldsets(m: &Model, models: &[Model], includes: &[String]) -> Vec<Value> {
    let mut types = vec![m.name.clone()];
    types.extend(included_types(m, models, includes).into_iter().filter(|t| *t != m.name));
    types
        .iter()
        .filter_map(|t| models.iter().find(|x| &x.name == t))
        .map(|x| {
            let names: Vec<String> = x.fields.iter().map(|f| f.name.clone()).collect();
            json!({"name": format!("fields[{}]", x.name), "in": "query", "required": false,
                   "description": format!("Only these attributes and relationships of `{}` resources.", x.name),
                   "schema": {"type": "string", "pattern": fields::list_pattern_or_empty(&names)}})
        })
        .collect()
}

fn relationships_schema(m: &Model, request: bool, for_create: bool) -> Option<Value> {
    let mut props = Map::new();
    let mut required = Vec::new();
    for (f, target) in m.references() {
        if f.field_type != FieldType::Reference {
            continue;
        }
        let identifier = json!({"type": "object", "required": ["type", "id"],
            "properties": {"type": {"type": "string", "const": target},
                           "id": {"type": "string", "pattern": RECORD_ID_PATTERN}}});
        let data = if f.required { identifier } else { json!({"oneOf": [identifier, {"type": "null"}]}) };
        let mut rel = json!({"type": "object", "required": ["data"], "properties": {"data": data}});
        if !request {
            rel["properties"]["links"] =
                json!({"type": "object", "properties": {"related": {"type": "string", "format": "uri"}}});
        }
        if let Some(d) = &f.description {
            rel["description"] = json!(d);
        }
        props.insert(f.name.clone(), rel);
        if for_create && f.required {
            required.push(f.name.clone());
        }
    }
    if props.is_empty() {
        return None;
    }
    let mut s = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        s["required"] = json!(required);
    }
    if request {
        s["additionalProperties"] = json!(false);
    }
    Some(s)
}

fn entity_schemas(m: &Model, stem: &str, included: &[Value], out: &mut Map<String, Value>) {
    let put = |out: &mut Map<String, Value>, suffix: &str, v: Value| {
        out.insert(format!("{stem}{suffix}"), v);
    };
    let r = |suffix: &str| schema_ref(&format!("{stem}{suffix}"));
    let mut attrs = fields::attributes_schema(m, false, false);
    attrs["description"] = json!(format!(
        "Attributes of `{}` records. Responses carry every field (null when unset) unless a sparse fieldset is asked for.",
        m.name
    ));
    put(out, "Attributes", attrs);
    put(out, "CreateAttributes", fields::attributes_schema(m, true, true));
    put(out, "UpdateAttributes", fields::attributes_schema(m, false, true));
    let rels = relationships_schema(m, false, false);
    let has_rels = rels.is_some();
    if let Some(s) = rels {
        put(out, "Relationships", s);
        put(out, "CreateRelationships", relationships_schema(m, true, true).expect("has references"));
        put(out, "UpdateRelationships", relationships_schema(m, true, false).expect("has references"));
    }
    let mut resource = json!({"type": "object", "required": ["type", "id", "attributes", "meta", "links"],
        "properties": {"type": {"type": "string", "const": m.name}, "id": {"type": "string"},
                       "attributes": r("Attributes"), "meta": schema_ref("ResourceMeta"),
                       "links": schema_ref("SelfLink")}});
    if let Some(d) = &m.description {
        resource["description"] = json!(d);
    }
    resource["title"] = json!(m.label);
    if has_rels {
        resource["properties"]["relationships"] = r("Relationships");
    }
    put(out, "Resource", resource);
    let included_schema = (!included.is_empty()).then(|| json!({"type": "array", "items": {"anyOf": included}}));
    let mut document = json!({"type": "object", "required": ["data"],
        "properties": {"data": r("Resource"), "jsonapi": schema_ref("JsonApiVersion")}});
    let mut collection = json!({"type": "object", "required": ["data", "links"],
        "properties": {"data": {"type": "array", "items": r("Resource")}, "links": schema_ref("PageLinks"),
                       "jsonapi": schema_ref("JsonApiVersion")}});
    if let Some(inc) = included_schema {
        document["properties"]["included"] = inc.clone();
        collection["properties"]["included"] = inc;
    }
    put(out, "Document", document);
    put(out, "Collection", collection);

    let create_attrs_required = fields::attributes_schema(m, true, true).get("required").is_some();
    let create_rels_required = relationships_schema(m, true, true).is_some_and(|s| s.get("required").is_some());
    let mut create = json!({"type": "object", "required": ["type"],
        "properties": {"type": {"type": "string", "const": m.name},
                       "id": {"type": "string", "pattern": RECORD_ID_PATTERN,
                              "description": "Optional: the client's own id (else a ULID is generated)."},
                       "attributes": r("CreateAttributes")}});
    let mut update = json!({"type": "object", "required": ["type", "id"],
        "properties": {"type": {"type": "string", "const": m.name},
                       "id": {"type": "string", "pattern": RECORD_ID_PATTERN, "description": "Must equal the URL's id."},
                       "attributes": r("UpdateAttributes")}});
    if has_rels {
        create["properties"]["relationships"] = r("CreateRelationships");
        update["properties"]["relationships"] = r("UpdateRelationships");
    }
    let required = create["required"].as_array_mut().expect("array");
    if create_attrs_required {
        required.push(json!("attributes"));
    }
    if create_rels_required {
        required.push(json!("relationships"));
    }
    put(out, "CreateResource", create);
    put(
        out,
        "CreateRequest",
        json!({"type": "object", "required": ["data"], "properties": {"data": r("CreateResource")}}),
    );
    put(out, "UpdateRequest", json!({"type": "object", "required": ["data"], "properties": {"data": update}}));
    put(
        out,
        "BulkRequest",
        // Items are checked one by one and fail alone (see `meta.results`), so their attributes are not constrained
        // here: an upsert may send a partial record, and a bad item is a 422 in its result, not a rejected request.
        json!({"type": "object", "required": ["data"],
               "properties": {"data": {"type": "array", "minItems": 1, "maxItems": MAX_BULK, "items": {
                   "description": "A resource object of this entity (`type`, `id`, `attributes`, `relationships`); \
                                   validated on its own, so anything here gets a result of its own."}},
                              "meta": schema_ref("BulkMeta")}}),
    );
    put(
        out,
        "BulkResponse",
        json!({"type": "object", "required": ["data", "meta"],
               "properties": {"data": {"type": "array", "items": r("Resource")},
                              "meta": schema_ref("BulkResponseMeta"), "jsonapi": schema_ref("JsonApiVersion")}}),
    );
}

/// A create request for the model, when every required field can be given an example value.
fn create_example(m: &Model) -> Option<Value> {
    let mut attributes = Map::new();
    let mut relationships = Map::new();
    for f in &m.fields {
        let value = fields::example(f);
        if value.is_none() && f.required {
            return None;
        }
        if f.unique && !f.required {
            continue;
        }
        match (f.field_type, value, f.target.as_deref()) {
            (FieldType::Reference, Some(Value::String(id)), Some(target)) if f.required => {
                relationships.insert(f.name.clone(), json!({"data": {"type": target, "id": id}}));
            }
            (FieldType::Reference, ..) => {}
            (_, Some(v), _) => {
                attributes.insert(f.name.clone(), v);
            }
            _ => {}
        }
    }
    let mut data = json!({"type": m.name, "attributes": attributes});
    if !relationships.is_empty() {
        data["relationships"] = Value::Object(relationships);
    }
    Some(json!({"data": data}))
}
