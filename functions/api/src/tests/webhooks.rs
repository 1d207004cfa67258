//! The webhook routes on in-memory adapters and a scripted receiver. Every answer is checked against the static
//! OpenAPI document: its status must be documented for the operation, and its body must match the schema.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

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

use super::{assert_conforms, body, build, call_checked, document, header, request};
use crate::{Deps, WebhookPorts};

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

/// Sends a request as the fixture key and checks the answer against the document.
async fn call(
    w: &World,
    method: &str,
    path_and_query: &str,
    json_body: Option<Value>,
) -> (u16, Value, ApiGatewayV2httpResponse) {
    call_checked(&w.deps, method, path_and_query, json_body).await
}

async fn raw(
    w: &World,
    method: &str,
    path_and_query: &str,
    json_body: Option<Value>,
    headers: &[(&'static str, &str)],
) -> ApiGatewayV2httpResponse {
    request(&w.deps, method, path_and_query, json_body, headers).await
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
