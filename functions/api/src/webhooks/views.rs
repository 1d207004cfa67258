//! What the webhook routes answer: endpoints without their tenant and sealed secrets, deliveries without their
//! internal bookkeeping (leases, retry cycles), attempts as they were recorded.

use hw_webhooks::delivery::{Attempt, Delivery};
use hw_webhooks::endpoint::Endpoint;
use serde_json::{Value, json};

/// The endpoint as clients see it. `secret_rotation` appears while an older secret still signs.
pub fn endpoint(ep: &Endpoint, now: &str) -> Value {
    let mut v = json!({
        "id": ep.id,
        "url": ep.url,
        "description": ep.description,
        "event_types": ep.event_types,
        "entities": ep.entities,
        "payload_filter": ep.payload_filter,
        "headers": ep.headers,
        "transform": ep.transform,
        "enabled": ep.enabled,
        "disabled_reason": ep.disabled_reason,
        "disabled_at": ep.disabled_at,
        "failing_since": ep.failing_since,
        "rate_limit_per_second": ep.rate_limit_per_second,
        "max_concurrency": ep.max_concurrency,
        "timeout_seconds": ep.timeout_seconds,
        "disable_after_seconds": ep.disable_after_seconds,
        "retry_policy": ep.retry_policy,
        "version": ep.version,
        "created_at": ep.created_at,
        "updated_at": ep.updated_at,
    });
    if let Some(expires) = previous_expires_at(ep, now) {
        v["secret_rotation"] = json!({"previous_expires_at": expires});
    }
    v
}

/// When the last of the older secrets that still sign stops signing; `None` outside a rotation.
pub fn previous_expires_at(ep: &Endpoint, now: &str) -> Option<String> {
    ep.live_secrets(now).skip(1).filter_map(|s| s.expires_at.clone()).max()
}

pub fn delivery(d: &Delivery) -> Value {
    json!({
        "id": d.id,
        "endpoint_id": d.endpoint_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "status": d.status.as_str(),
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    })
}

/// A delivery with its body (as JSON when it is JSON, else the text) and every attempt, oldest first.
pub fn delivery_detail(d: &Delivery, attempts: &[Attempt]) -> Value {
    let mut v = delivery(d);
    v["payload"] = serde_json::from_str(&d.payload).unwrap_or_else(|_| Value::String(d.payload.clone()));
    v["attempts_detail"] = Value::Array(attempts.iter().map(attempt).collect());
    v
}

pub fn attempt(a: &Attempt) -> Value {
    serde_json::to_value(a).expect("attempts serialise")
}

/// Whether `id` could be an id of ours with this prefix; anything else is answered 404 without a storage read.
pub fn plausible_id(id: &str, prefix: &str) -> bool {
    id.len() <= 100
        && id.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

pub fn etag(ep: &Endpoint) -> String {
    format!("\"{}\"", ep.version)
}
