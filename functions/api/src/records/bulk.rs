//! `POST /v1/data/{entity}/_bulk`: up to 100 creates or upserts in one request. Not atomic: each item goes through
//! the single-record path (validation, unique claims, references, its own event) and succeeds or fails on its own.

use futures::StreamExt as _;
use hw_domain::FieldError;
use hw_domain::model::Model;
use hw_domain::principal::Principal;
use hw_domain::record::Record;
use hw_store::records::RecordError;
use serde_json::{Value, json};

use super::document::{document_error, parse_resource};
use super::render::{document, resource};
use crate::error::ApiError;
use crate::http::{JSON, JSON_API, Request, Response};
use crate::{Deps, body};

/// Most items in one bulk request.
pub const MAX_ITEMS: usize = 100;
/// Items written at the same time.
const CONCURRENCY: usize = 8;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Create,
    Upsert,
}

/// What became of one item.
enum Outcome {
    Created(Record),
    Updated(Record),
    Failed { id: Option<String>, error: ApiError },
}

pub async fn post(deps: &Deps, req: &Request, p: &Principal, model: &Model) -> Result<Response, ApiError> {
    let body = body::json(deps, req, &[JSON_API, JSON])?;
    let items = match body.get("data") {
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(document_error(
                400,
                "/data",
                "invalid-data",
                "`data` of a bulk request is an array of resource objects",
            ));
        }
        None => {
            return Err(document_error(400, "/data", "missing-data", "the body must be an object with a `data` array"));
        }
    };
    if items.is_empty() {
        return Err(document_error(422, "/data", "empty-data", "`data` needs at least one resource object"));
    }
    if items.len() > MAX_ITEMS {
        return Err(document_error(
            422,
            "/data",
            "too-many-items",
            format!("a bulk request holds at most {MAX_ITEMS} resource objects; this one has {}", items.len()),
        ));
    }
    let mode = match body.get("meta") {
        None | Some(Value::Null) => Mode::Create,
        Some(Value::Object(meta)) => match meta.get("mode") {
            None => Mode::Create,
            Some(m) if m == "create" => Mode::Create,
            Some(m) if m == "upsert" => Mode::Upsert,
            Some(_) => {
                return Err(document_error(400, "/meta/mode", "invalid-mode", "`meta.mode` is `create` or `upsert`"));
            }
        },
        Some(_) => return Err(document_error(400, "/meta", "invalid-meta", "`meta` must be an object")),
    };
    // The futures are made up front (a closure inside the stream would hide their lifetimes from the `Send` check
    // the Lambda runtime needs) and polled at most CONCURRENCY at a time, results kept in input order.
    let pending: Vec<_> = items.iter().enumerate().map(|(i, item)| one(deps, p, model, i, item, mode)).collect();
    let outcomes: Vec<Outcome> = futures::stream::iter(pending).buffered(CONCURRENCY).collect().await;

    let (mut created, mut updated, mut failed) = (0, 0, 0);
    let mut data = Vec::new();
    let mut results = Vec::new();
    for (index, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Outcome::Created(r) => {
                created += 1;
                results.push(json!({"index": index, "status": 201, "id": r.id}));
                data.push(resource(&req.base_url, model, &r, None));
            }
            Outcome::Updated(r) => {
                updated += 1;
                results.push(json!({"index": index, "status": 200, "id": r.id}));
                data.push(resource(&req.base_url, model, &r, None));
            }
            Outcome::Failed { id, error } => {
                failed += 1;
                let at = format!("/data/{index}");
                let errors: Vec<Value> = error
                    .error_objects(&req.request_id)
                    .into_iter()
                    .map(|mut e| {
                        if e.get("source").is_none() {
                            e["source"] = json!({"pointer": at});
                        }
                        e
                    })
                    .collect();
                let mut result = json!({"index": index, "status": error.problem.status, "errors": errors});
                if let Some(id) = id {
                    result["id"] = json!(id);
                }
                results.push(result);
            }
        }
    }
    Ok(document(
        200,
        json!({
            "data": data,
            "meta": {"created": created, "updated": updated, "failed": failed, "results": results},
        }),
    ))
}

async fn one(deps: &Deps, p: &Principal, model: &Model, i: usize, item: &Value, mode: Mode) -> Outcome {
    let at = format!("/data/{i}");
    let given_id = item.get("id").and_then(Value::as_str).map(str::to_owned);
    let failed = |error: ApiError| Outcome::Failed { id: given_id.clone(), error };
    let doc = match parse_resource(model, item, &at, None) {
        Ok(doc) => doc,
        Err(e) => return failed(e),
    };
    if let Some(id) = &doc.id
        && !hw_domain::ids::is_valid_record_id(id)
    {
        return failed(ApiError::invalid(vec![FieldError::new(
            format!("{at}/id"),
            "invalid-id",
            "ids are 1 to 64 letters, digits, `_`, `.` or `-`, starting with a letter or digit",
        )]));
    }
    let pointer = |f: &str| doc.pointer(f);
    match (mode, &doc.id) {
        (Mode::Create, id) => match deps.records.create(p, model, id.clone(), &doc.attributes, &pointer).await {
            Ok(r) => Outcome::Created(r),
            Err(e) => failed(e.into()),
        },
        (Mode::Upsert, None) => failed(ApiError::invalid(vec![FieldError::new(
            format!("{at}/id"),
            "missing-id",
            "an upsert needs the `id` of every resource object",
        )])),
        (Mode::Upsert, Some(id)) => {
            // Update if it exists, else create; a create that loses a race to another creator updates instead.
            for _ in 0..2 {
                match deps.records.update(p, model, id, &doc.attributes, None, &pointer).await {
                    Ok(r) => return Outcome::Updated(r),
                    Err(RecordError::NotFound { .. }) => {}
                    Err(e) => return failed(e.into()),
                }
                match deps.records.create(p, model, Some(id.clone()), &doc.attributes, &pointer).await {
                    Ok(r) => return Outcome::Created(r),
                    Err(RecordError::AlreadyExists { .. }) => continue,
                    Err(e) => return failed(e.into()),
                }
            }
            failed(RecordError::Busy.into())
        }
    }
}
