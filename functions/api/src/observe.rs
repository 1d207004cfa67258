//! After every request: the request-log entry (with usage counters) and, for writes and administrative actions,
//! the audit entry. Written before the response leaves, concurrently, so a request is never served unrecorded;
//! a failure to record is logged and does not fail the request.

use hw_domain::principal::Principal;
use hw_store::ops::{AuditEntry, AuditTarget, RequestLogEntry};

use crate::Deps;
use crate::http::{Request, Response};

/// What the pipeline knows about a request once it is answered.
pub struct Served<'a> {
    pub req: &'a Request,
    pub response: &'a Response,
    pub principal: Option<&'a Principal>,
    /// The tenant, when known even without a principal (an expired key names its tenant).
    pub tenant: Option<&'a str>,
    pub route: &'a str,
    pub latency_ms: f64,
    pub time: &'a str,
}

pub async fn record(deps: &Deps, s: &Served<'_>) {
    let tenant = s.principal.map(|p| p.tenant.as_str()).or(s.tenant);
    let entry = RequestLogEntry {
        tenant: tenant.map(str::to_owned),
        request_id: s.req.request_id.clone(),
        time: s.time.to_owned(),
        client: s.principal.map(|p| p.actor.clone()),
        method: s.req.method.to_string(),
        route: s.route.to_owned(),
        path: s.req.path.clone(),
        status: s.response.status,
        latency_ms: (s.latency_ms * 1000.0).round() / 1000.0,
        request_bytes: s.req.body.len() as u64,
        response_bytes: s.response.body.as_ref().map_or(0, |b| b.len() as u64),
        user_agent: s.req.header("user-agent").map(|u| u.chars().take(256).collect()),
        source_ip: s.req.source_ip.clone(),
    };
    let audit = s.principal.filter(|_| is_audited(s.req)).map(|p| audit_entry(s, p));
    let now = chrono::Utc::now().timestamp();
    let day = 24 * 3600;
    let limits = &deps.config.limits;
    if let Err(e) = deps
        .ops
        .record(
            &entry,
            audit.as_ref(),
            now + i64::from(limits.request_log_days) * day,
            now + i64::from(limits.audit_days) * day,
        )
        .await
    {
        tracing::error!(error = %e, "could not record the request");
    }
}

/// Writes and administrative actions: anything that is not a read.
fn is_audited(req: &Request) -> bool {
    !matches!(req.method, http::Method::GET | http::Method::HEAD | http::Method::OPTIONS)
}

fn audit_entry(s: &Served<'_>, p: &Principal) -> AuditEntry {
    let segs: Vec<&str> = s.req.segments.iter().map(String::as_str).collect();
    let created_id = || {
        s.response
            .headers
            .iter()
            .find(|(k, _)| k == "location")
            .and_then(|(_, v)| v.rsplit('/').next())
            .map(str::to_owned)
    };
    let method = s.req.method.as_str();
    let (action, target) = match (segs.as_slice(), method) {
        (["v1", "data", entity, "_bulk"], _) => ("record.bulk".to_owned(), Some((*entity, None))),
        (["v1", "data", entity], "POST") => ("record.create".to_owned(), Some((*entity, created_id()))),
        (["v1", "data", entity, id], "PATCH") => ("record.update".to_owned(), Some((*entity, Some(id.to_string())))),
        (["v1", "data", entity, id], "DELETE") => ("record.delete".to_owned(), Some((*entity, Some(id.to_string())))),
        (["v1", "models"], "POST") => ("model.create".to_owned(), Some(("model", created_id()))),
        (["v1", "models", name], "PUT") => ("model.update".to_owned(), Some(("model", Some(name.to_string())))),
        (["v1", "models", name], "DELETE") => ("model.delete".to_owned(), Some(("model", Some(name.to_string())))),
        (["v1", "api-keys"], "POST") => ("api_key.create".to_owned(), Some(("api_key", created_id()))),
        (["v1", "api-keys", id], "DELETE") => ("api_key.revoke".to_owned(), Some(("api_key", Some(id.to_string())))),
        (["v1", "api-keys", id, "rotate"], "POST") => {
            ("api_key.rotate".to_owned(), Some(("api_key", Some(id.to_string()))))
        }
        (["v1", "users"], "POST") => ("user.create".to_owned(), Some(("user", created_id()))),
        (["v1", "users", id, rest @ ..], _) => {
            let action = match (rest, method) {
                ([], "PATCH") => Some("user.update"),
                ([], "DELETE") => Some("user.delete"),
                (["invitation"], "POST") => Some("user.invite"),
                (["password"], "PUT") => Some("user.set_password"),
                _ => None,
            };
            match action {
                Some(a) => (a.to_owned(), Some(("user", Some(id.to_string())))),
                None => (format!("{} {}", method, s.route), None),
            }
        }
        (["v1", "webhooks"], "POST") => ("webhook.create".to_owned(), Some(("webhook", created_id()))),
        (["v1", "webhooks", id, rest @ ..], _) => {
            let action = match (rest, method) {
                ([], "PATCH") => Some("webhook.update"),
                ([], "DELETE") => Some("webhook.delete"),
                (["rotate-secret"], "POST") => Some("webhook.rotate_secret"),
                (["test"], "POST") => Some("webhook.test"),
                (["deliveries", _, "resend"], "POST") => Some("webhook.resend"),
                (["replay"], "POST") => Some("webhook.replay"),
                _ => None,
            };
            match action {
                Some(a) => (a.to_owned(), Some(("webhook", Some(id.to_string())))),
                None => (format!("{} {}", method, s.route), None),
            }
        }
        _ => (format!("{} {}", method, s.route), None),
    };
    AuditEntry {
        id: s.req.request_id.clone(),
        tenant: p.tenant.clone(),
        time: s.time.to_owned(),
        actor: p.actor.clone(),
        action,
        method: method.to_owned(),
        route: s.route.to_owned(),
        path: s.req.path.clone(),
        target: target.and_then(|(kind, id)| id.map(|id| AuditTarget { kind: kind.to_owned(), id })),
        status: s.response.status,
        outcome: if s.response.status < 400 { "success" } else { "failure" }.to_owned(),
        request_id: s.req.request_id.clone(),
    }
}
