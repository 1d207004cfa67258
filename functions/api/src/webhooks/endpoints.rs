//! Creating, reading, changing and deleting endpoints. A new endpoint's signing secret is shown once, in the
//! answer to its creation (and later through `GET /v1/webhooks/{id}/secret`); it is stored sealed.

use hw_domain::principal::Principal;
use hw_webhooks::dispatch::secret_context;
use hw_webhooks::endpoint::{Endpoint, SealedSecret};
use hw_webhooks::ports::WebhookStoreError;
use hw_webhooks::signing::generate_secret;
use serde_json::json;

use super::input::{self, Changes, MAX_ENDPOINTS, Mode};
use super::{endpoint, now, stamp, views};
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body};

pub async fn list(deps: &Deps, _req: &Request, p: &Principal) -> Result<Response, ApiError> {
    let now = stamp(now());
    let endpoints = deps.webhooks.store.list_endpoints(&p.tenant).await?;
    let data: Vec<_> = endpoints.iter().map(|e| views::endpoint(e, &now)).collect();
    Ok(Response::json(200, JSON, &json!({"data": data})))
}

pub async fn get(deps: &Deps, _req: &Request, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let ep = endpoint(deps, &p.tenant, id).await?;
    Ok(render(200, &ep))
}

pub async fn create(deps: &Deps, req: &Request, p: &Principal) -> Result<Response, ApiError> {
    let body = body::json(deps, req, &[JSON])?;
    let changes = input::endpoint(&body, Mode::Create, &deps.webhooks.policy).await?;
    let store = &deps.webhooks.store;
    if store.list_endpoints(&p.tenant).await?.len() >= MAX_ENDPOINTS {
        return Err(ApiError::validation(format!(
            "a tenant may have at most {MAX_ENDPOINTS} webhook endpoints; delete one you no longer need, or \
             subscribe an existing endpoint to more event types"
        )));
    }
    let now = stamp(now());
    let id = hw_domain::ids::new_prefixed("ep");
    let url = changes.url.clone().unwrap_or_default();
    let mut ep = Endpoint::new(&p.tenant, &id, &url, vec![], &now);
    let secret = changes.secret.clone().unwrap_or_else(generate_secret);
    apply(&mut ep, changes, &now);
    let sealed = deps.webhooks.cipher().seal_secret(&p.tenant, &secret_context(&id), secret.as_bytes()).await?;
    ep.secrets = vec![SealedSecret { sealed, created_at: now.clone(), expires_at: None }];
    store.create_endpoint(&ep).await?;
    let mut view = views::endpoint(&ep, &now);
    view["secret"] = json!(secret);
    Ok(Response::json(201, JSON, &view)
        .header("etag", views::etag(&ep))
        .header("cache-control", "no-store")
        .header("location", format!("{}/v1/webhooks/{id}", req.base_url)))
}

pub async fn update(deps: &Deps, req: &Request, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let if_match = req.if_match()?;
    let mut ep = endpoint(deps, &p.tenant, id).await?;
    if let Some(v) = if_match
        && v != ep.version
    {
        return Err(ApiError::precondition_failed(ep.version));
    }
    let body = body::json(deps, req, &[JSON])?;
    let changes = input::endpoint(&body, Mode::Update, &deps.webhooks.policy).await?;
    let expected = ep.version;
    let now = stamp(now());
    apply(&mut ep, changes, &now);
    ep.version = expected + 1;
    ep.updated_at = now;
    match deps.webhooks.store.replace_endpoint(&ep, expected).await {
        Ok(()) => Ok(render(200, &ep)),
        Err(WebhookStoreError::NotFound) => Err(super::not_found(id)),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(deps: &Deps, req: &Request, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let if_match = req.if_match()?;
    let ep = endpoint(deps, &p.tenant, id).await?;
    if let Some(v) = if_match
        && v != ep.version
    {
        return Err(ApiError::precondition_failed(ep.version));
    }
    match deps.webhooks.store.delete_endpoint(&p.tenant, id).await {
        Ok(()) | Err(WebhookStoreError::NotFound) => Ok(Response::new(204)),
        Err(e) => Err(e.into()),
    }
}

fn render(status: u16, ep: &Endpoint) -> Response {
    Response::json(status, JSON, &views::endpoint(ep, &stamp(now()))).header("etag", views::etag(ep))
}

/// Applies the members a request set. Enabling a disabled endpoint clears its disabled state and failure run;
/// disabling one by hand records `manual` as the reason.
fn apply(ep: &mut Endpoint, c: Changes, now: &str) {
    if let Some(url) = c.url {
        ep.url = url;
    }
    if let Some(d) = c.description {
        ep.description = d;
    }
    if let Some(t) = c.event_types {
        ep.event_types = t;
    }
    if let Some(e) = c.entities {
        ep.entities = e;
    }
    if let Some(f) = c.payload_filter {
        ep.payload_filter = f;
    }
    if let Some(h) = c.headers {
        ep.headers = h;
    }
    if let Some(t) = c.transform {
        ep.transform = t;
    }
    if let Some(r) = c.rate_limit_per_second {
        ep.rate_limit_per_second = r;
    }
    if let Some(m) = c.max_concurrency {
        ep.max_concurrency = m;
    }
    if let Some(t) = c.timeout_seconds {
        ep.timeout_seconds = t;
    }
    if let Some(d) = c.disable_after_seconds {
        ep.disable_after_seconds = d;
    }
    if let Some(r) = c.retry_policy {
        ep.retry_policy = r;
    }
    match c.enabled {
        Some(true) if !ep.enabled => {
            ep.enabled = true;
            ep.disabled_reason = None;
            ep.disabled_at = None;
            ep.failing_since = None;
        }
        Some(false) if ep.enabled => {
            ep.enabled = false;
            ep.disabled_reason = Some("manual".into());
            ep.disabled_at = Some(now.to_owned());
        }
        _ => {}
    }
}
