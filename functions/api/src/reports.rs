//! `GET /v1/usage` (request counts, error rates, latency percentiles, rate-limit rejections and authentication
//! failures over a time range) and `GET /v1/audit` (who did what, when, and how it ended). Both need `admin`.

use base64::Engine as _;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use hw_domain::principal::{Principal, scope};
use hw_store::ops::usage::{GroupBy, summarize};
use serde_json::json;

use crate::auth::require;
use crate::error::ApiError;
use crate::http::{JSON, Request, Response};
use crate::{Deps, method_not_allowed};

pub const MAX_USAGE_DAYS: i64 = 31;
pub const DEFAULT_AUDIT_DAYS: i64 = 30;
pub const DEFAULT_AUDIT_PAGE: usize = 50;
pub const MAX_AUDIT_PAGE: usize = 200;

fn time_param(req: &Request, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    req.query_param(name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v).map(|t| t.with_timezone(&Utc)).map_err(|_| {
                ApiError::invalid_parameter(
                    name,
                    format!("`{name}` must be an RFC 3339 date-time, e.g. 2026-11-25T00:00:00Z"),
                )
            })
        })
        .transpose()
}

/// `from` and `to` of a report, defaulting to the `default_days` before now, at most `max_days` apart.
fn range(req: &Request, default_days: i64, max_days: i64) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let to = time_param(req, "to")?.unwrap_or_else(Utc::now);
    let from = time_param(req, "from")?.unwrap_or(to - Duration::days(default_days));
    if from > to {
        return Err(ApiError::invalid_parameter("from", "`from` must not be after `to`"));
    }
    if to - from > Duration::days(max_days) {
        return Err(ApiError::invalid_parameter("from", format!("the range may span at most {max_days} days")));
    }
    Ok((from, to))
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub async fn usage(deps: &Deps, req: &Request, p: &Principal) -> Result<Response, ApiError> {
    if req.method != http::Method::GET {
        return Err(method_not_allowed(req, "GET"));
    }
    require(p, scope::ADMIN)?;
    req.only_params(&|k| matches!(k, "from" | "to" | "group_by"))?;
    let group_by = match req.query_param("group_by") {
        None => GroupBy::Route,
        Some(g) => GroupBy::parse(g)
            .ok_or_else(|| ApiError::invalid_parameter("group_by", "`group_by` is one of route, client, status"))?,
    };
    let (from, to) = range(req, 1, MAX_USAGE_DAYS)?;
    // Counters are per minute: the range covers every minute that starts inside it.
    let minute = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let to_minute = if to.timestamp() % 60 == 0 && to.timestamp_subsec_nanos() == 0 {
        minute(to)
    } else {
        minute(to + Duration::minutes(1))
    };
    let cells = deps.ops.usage(&p.tenant, &minute(from), &to_minute).await.map_err(ApiError::from)?;
    let (groups, totals) = summarize(&cells, group_by);
    let group_name = match group_by {
        GroupBy::Route => "route",
        GroupBy::Client => "client",
        GroupBy::Status => "status",
    };
    Ok(Response::json(
        200,
        JSON,
        &json!({
            "from": stamp(from),
            "to": stamp(to),
            "group_by": group_name,
            "data": groups,
            "totals": totals,
        }),
    ))
}

pub async fn audit(deps: &Deps, req: &Request, p: &Principal) -> Result<Response, ApiError> {
    if req.method != http::Method::GET {
        return Err(method_not_allowed(req, "GET"));
    }
    require(p, scope::ADMIN)?;
    req.only_params(&|k| matches!(k, "from" | "to" | "actor" | "page[size]" | "page[after]"))?;
    let (from, to) = range(req, DEFAULT_AUDIT_DAYS, i64::from(deps.config.limits.audit_days))?;
    let size = req.page_size(DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE)?;
    let bad_cursor = || ApiError::invalid_parameter("page[after]", "page[after] is not a cursor this API returned");
    let after = req
        .query_param("page[after]")
        .map(|c| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|sk| sk.contains('#'))
                .ok_or_else(bad_cursor)
        })
        .transpose()?;
    let actor = req.query_param("actor");
    let (from_s, to_s) = (stamp(from), stamp(to));
    // The actor filter runs over pages of the log, so a page may hold fewer entries than asked for.
    let (entries, next) =
        deps.ops.audit(&p.tenant, &from_s, &to_s, size, after.as_deref()).await.map_err(ApiError::from)?;
    let data: Vec<_> = entries.into_iter().filter(|e| actor.is_none_or(|a| e.actor == a)).collect();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("from", &from_s).append_pair("to", &to_s).append_pair("page[size]", &size.to_string());
    if let Some(a) = actor {
        query.append_pair("actor", a);
    }
    let base = format!("{}/v1/audit?{}", req.base_url, query.finish());
    let mut links = json!({"self": base});
    if let Some(next) = next {
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(next);
        links["next"] = json!(format!("{base}&page%5Bafter%5D={cursor}"));
    }
    Ok(Response::json(200, JSON, &json!({"data": data, "links": links})))
}
