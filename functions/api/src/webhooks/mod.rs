//! `/v1/webhooks`: a tenant's webhook endpoints (subscriptions), their signing secrets, the delivery log, resends
//! and replays, and a test ping; `/v1/event-types`: the catalog endpoints subscribe to. The engine (matching,
//! signing, the SSRF-guarded sender, the dispatch step) lives in `hw-webhooks`; these routes manage its state.
//! Everything but the catalog needs the `admin` scope.

mod deliveries;
mod endpoints;
mod input;
mod secrets;
mod views;

use std::sync::Arc;

use hw_aws::events::EventPublisher;
use hw_domain::principal::{Principal, scope};
use hw_store::cipher::FieldCipher;
use hw_webhooks::dispatch::{Dispatcher, Transport};
use hw_webhooks::endpoint::Endpoint;
use hw_webhooks::ports::{JobQueue, WebhookStore};
use hw_webhooks::target::TargetPolicy;
use serde_json::json;

use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, method_not_allowed};

/// The adapters the webhook routes need from outside: where endpoints and deliveries are kept, the deliveries
/// queue, and how the test ping sends its request.
pub struct WebhookPorts {
    pub store: Arc<dyn WebhookStore>,
    pub queue: Arc<dyn JobQueue>,
    pub transport: Arc<dyn Transport>,
}

/// The webhook part of the dependencies.
pub struct Webhooks {
    pub store: Arc<dyn WebhookStore>,
    pub queue: Arc<dyn JobQueue>,
    /// Runs the test ping exactly as the `webhook-dispatcher` function runs an attempt.
    pub dispatcher: Dispatcher,
    /// Which receivers endpoints may name: private and loopback ones only in local mode.
    pub policy: TargetPolicy,
}

impl Webhooks {
    pub fn new(
        ports: WebhookPorts,
        cipher: Arc<FieldCipher>,
        publisher: Arc<dyn EventPublisher>,
        policy: TargetPolicy,
    ) -> Self {
        let dispatcher = Dispatcher {
            store: ports.store.clone(),
            queue: ports.queue.clone(),
            transport: ports.transport,
            cipher,
            publisher,
        };
        Self { store: ports.store, queue: ports.queue, dispatcher, policy }
    }

    fn cipher(&self) -> &FieldCipher {
        &self.dispatcher.cipher
    }
}

pub async fn route(deps: &Deps, req: &Request, p: &Principal, rest: &[&str]) -> Result<Response, ApiError> {
    require(p, scope::ADMIN)?;
    use http::Method as M;
    match (rest, &req.method) {
        ([], &M::GET) => endpoints::list(deps, req, p).await,
        ([], &M::POST) => endpoints::create(deps, req, p).await,
        ([], _) => Err(method_not_allowed(req, "GET, POST")),
        ([id], &M::GET) => endpoints::get(deps, req, p, id).await,
        ([id], &M::PATCH) => endpoints::update(deps, req, p, id).await,
        ([id], &M::DELETE) => endpoints::delete(deps, req, p, id).await,
        ([_], _) => Err(method_not_allowed(req, "GET, PATCH, DELETE")),
        ([id, "secret"], &M::GET) => secrets::get(deps, p, id).await,
        ([_, "secret"], _) => Err(method_not_allowed(req, "GET")),
        ([id, "rotate-secret"], &M::POST) => secrets::rotate(deps, req, p, id).await,
        ([_, "rotate-secret"], _) => Err(method_not_allowed(req, "POST")),
        ([id, "test"], &M::POST) => deliveries::test(deps, p, id).await,
        ([_, "test"], _) => Err(method_not_allowed(req, "POST")),
        ([id, "replay"], &M::POST) => deliveries::replay(deps, req, p, id).await,
        ([_, "replay"], _) => Err(method_not_allowed(req, "POST")),
        ([id, "deliveries"], &M::GET) => deliveries::list(deps, req, p, id).await,
        ([_, "deliveries"], _) => Err(method_not_allowed(req, "GET")),
        ([id, "deliveries", delivery], &M::GET) => deliveries::get(deps, p, id, delivery).await,
        ([_, "deliveries", _], _) => Err(method_not_allowed(req, "GET")),
        ([id, "deliveries", delivery, "attempts"], &M::GET) => deliveries::attempts(deps, p, id, delivery).await,
        ([_, "deliveries", _, "attempts"], _) => Err(method_not_allowed(req, "GET")),
        ([id, "deliveries", delivery, "resend"], &M::POST) => deliveries::resend(deps, p, id, delivery).await,
        ([_, "deliveries", _, "resend"], _) => Err(method_not_allowed(req, "POST")),
        _ => Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path))),
    }
}

/// `GET /v1/event-types`: every event type with its JSON Schema and an example. Any valid key may read it.
pub fn event_types(req: &Request, rest: &[&str]) -> Result<Response, ApiError> {
    if !rest.is_empty() {
        return Err(ApiError::not_found(format!("no route for {} {}", req.method, req.path)));
    }
    if req.method != http::Method::GET {
        return Err(method_not_allowed(req, "GET"));
    }
    Ok(Response::json(200, JSON, &json!({"data": hw_webhooks::catalog::catalog()})))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("there is no webhook endpoint `{id}`"))
}

/// The tenant's endpoint `id`, or 404.
async fn endpoint(deps: &Deps, tenant: &str, id: &str) -> Result<Endpoint, ApiError> {
    if !views::plausible_id(id, "ep_") {
        return Err(not_found(id));
    }
    deps.webhooks.store.get_endpoint(tenant, id).await?.ok_or_else(|| not_found(id))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
