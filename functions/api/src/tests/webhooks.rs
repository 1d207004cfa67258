//! The webhook routes on in-memory adapters and a scripted receiver. Every answer is checked against the static
//! OpenAPI document: its status must be documented for the operation, and its body must match the schema.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use hw_store::ops::OpsStore;
use hw_store::ops::memory::MemoryOpsStore;
use hw_webhooks::delivery::{Delivery, DeliveryStatus, id_floor};
use hw_webhooks::dispatch::{Transport, secret_context};
use hw_webhooks::memory::{MemoryJobQueue, MemoryWebhookStore};
use hw_webhooks::ports::WebhookStore;
use hw_webhooks::sender::{OutboundRequest, Response};
use hw_webhooks::signing;
use serde_json::{Value, json};

use super::{body, build, fixture, header};
use crate::{Deps, WebhookPorts, handle};

/// A receiver that answers from a script (200 once the script is empty) and remembers every request.
#[derive(Default)]
struct Receiver {
    answers: Mutex<VecDeque<u16>>,
    requests: Mutex<Vec<OutboundRequest>>,
}

#[async_trait]
impl Transport for Receiver {
    async fn send(&self, request: &OutboundRequest) -> Response {
        self.requests.lock().unwrap().push(request.clone());
        let status = self.answers.lock().unwrap().pop_front().unwrap_or(200);
        Response { status: Some(status), body: Some("thanks".into()), ..Response::default() }
    }
}

struct World {
    deps: Deps,
    store: Arc<MemoryWebhookStore>,
    queue: Arc<MemoryJobQueue>,
    receiver: Arc<Receiver>,
    ops: Arc<MemoryOpsStore>,
}

async fn world_with(scopes: &[&str], local_mode: bool) -> World {
    let store = Arc::new(MemoryWebhookStore::default());
    let queue = Arc::new(MemoryJobQueue::default());
    let receiver = Arc::new(Receiver::default());
    let ops = Arc::new(MemoryOpsStore::default());
    let mut config = hw_resources::Config::for_prefix("test");
    config.local_mode = local_mode;
    let ports = WebhookPorts { store: store.clone(), queue: queue.clone(), transport: receiver.clone() };
    let (deps, _) = build(scopes, ops.clone(), config, ports).await;
    World { deps, store, queue, receiver, ops }
}

/// An admin in local mode (receivers on loopback are fine).
async fn world() -> World {
    world_with(&["admin"], true).await
}

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(crate::openapi::static_document)
}

/// A validator of the schema at `pointer` in the document, compiled once.
fn validator(pointer: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(pointer) {
        return v.clone();
    }
    let mut root = document().clone();
    // A URI fragment: the braces of path templates are percent-encoded.
    root["$ref"] = json!(format!("#{}", pointer.replace('{', "%7B").replace('}', "%7D")));
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .expect("the document's schemas compile");
    let v = Arc::new(v);
    cache.lock().unwrap().insert(pointer.to_owned(), v.clone());
    v
}

/// Where the static document describes this answer: the response object of the operation.
fn documented(method: &str, path: &str, status: u16) -> (String, Value) {
    let doc = document();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (template, item) = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(t, _)| {
            let ts: Vec<&str> = t.split('/').filter(|s| !s.is_empty()).collect();
            ts.len() == segs.len() && ts.iter().zip(&segs).all(|(t, s)| t.starts_with('{') || t == s)
        })
        .unwrap_or_else(|| panic!("{path} is not in the document"));
    let op = &item[method.to_lowercase()];
    assert!(op.is_object(), "{method} {template} is not in the document");
    let response = &op["responses"][status.to_string()];
    assert!(response.is_object(), "{method} {template} answered {status}, which the document does not list");
    let pointer = match response["$ref"].as_str() {
        Some(r) => r.trim_start_matches('#').to_owned(),
        None => format!(
            "/paths/{}/{}/responses/{status}",
            template.replace('~', "~0").replace('/', "~1"),
            method.to_lowercase()
        ),
    };
    let response = doc.pointer(&pointer).unwrap().clone();
    (pointer, response)
}

/// Fails unless the answer is one the document allows for `method path`.
pub(super) fn assert_conforms(method: &str, path: &str, r: &ApiGatewayV2httpResponse) {
    let status = r.status_code as u16;
    let (pointer, response) = documented(method, path, status);
    let Some(content) = response["content"].as_object() else {
        assert!(r.body.is_none(), "{method} {path} {status} has a body the document does not describe");
        return;
    };
    let media = header(r, "content-type");
    let (media_key, _) =
        content.iter().find(|(m, _)| *m == media).unwrap_or_else(|| panic!("{method} {path}: `{media}` undocumented"));
    let validator = validator(&format!("{pointer}/content/{}/schema", media_key.replace('~', "~0").replace('/', "~1")));
    let instance = body(r);
    let errors: Vec<String> =
        validator.iter_errors(&instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{method} {path} {status} does not match the document: {errors:?}\n{instance}");
}

/// Sends a request as the fixture key and checks the answer against the document.
async fn call(
    w: &World,
    method: &str,
    path_and_query: &str,
    json_body: Option<Value>,
) -> (u16, Value, ApiGatewayV2httpResponse) {
    let r = raw(w, method, path_and_query, json_body, &[]).await;
    let path = path_and_query.split('?').next().unwrap();
    assert_conforms(method, path, &r);
    let v = if r.body.is_some() { body(&r) } else { Value::Null };
    (r.status_code as u16, v, r)
}

async fn raw(
    w: &World,
    method: &str,
    path_and_query: &str,
    json_body: Option<Value>,
    headers: &[(&'static str, &str)],
) -> ApiGatewayV2httpResponse {
    let mut e = fixture("list-records");
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    e.raw_path = Some(path.to_owned());
    e.request_context.http.path = Some(path.to_owned());
    e.raw_query_string = Some(query.to_owned());
    e.request_context.http.method = method.parse().unwrap();
    // one id per request, as API Gateway gives (the audit trail is keyed by it)
    e.request_context.request_id = Some(hw_domain::ids::new_id());
    if let Some(b) = json_body {
        e.body = Some(b.to_string());
        e.headers.insert("content-type", "application/json".parse().unwrap());
    }
    for (k, v) in headers {
        e.headers.insert(*k, v.parse().unwrap());
    }
    handle(&w.deps, e).await
}

fn pointers(problem: &Value) -> Vec<&str> {
    problem["errors"].as_array().map_or(vec![], |a| a.iter().map(|e| e["pointer"].as_str().unwrap()).collect())
}

/// Creates an endpoint on a loopback receiver (local mode) and answers its id and secret.
async fn create(w: &World, extra: Value) -> (String, String) {
    let mut b = json!({"url": "http://127.0.0.1:9/hook", "event_types": ["record.*"]});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    let (status, v, _) = call(w, "POST", "/v1/webhooks", Some(b)).await;
    assert_eq!(status, 201, "{v}");
    (v["id"].as_str().unwrap().to_owned(), v["secret"].as_str().unwrap().to_owned())
}

/// A finished delivery of an event at `minute` past 2026-11-25T10:00Z, stored directly.
async fn seed_delivery(w: &World, ep: &str, minute: u32, status: DeliveryStatus) -> String {
    let at = chrono::DateTime::parse_from_rfc3339(&format!("2026-11-25T10:{minute:02}:00Z")).unwrap().to_utc();
    let id = id_floor(at);
    let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let d = Delivery {
        id: id.clone(),
        tenant: "acme".into(),
        endpoint_id: ep.into(),
        event_id: format!("evt_{}", &id[4..]),
        event_type: "record.created".into(),
        payload: "{\"type\":\"record.created\"}".into(),
        status,
        attempts: 1,
        next_attempt_at: (status == DeliveryStatus::Pending).then(|| stamp.clone()),
        cycle_start: 0,
        lease_until: None,
        no_retry: false,
        last_status_code: Some(500),
        last_error: Some("the receiver answered 500".into()),
        created_at: stamp.clone(),
        updated_at: stamp,
    };
    assert!(w.store.create_delivery(&d).await.unwrap());
    id
}

mod deliveries;
mod endpoints;
