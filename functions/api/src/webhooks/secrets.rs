//! Signing secrets: reading the current one, and rotating with a grace period during which the old secret keeps
//! signing too (receivers verify against either), so a receiver can switch without losing a delivery.

use hw_domain::principal::Principal;
use hw_webhooks::dispatch::secret_context;
use hw_webhooks::endpoint::SealedSecret;
use hw_webhooks::signing::generate_secret;
use serde_json::json;

use super::input::{self, DEFAULT_GRACE_SECONDS};
use super::{endpoint, now, stamp};
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body};

/// Secrets kept at most: the new one and the older ones still within their grace period.
pub const MAX_SECRETS: usize = 3;

/// `GET /v1/webhooks/{id}/secret`: the secret that signs first.
pub async fn get(deps: &Deps, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let ep = endpoint(deps, &p.tenant, id).await?;
    let now = stamp(now());
    let current = ep.live_secrets(&now).next().ok_or_else(|| {
        ApiError::not_found(format!("webhook endpoint `{id}` has no live secret; rotate it to get a new one"))
    })?;
    let opened = deps.webhooks.cipher().open_secret(&p.tenant, &secret_context(&ep.id), &current.sealed).await?;
    let secret = String::from_utf8(opened).map_err(ApiError::internal)?;
    Ok(Response::json(200, JSON, &json!({"secret": secret})).header("cache-control", "no-store"))
}

/// `POST /v1/webhooks/{id}/rotate-secret`: a new secret signs first from now on; the previous one keeps signing
/// for the grace period (0: it stops at once); secrets whose grace period is over are dropped.
pub async fn rotate(deps: &Deps, req: &Request, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let mut ep = endpoint(deps, &p.tenant, id).await?;
    // An empty body means the defaults.
    let rotation = if req.body.is_empty() {
        input::Rotation::default()
    } else {
        input::rotation(&body::json(deps, req, &[JSON])?)?
    };
    let grace = rotation.grace_period_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    let at = now();
    let now = stamp(at);
    let expires = stamp(at + chrono::Duration::seconds(grace as i64));
    let secret = rotation.secret.unwrap_or_else(generate_secret);
    let sealed = deps.webhooks.cipher().seal_secret(&p.tenant, &secret_context(&ep.id), secret.as_bytes()).await?;
    let mut secrets = vec![SealedSecret { sealed, created_at: now.clone(), expires_at: None }];
    let mut previous_expires_at = None;
    for mut s in ep.live_secrets(&now).cloned().collect::<Vec<_>>() {
        if s.expires_at.is_none() {
            // The secret that signed first until now.
            if grace == 0 {
                previous_expires_at = Some(now.clone());
                continue;
            }
            s.expires_at = Some(expires.clone());
            previous_expires_at = Some(expires.clone());
        }
        secrets.push(s);
    }
    secrets.truncate(MAX_SECRETS);
    let expected = ep.version;
    ep.secrets = secrets;
    ep.version = expected + 1;
    ep.updated_at = now;
    deps.webhooks.store.replace_endpoint(&ep, expected).await?;
    Ok(Response::json(200, JSON, &json!({"secret": secret, "previous_expires_at": previous_expires_at}))
        .header("cache-control", "no-store"))
}
