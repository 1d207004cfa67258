//! `GET /health`: the state of each dependency, 200 when all answer, 503 otherwise.

use std::time::Instant;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use crate::Deps;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};

/// Port for checking that the event bus exists and answers.
#[async_trait]
pub trait BusProbe: Send + Sync {
    async fn check(&self) -> Result<(), String>;
}

pub struct EventBridgeProbe {
    pub client: aws_sdk_eventbridge::Client,
    pub bus: String,
}

#[async_trait]
impl BusProbe for EventBridgeProbe {
    async fn check(&self) -> Result<(), String> {
        self.client
            .describe_event_bus()
            .name(&self.bus)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string())
    }
}

pub async fn get(deps: &Deps, req: &Request) -> Result<Response, ApiError> {
    if req.method != http::Method::GET {
        return Err(crate::method_not_allowed(req, "GET"));
    }
    let (control, data, bus) = tokio::join!(
        timed(async { deps.control.ping().await.map_err(|e| e.to_string()) }),
        timed(async { deps.data.ping().await.map_err(|e| e.to_string()) }),
        timed(deps.bus.check()),
    );
    let mut checks = Map::new();
    let mut healthy = true;
    for (name, (result, ms)) in [("control_table", control), ("data_table", data), ("event_bus", bus)] {
        healthy &= result.is_ok();
        checks.insert(
            name.to_owned(),
            match result {
                Ok(()) => json!({"status": "up", "latency_ms": ms}),
                Err(e) => json!({"status": "down", "latency_ms": ms, "error": e}),
            },
        );
    }
    let body = json!({"status": if healthy { "up" } else { "down" }, "checks": Value::Object(checks)});
    Ok(Response::json(if healthy { 200 } else { 503 }, JSON, &body).header("cache-control", "no-store"))
}

async fn timed(f: impl std::future::Future<Output = Result<(), String>>) -> (Result<(), String>, f64) {
    let start = Instant::now();
    let r = f.await;
    (r, (start.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
}
