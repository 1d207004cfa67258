//! `/v1/data/{entity}[/{id}]`: records as JSON:API 1.1 documents.

use base64::Engine as _;
use hw_domain::FieldError;
use hw_domain::model::{FieldType, Model};
use hw_domain::record::Record;
use serde_json::{Map, Value, json};

use hw_domain::principal::Principal;

use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON, JSON_API, Request, Response};
use crate::{Deps, body, method_not_allowed};

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 200;

pub async fn route(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    use http::Method as M;
    let read = |entity: &str| require(p, &format!("data:read:{entity}"));
    let write = |entity: &str| require(p, &format!("data:write:{entity}"));
    match (rest, &req.method) {
        ([entity], &M::GET) => {
            read(entity)?;
            let (size, after) = page_params(req)?;
            let model = deps.records.model(&p.tenant, entity).await?;
            let (records, next) = deps.records.list(p, &model, size, after.as_deref()).await?;
            let data: Vec<Value> = records.iter().map(|r| resource(&req.base_url, &model, r)).collect();
            let self_link = format!("{}/v1/data/{entity}", req.base_url);
            let mut links = json!({"self": self_link});
            if let Some(next) = next {
                let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(next);
                links["next"] = json!(format!("{self_link}?page%5Bsize%5D={size}&page%5Bafter%5D={cursor}"));
            }
            Ok(document(200, json!({"data": data, "links": links})))
        }
        ([entity], &M::POST) => {
            write(entity)?;
            let model = deps.records.model(&p.tenant, entity).await?;
            let doc = parse_document(deps, req, &model, None)?;
            let record = deps.records.create(p, &model, doc.id.clone(), &doc.attributes, &|f| doc.pointer(f)).await?;
            let location = format!("{}/v1/data/{entity}/{}", req.base_url, record.id);
            Ok(single(201, &req.base_url, &model, &record).header("location", location))
        }
        ([_], _) => Err(method_not_allowed(req, "GET, POST")),
        ([entity, id], &M::GET) => {
            read(entity)?;
            let model = deps.records.model(&p.tenant, entity).await?;
            let record = deps.records.get(p, &model, id).await?;
            Ok(single(200, &req.base_url, &model, &record))
        }
        ([entity, id], &M::PATCH) => {
            write(entity)?;
            let if_match = req.if_match()?;
            let model = deps.records.model(&p.tenant, entity).await?;
            let doc = parse_document(deps, req, &model, Some(id))?;
            let record = deps.records.update(p, &model, id, &doc.attributes, if_match, &|f| doc.pointer(f)).await?;
            Ok(single(200, &req.base_url, &model, &record))
        }
        ([entity, id], &M::DELETE) => {
            write(entity)?;
            let model = deps.records.model(&p.tenant, entity).await?;
            deps.records.delete(p, &model, id, req.if_match()?).await?;
            Ok(Response::new(204))
        }
        ([_, _], _) => Err(method_not_allowed(req, "GET, PATCH, DELETE")),
        _ => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    }
}

fn page_params(req: &Request) -> Result<(usize, Option<String>), ApiError> {
    for (k, _) in &req.query {
        if k != "page[size]" && k != "page[after]" {
            return Err(ApiError::new(
                400,
                "unsupported-parameter",
                "Unsupported query parameter",
                format!("`{k}` is not a query parameter of this endpoint"),
            )
            .with_parameter(k));
        }
    }
    let size = match req.query_param("page[size]") {
        None => DEFAULT_PAGE_SIZE,
        Some(s) => s.parse::<usize>().ok().filter(|n| (1..=MAX_PAGE_SIZE).contains(n)).ok_or_else(|| {
            ApiError::new(
                400,
                "invalid-parameter",
                "Invalid query parameter",
                format!("page[size] must be a whole number from 1 to {MAX_PAGE_SIZE}"),
            )
            .with_parameter("page[size]")
        })?,
    };
    let after = match req.query_param("page[after]") {
        None => None,
        Some(c) => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|id| hw_domain::ids::is_valid_record_id(id))
                .ok_or_else(|| {
                    ApiError::new(
                        400,
                        "invalid-parameter",
                        "Invalid query parameter",
                        "page[after] is not a cursor this API returned",
                    )
                    .with_parameter("page[after]")
                })?,
        ),
    };
    Ok((size, after))
}

/// A request document, flattened: attributes and relationship ids in one map, remembering where each came from.
struct Document {
    id: Option<String>,
    attributes: Map<String, Value>,
    from_relationships: Vec<String>,
}

impl Document {
    fn pointer(&self, field: &str) -> String {
        if self.from_relationships.iter().any(|f| f == field) {
            format!("/data/relationships/{field}")
        } else {
            format!("/data/attributes/{field}")
        }
    }
}

fn document_error(status: u16, pointer: &str, code: &'static str, detail: impl Into<String>) -> ApiError {
    let title = if status == 409 { "Conflict" } else { "Invalid document" };
    ApiError::new(
        status,
        if status == 409 { "conflict" } else { "invalid-document" },
        title,
        "the request document is not a valid JSON:API resource document",
    )
    .with_fields(vec![FieldError::new(pointer, code, detail)])
}

fn parse_document(deps: &Deps, req: &Request, model: &Model, url_id: Option<&str>) -> Result<Document, ApiError> {
    let value = body::json(deps, req, &[JSON_API, JSON])?;
    let Some(data) = value.get("data").and_then(Value::as_object) else {
        return Err(document_error(
            400,
            "/data",
            "missing-data",
            "the body must be an object with a `data` resource object",
        ));
    };
    match data.get("type").and_then(Value::as_str) {
        None => {
            return Err(document_error(
                400,
                "/data/type",
                "missing-type",
                format!("`data.type` is required and must be `{}`", model.name),
            ));
        }
        Some(t) if t != model.name => {
            return Err(document_error(
                409,
                "/data/type",
                "type-mismatch",
                format!("`data.type` is `{t}` but this endpoint holds `{}`", model.name),
            ));
        }
        Some(_) => {}
    }
    let id = match (data.get("id"), url_id) {
        (None, None) => None,
        (Some(Value::String(id)), None) => Some(id.clone()),
        (Some(Value::String(id)), Some(url)) if id == url => Some(id.clone()),
        (Some(Value::String(id)), Some(url)) => {
            return Err(document_error(
                409,
                "/data/id",
                "id-mismatch",
                format!("`data.id` is `{id}` but the URL names `{url}`"),
            ));
        }
        (None, Some(_)) => {
            return Err(document_error(400, "/data/id", "missing-id", "`data.id` is required when updating"));
        }
        (Some(_), _) => {
            return Err(document_error(400, "/data/id", "invalid-id", "`data.id` must be a string"));
        }
    };
    let mut attributes = match data.get("attributes") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(document_error(
                400,
                "/data/attributes",
                "invalid-attributes",
                "`data.attributes` must be an object",
            ));
        }
    };
    let mut from_relationships = Vec::new();
    let mut errors = Vec::new();
    match data.get("relationships") {
        None => {}
        Some(Value::Object(rels)) => {
            for (name, rel) in rels {
                let at = format!("/data/relationships/{name}");
                let target = model
                    .field(name)
                    .filter(|f| f.field_type == FieldType::Reference)
                    .and_then(|f| f.target.as_deref());
                let Some(target) = target else {
                    errors.push(FieldError::new(
                        at,
                        "unknown-relationship",
                        format!("`{name}` is not a relationship of `{}`", model.name),
                    ));
                    continue;
                };
                match rel.get("data") {
                    Some(Value::Null) => {
                        attributes.insert(name.clone(), Value::Null);
                    }
                    Some(Value::Object(linkage)) => {
                        if linkage.get("type").and_then(Value::as_str) != Some(target) {
                            errors.push(FieldError::new(
                                format!("{at}/data/type"),
                                "type-mismatch",
                                format!("`{name}` points to `{target}` records"),
                            ));
                            continue;
                        }
                        let Some(id) = linkage.get("id").and_then(Value::as_str) else {
                            errors.push(FieldError::new(
                                format!("{at}/data/id"),
                                "missing-id",
                                "a resource identifier needs a string `id`",
                            ));
                            continue;
                        };
                        attributes.insert(name.clone(), Value::String(id.to_owned()));
                    }
                    _ => {
                        errors.push(FieldError::new(
                            at,
                            "invalid-relationship",
                            "a to-one relationship needs `data`: a resource identifier or null",
                        ));
                        continue;
                    }
                }
                from_relationships.push(name.clone());
            }
        }
        Some(_) => errors.push(FieldError::new(
            "/data/relationships",
            "invalid-relationships",
            "`data.relationships` must be an object",
        )),
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    Ok(Document { id, attributes, from_relationships })
}

/// A record as a JSON:API resource object: references become relationships with links.
pub fn resource(base: &str, model: &Model, r: &Record) -> Value {
    let mut attributes = Map::new();
    let mut relationships = Map::new();
    for field in &model.fields {
        let value = r.attributes.get(&field.name).cloned().unwrap_or(Value::Null);
        match (&field.field_type, field.target.as_deref()) {
            (FieldType::Reference, Some(target)) => {
                let data = value.as_str().map(|id| json!({"type": target, "id": id})).unwrap_or(Value::Null);
                let mut rel = json!({"data": data});
                if let Some(id) = value.as_str() {
                    rel["links"] = json!({"related": format!("{base}/v1/data/{target}/{id}")});
                }
                relationships.insert(field.name.clone(), rel);
            }
            _ => {
                attributes.insert(field.name.clone(), value);
            }
        }
    }
    let mut out = json!({
        "type": r.entity,
        "id": r.id,
        "attributes": attributes,
        "meta": {
            "version": r.version,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "created_by": r.created_by,
            "updated_by": r.updated_by,
        },
        "links": {"self": format!("{base}/v1/data/{}/{}", r.entity, r.id)},
    });
    if !relationships.is_empty() {
        out["relationships"] = Value::Object(relationships);
    }
    out
}

fn document(status: u16, mut body: Value) -> Response {
    body["jsonapi"] = json!({"version": "1.1"});
    Response::json(status, JSON_API, &body)
}

fn single(status: u16, base: &str, model: &Model, r: &Record) -> Response {
    document(status, json!({"data": resource(base, model, r)})).header("etag", format!("\"{}\"", r.version))
}
