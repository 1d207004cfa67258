//! Request documents: a JSON:API resource object flattened into attributes (relationship ids included), with
//! every error pointing at where the client put the offending member.

use hw_domain::FieldError;
use hw_domain::model::{FieldType, Model};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::http::{JSON, JSON_API, Request};
use crate::{Deps, body};

/// A resource object, flattened: attributes and relationship ids in one map, remembering where each came from.
pub struct Document {
    pub id: Option<String>,
    pub attributes: Map<String, Value>,
    pub from_relationships: Vec<String>,
    /// Where the resource object sits in the body: `/data`, or `/data/3` in a bulk request.
    pub at: String,
}

impl Document {
    pub fn pointer(&self, field: &str) -> String {
        if self.from_relationships.iter().any(|f| f == field) {
            format!("{}/relationships/{field}", self.at)
        } else {
            format!("{}/attributes/{field}", self.at)
        }
    }
}

pub fn document_error(status: u16, pointer: &str, code: &'static str, detail: impl Into<String>) -> ApiError {
    let title = if status == 409 { "Conflict" } else { "Invalid document" };
    ApiError::new(
        status,
        if status == 409 { "conflict" } else { "invalid-document" },
        title,
        "the request document is not a valid JSON:API resource document",
    )
    .with_fields(vec![FieldError::new(pointer, code, detail)])
}

/// The body's `data` resource object.
pub fn parse_document(deps: &Deps, req: &Request, model: &Model, url_id: Option<&str>) -> Result<Document, ApiError> {
    let value = body::json(deps, req, &[JSON_API, JSON])?;
    let Some(data) = value.get("data").filter(|d| d.is_object()) else {
        return Err(document_error(
            400,
            "/data",
            "missing-data",
            "the body must be an object with a `data` resource object",
        ));
    };
    parse_resource(model, data, "/data", url_id)
}

/// One resource object found at `at` in the body.
pub fn parse_resource(model: &Model, data: &Value, at: &str, url_id: Option<&str>) -> Result<Document, ApiError> {
    let Some(data) = data.as_object() else {
        return Err(document_error(400, at, "invalid-resource", "a resource object must be a JSON object"));
    };
    let ptr = |member: &str| format!("{at}/{member}");
    match data.get("type").and_then(Value::as_str) {
        None => {
            return Err(document_error(
                400,
                &ptr("type"),
                "missing-type",
                format!("`type` is required and must be `{}`", model.name),
            ));
        }
        Some(t) if t != model.name => {
            return Err(document_error(
                409,
                &ptr("type"),
                "type-mismatch",
                format!("`type` is `{t}` but this endpoint holds `{}`", model.name),
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
                &ptr("id"),
                "id-mismatch",
                format!("`id` is `{id}` but the URL names `{url}`"),
            ));
        }
        (None, Some(_)) => {
            return Err(document_error(400, &ptr("id"), "missing-id", "`id` is required when updating"));
        }
        (Some(_), _) => {
            return Err(document_error(400, &ptr("id"), "invalid-id", "`id` must be a string"));
        }
    };
    let mut attributes = match data.get("attributes") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(document_error(
                400,
                &ptr("attributes"),
                "invalid-attributes",
                "`attributes` must be an object",
            ));
        }
    };
    let mut from_relationships = Vec::new();
    let mut errors = Vec::new();
    match data.get("relationships") {
        None => {}
        Some(Value::Object(rels)) => {
            for (name, rel) in rels {
                let at = ptr(&format!("relationships/{name}"));
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
            ptr("relationships"),
            "invalid-relationships",
            "`relationships` must be an object",
        )),
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    Ok(Document { id, attributes, from_relationships, at: at.to_owned() })
}
