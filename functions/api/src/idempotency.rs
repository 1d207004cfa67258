//! `Idempotency-Key` on POST and PATCH: the first request with a key runs and its response is kept for 24 hours;
//! a retry with the same key and the same request gets that response again (`Idempotent-Replayed: true`); the
//! same key with a different request is refused (422), and so is a retry while the first is still running (409).
//! Keys belong to the client that sent them. Server errors release the key, so a retry runs again.

use std::future::Future;

use hw_domain::principal::Principal;
use hw_store::ops::{IdempotencyClaim, IdempotencyScope, StoredResponse};
use sha2::{Digest, Sha256};

use crate::Deps;
use crate::error::ApiError;
use crate::http::{Request, Response};

pub const HEADER: &str = "idempotency-key";
pub const RETENTION_SECONDS: i64 = 24 * 3600;
/// How long a claim protects a running request; beyond the function's timeout, so a live request never loses it.
const LOCK_SECONDS: i64 = 60;
/// Responses larger than this are not kept (a DynamoDB item holds 400 KB); the key is released instead.
const MAX_KEPT_BODY: usize = 300 * 1024;
/// Headers replayed with a kept response; rate-limit and request-id headers belong to the retry itself.
const KEPT_HEADERS: &[&str] = &["content-type", "location", "etag", "cache-control", "deprecation", "sunset", "link"];

/// Runs `serve` (which renders its own errors) under the request's idempotency key, if it has one.
pub async fn guard<F, Fut>(deps: &Deps, req: &Request, p: &Principal, now: i64, serve: F) -> Result<Response, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Response>,
{
    let Some(raw) = req.headers.get(HEADER).filter(|_| applies(req)) else { return Ok(serve().await) };
    // Read from the raw bytes: a value with a control or non-ASCII byte is an invalid key, not an absent one.
    let key = std::str::from_utf8(raw.as_bytes()).unwrap_or("\u{0}").trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(ApiError::new(
            400,
            "invalid-idempotency-key",
            "Invalid Idempotency-Key",
            "Idempotency-Key must be 1 to 255 printable ASCII characters, e.g. a UUID",
        ));
    }
    let scope = IdempotencyScope { tenant: &p.tenant, client: &p.actor, key };
    let fingerprint = fingerprint(req);
    let claim = deps
        .ops
        .claim_idempotency_key(&scope, &fingerprint, now, now + LOCK_SECONDS, now + RETENTION_SECONDS)
        .await
        .map_err(ApiError::unavailable)?;
    match claim {
        IdempotencyClaim::Acquired => {}
        IdempotencyClaim::Completed { fingerprint: kept, .. } | IdempotencyClaim::InFlight { fingerprint: kept }
            if kept != fingerprint =>
        {
            return Err(ApiError::new(
                422,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "this Idempotency-Key was used for a different request; use a new key for a new request",
            ));
        }
        IdempotencyClaim::InFlight { .. } => {
            return Err(ApiError::new(
                409,
                "idempotency-key-in-use",
                "Request in progress",
                "a request with this Idempotency-Key is still being processed; retry shortly",
            )
            .with_header("retry-after", "1"));
        }
        IdempotencyClaim::Completed { response, .. } => return Ok(replay(response)),
    }
    let response = serve().await;
    // Client errors are kept too: the same request would fail the same way. Server errors and conflicts release
    // the key.
    let settled = match kept(&response) {
        Some(stored) => deps.ops.complete_idempotency_key(&scope, &stored).await,
        None => deps.ops.release_idempotency_key(&scope).await,
    };
    if let Err(e) = settled {
        tracing::warn!(error = %e, "could not settle the idempotency key");
    }
    Ok(response)
}

/// The routes that take a key: every POST and PATCH the API has, except the four that make secrets
/// (`POST /v1/users`, whose body may hold a password, `POST /v1/users/{id}/invitation`, whose answer holds a
/// token, and `POST /v1/oauth-clients` and `POST /v1/oauth-clients/{id}/secret`, whose answers hold a client
/// secret): a kept answer or an unsalted fingerprint of the body would store those outside their hashes. Other
/// methods, and POST or PATCH where the route has no such method, run as they are (and get their 405), whatever key
/// they carry.
fn applies(req: &Request) -> bool {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    match req.method {
        http::Method::POST => matches!(
            segs.as_slice(),
            ["v1", "data", _]
                | ["v1", "data", _, "_bulk"]
                | ["v1", "models"]
                | ["v1", "api-keys"]
                | ["v1", "api-keys", _, "rotate"]
                | ["v1", "webhooks"]
                | ["v1", "webhooks", _, "rotate-secret" | "test" | "replay"]
                | ["v1", "webhooks", _, "deliveries", _, "resend"]
                | ["v1", "exports"]
                | ["v1", "export-templates"]
                | ["v1", "export-templates", _, "run"]
                | ["v1", "imports"]
                | ["v1", "imports", _, "start" | "cancel" | "retry" | "complete-upload"]
                | ["v1", "oauth-signing-keys", "rotate"]
        ),
        http::Method::PATCH => {
            matches!(segs.as_slice(), ["v1", "data", _, id] if *id != "_bulk")
                || matches!(segs.as_slice(), ["v1", "webhooks", _] | ["v1", "export-templates", _] | ["v1", "users", _])
        }
        _ => false,
    }
}

fn fingerprint(req: &Request) -> String {
    let mut h = Sha256::new();
    h.update(req.method.as_str());
    h.update([0]);
    h.update(&req.path);
    h.update([0]);
    for (k, v) in &req.query {
        h.update(k);
        h.update([1]);
        h.update(v);
        h.update([0]);
    }
    h.update(&req.body);
    hex::encode(h.finalize())
}

fn kept(r: &Response) -> Option<StoredResponse> {
    // 409 answers depend on what other requests did meanwhile (a concurrent write, a value taken): a retry should
    // see the world as it is then.
    if r.status >= 500 || r.status == 409 || r.body.as_ref().is_some_and(|b| b.len() > MAX_KEPT_BODY) {
        return None;
    }
    Some(StoredResponse {
        status: r.status,
        headers: r.headers.iter().filter(|(k, _)| KEPT_HEADERS.contains(&k.as_str())).cloned().collect(),
        body: r.body.clone(),
    })
}

fn replay(stored: StoredResponse) -> Response {
    let mut r = Response::new(stored.status);
    for (k, v) in stored.headers {
        r = r.header(&k, v);
    }
    r.body = stored.body;
    r.header("idempotent-replayed", "true")
}
