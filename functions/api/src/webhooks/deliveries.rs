//! The delivery log of an endpoint (deliveries, newest first, and their attempts), sending a delivery again
//! (resend, replay) and the test ping.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use hw_domain::principal::Principal;
use hw_webhooks::delivery::{DeliveryStatus, Job, id_floor};
use hw_webhooks::endpoint::Endpoint;
use hw_webhooks::ports::{DeliveryQuery, Reopen};
use serde_json::{Value, json};

use super::{endpoint, input, now, stamp, views};
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, body};

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;
/// Most deliveries one replay call reopens; `more` tells the caller to call again.
pub const MAX_REPLAY: usize = 1000;
/// Deliveries reopened at the same time by a replay.
const REPLAY_CONCURRENCY: usize = 16;
/// The test ping waits at most this long for the receiver, so the answer comes within the function's timeout.
const MAX_PING_SECONDS: u32 = 10;

/// `GET /v1/webhooks/{id}/deliveries`: newest first, filtered by status and event time, in cursor pages.
pub async fn list(deps: &Deps, req: &Request, p: &Principal, id: &str) -> Result<Response, ApiError> {
    req.only_params(&|k| matches!(k, "status" | "since" | "page[size]" | "page[cursor]"))?;
    let status = req
        .query_param("status")
        .map(|s| {
            DeliveryStatus::parse(s)
                .ok_or_else(|| ApiError::invalid_parameter("status", "`status` is one of pending, delivered, failed"))
        })
        .transpose()?;
    let since = req
        .query_param("since")
        .map(|s| {
            DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| {
                ApiError::invalid_parameter("since", "`since` must be an RFC 3339 date-time, e.g. 2026-11-25T00:00:00Z")
            })
        })
        .transpose()?;
    let size = req.page_size(DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = req.query_param("page[cursor]").map(decode_cursor).transpose()?;
    let ep = endpoint(deps, &p.tenant, id).await?;
    let query = DeliveryQuery { status, since, cursor: cursor.clone(), limit: size };
    // A cursor older than `since` has nothing after it (and is outside the range the store reads).
    let exhausted = matches!((&cursor, since), (Some(c), Some(s)) if *c <= id_floor(s));
    let page = if exhausted {
        Default::default()
    } else {
        deps.webhooks.store.list_deliveries(&p.tenant, &ep.id, &query).await?
    };
    let next = page.next.map(|n| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(s) = status {
            q.append_pair("status", s.as_str());
        }
        if let Some(s) = since {
            q.append_pair("since", &stamp(s));
        }
        q.append_pair("page[size]", &size.to_string()).append_pair("page[cursor]", &URL_SAFE_NO_PAD.encode(n));
        format!("{}/v1/webhooks/{}/deliveries?{}", req.base_url, ep.id, q.finish())
    });
    let data: Vec<Value> = page.items.iter().map(views::delivery).collect();
    Ok(Response::json(200, JSON, &json!({"data": data, "links": {"next": next}})))
}

/// A `page[cursor]` this API issued: the base64url of a delivery id.
fn decode_cursor(c: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|id| views::plausible_id(id, "msg_"))
        .ok_or_else(|| ApiError::invalid_parameter("page[cursor]", "page[cursor] is not a cursor this API returned"))
}

fn delivery_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("there is no delivery `{id}` in this endpoint's log"))
}

async fn delivery(
    deps: &Deps,
    p: &Principal,
    ep: &Endpoint,
    id: &str,
) -> Result<hw_webhooks::delivery::Delivery, ApiError> {
    if !views::plausible_id(id, "msg_") {
        return Err(delivery_not_found(id));
    }
    deps.webhooks.store.get_delivery(&p.tenant, &ep.id, id).await?.ok_or_else(|| delivery_not_found(id))
}

/// `GET /v1/webhooks/{id}/deliveries/{delivery_id}`: the delivery, its body and every attempt.
pub async fn get(deps: &Deps, p: &Principal, id: &str, delivery_id: &str) -> Result<Response, ApiError> {
    let ep = endpoint(deps, &p.tenant, id).await?;
    let d = delivery(deps, p, &ep, delivery_id).await?;
    let attempts = deps.webhooks.store.list_attempts(&p.tenant, &ep.id, &d.id).await?;
    Ok(Response::json(200, JSON, &views::delivery_detail(&d, &attempts)))
}

/// `GET /v1/webhooks/{id}/deliveries/{delivery_id}/attempts`, oldest first.
pub async fn attempts(deps: &Deps, p: &Principal, id: &str, delivery_id: &str) -> Result<Response, ApiError> {
    let ep = endpoint(deps, &p.tenant, id).await?;
    let d = delivery(deps, p, &ep, delivery_id).await?;
    let attempts = deps.webhooks.store.list_attempts(&p.tenant, &ep.id, &d.id).await?;
    let data: Vec<Value> = attempts.iter().map(views::attempt).collect();
    Ok(Response::json(200, JSON, &json!({"data": data})))
}

/// Resends and replays go nowhere while the endpoint is disabled: the dispatcher would fail them at once.
fn ensure_enabled(ep: &Endpoint) -> Result<(), ApiError> {
    if ep.enabled {
        return Ok(());
    }
    Err(ApiError::new(
        409,
        "endpoint-disabled",
        "Endpoint disabled",
        format!(
            "webhook endpoint `{}` is disabled ({}); enable it with PATCH {{\"enabled\": true}} first",
            ep.id,
            ep.disabled_reason.as_deref().unwrap_or("manual")
        ),
    ))
}

fn job(d: &hw_webhooks::delivery::Delivery, now: &str) -> (Job, Duration) {
    let job = Job {
        tenant: d.tenant.clone(),
        endpoint_id: d.endpoint_id.clone(),
        delivery_id: d.id.clone(),
        attempt: d.next_attempt(),
        not_before: now.to_owned(),
    };
    (job, Duration::ZERO)
}

async fn enqueue(deps: &Deps, jobs: &[(Job, Duration)]) -> Result<(), ApiError> {
    if jobs.is_empty() {
        return Ok(());
    }
    deps.webhooks.queue.enqueue(jobs).await.map_err(ApiError::unavailable)
}

/// `POST /v1/webhooks/{id}/deliveries/{delivery_id}/resend`: a finished delivery starts a new retry cycle now.
pub async fn resend(deps: &Deps, p: &Principal, id: &str, delivery_id: &str) -> Result<Response, ApiError> {
    let ep = endpoint(deps, &p.tenant, id).await?;
    if !views::plausible_id(delivery_id, "msg_") {
        return Err(delivery_not_found(delivery_id));
    }
    ensure_enabled(&ep)?;
    let now = stamp(now());
    match deps.webhooks.store.reopen_delivery(&p.tenant, &ep.id, delivery_id, &now).await? {
        Reopen::Reopened(d) => {
            enqueue(deps, &[job(&d, &now)]).await?;
            Ok(Response::json(202, JSON, &views::delivery(&d)))
        }
        Reopen::AlreadyPending(d) => Err(ApiError::new(
            409,
            "delivery-pending",
            "Delivery pending",
            format!(
                "delivery `{}` is still pending (next attempt at {}); it is sent again on its own",
                d.id,
                d.next_attempt_at.as_deref().unwrap_or("any moment")
            ),
        )),
        Reopen::Missing => Err(delivery_not_found(delivery_id)),
    }
}

/// `POST /v1/webhooks/{id}/replay`: every failed delivery of events in `[since, until)` starts a new retry cycle,
/// at most `MAX_REPLAY` per call.
pub async fn replay(deps: &Deps, req: &Request, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let ep = endpoint(deps, &p.tenant, id).await?;
    let (since, until) = input::replay(&body::json(deps, req, &[JSON])?)?;
    ensure_enabled(&ep)?;
    let store = &deps.webhooks.store;
    let (ids, more) = failed_in_window(deps, p, &ep, since, until).await?;
    let now = stamp(now());
    let reopened: Vec<_> = futures::stream::iter(ids)
        .map(|d| {
            let (tenant, ep, now) = (&p.tenant, &ep.id, &now);
            async move { store.reopen_delivery(tenant, ep, &d, now).await }
        })
        .buffer_unordered(REPLAY_CONCURRENCY)
        .collect()
        .await;
    let mut jobs = Vec::new();
    for r in reopened {
        if let Reopen::Reopened(d) = r? {
            jobs.push(job(&d, &now));
        }
    }
    enqueue(deps, &jobs).await?;
    Ok(Response::json(202, JSON, &json!({"replayed": jobs.len(), "more": more})))
}

/// The failed deliveries of events in `[since, until)`, newest first, at most `MAX_REPLAY`; `true` when more are left.
async fn failed_in_window(
    deps: &Deps,
    p: &Principal,
    ep: &Endpoint,
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<(Vec<String>, bool), ApiError> {
    // Delivery ids begin with their event's time: reading starts below `until` and stops at `since`.
    let upper = until.map(id_floor);
    // Times before 1970 share the lowest id: such a window holds nothing (and its bound is no start key).
    if upper.as_ref().is_some_and(|u| *u <= id_floor(since)) {
        return Ok((vec![], false));
    }
    let mut query =
        DeliveryQuery { status: Some(DeliveryStatus::Failed), since: Some(since), cursor: upper.clone(), limit: 100 };
    let mut ids = Vec::new();
    loop {
        let page = deps.webhooks.store.list_deliveries(&p.tenant, &ep.id, &query).await?;
        for d in page.items {
            if upper.as_ref().is_some_and(|u| d.id >= *u) || d.status != DeliveryStatus::Failed {
                continue;
            }
            if ids.len() == MAX_REPLAY {
                return Ok((ids, true));
            }
            ids.push(d.id);
        }
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => return Ok((ids, false)),
        }
    }
}

/// `POST /v1/webhooks/{id}/test`: a `webhook.ping` sent now, once, recorded in the delivery log. Answers 200
/// whatever the receiver did: its answer is in the body.
pub async fn test(deps: &Deps, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let mut ep = endpoint(deps, &p.tenant, id).await?;
    ep.timeout_seconds = ep.timeout_seconds.min(MAX_PING_SECONDS);
    let (d, attempt) = deps.webhooks.dispatcher.ping(&ep).await?;
    Ok(Response::json(200, JSON, &json!({"delivery": views::delivery(&d), "attempt": views::attempt(&attempt)})))
}
