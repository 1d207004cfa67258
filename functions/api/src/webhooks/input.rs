//! Request bodies of the webhook routes: every member is checked and every problem reported at once, each with a
//! JSON pointer (422 `validation-failed`), so a client fixes a whole endpoint definition in one round.

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hw_domain::FieldError;
use hw_webhooks::catalog::pattern_matches_any;
use hw_webhooks::matching::{PayloadFilter, validate_pattern};
use hw_webhooks::policy::RetryPolicy;
use hw_webhooks::signing::{SECRET_PREFIX, decode_secret};
use hw_webhooks::target::TargetPolicy;
use hw_webhooks::{endpoint::MAX_TIMEOUT_SECONDS, template};
use serde_json::{Map, Value};

use crate::error::ApiError;

pub const MAX_ENDPOINTS: usize = 100;
pub const MAX_EVENT_TYPES: usize = 50;
pub const MAX_ENTITIES: usize = 100;
pub const MAX_HEADERS: usize = 20;
pub const MAX_HEADER_NAME: usize = 256;
pub const MAX_HEADER_VALUE: usize = 1024;
pub const MAX_DESCRIPTION: usize = 1000;
/// Largest payload filter, serialised (the endpoint is one storage item).
pub const MAX_FILTER_BYTES: usize = 16 * 1024;
pub const MAX_RATE_PER_SECOND: u64 = 10_000;
pub const MAX_CONCURRENCY: u64 = 1_000;
pub const MAX_DISABLE_AFTER_SECONDS: u64 = 30 * 24 * 3600;
pub const MAX_GRACE_SECONDS: u64 = 7 * 24 * 3600;
pub const DEFAULT_GRACE_SECONDS: u64 = 24 * 3600;
/// Longest caller-chosen secret (the Standard Webhooks range is 24 to 64 bytes).
pub const MAX_SECRET_BYTES: usize = 64;
/// Headers the platform sets on every request; endpoints cannot set them (nor any other `webhook-*`).
pub const SYSTEM_HEADERS: &[&str] =
    &["content-type", "content-length", "host", "user-agent", "connection", "transfer-encoding"];

/// Create or update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// The members a request sets; `Some(None)` clears a nullable setting.
#[derive(Debug, Default)]
pub struct Changes {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub entities: Option<Vec<String>>,
    pub payload_filter: Option<Option<Value>>,
    pub headers: Option<BTreeMap<String, String>>,
    pub transform: Option<Option<Value>>,
    pub enabled: Option<bool>,
    pub rate_limit_per_second: Option<Option<u32>>,
    pub max_concurrency: Option<Option<u32>>,
    pub timeout_seconds: Option<u32>,
    pub disable_after_seconds: Option<u64>,
    pub retry_policy: Option<RetryPolicy>,
    /// Create only: a caller-chosen secret, normalised to `whsec_<base64>`.
    pub secret: Option<String>,
}

/// Collects the problems of one body.
#[derive(Default)]
struct Check {
    errors: Vec<FieldError>,
}

fn pointer(key: &str) -> String {
    format!("/{}", key.replace('~', "~0").replace('/', "~1"))
}

impl Check {
    fn fail(&mut self, at: impl Into<String>, code: &'static str, detail: impl Into<String>) {
        self.errors.push(FieldError::new(at, code, detail));
    }

    fn string<'v>(&mut self, at: &str, v: &'v Value) -> Option<&'v str> {
        let s = v.as_str();
        if s.is_none() {
            self.fail(at, "invalid-type", "must be a string");
        }
        s
    }

    fn array<'v>(&mut self, at: &str, v: &'v Value) -> Option<&'v Vec<Value>> {
        let a = v.as_array();
        if a.is_none() {
            self.fail(at, "invalid-type", "must be an array");
        }
        a
    }

    /// A whole number in `min..=max` (integral floats such as `3.0` count).
    fn integer(&mut self, at: &str, v: &Value, min: u64, max: u64) -> Option<u64> {
        let whole = match (v.as_u64(), v.as_f64()) {
            (Some(n), _) => Some(n as f64),
            (None, Some(f)) if f.fract() == 0.0 => Some(f),
            _ => None,
        };
        match whole {
            None => self.fail(at, "invalid-type", "must be an integer"),
            Some(f) if f < min as f64 || f > max as f64 => {
                self.fail(at, "out-of-range", format!("must be between {min} and {max}"))
            }
            Some(_) => return v.as_u64().or_else(|| v.as_f64().map(|f| f as u64)),
        }
        None
    }

    fn not_null(&mut self, at: &str, v: &Value) -> bool {
        if v.is_null() {
            self.fail(at, "invalid-type", "must not be null");
        }
        !v.is_null()
    }

    fn into_result<T>(self, value: T) -> Result<T, ApiError> {
        if self.errors.is_empty() { Ok(value) } else { Err(ApiError::invalid(self.errors)) }
    }
}

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::invalid(vec![FieldError::new("", "invalid-type", "the body must be a JSON object")]))
}

/// Checks an endpoint definition (create) or a partial one (update). The URL is resolved, so this may wait for DNS.
pub async fn endpoint(body: &Value, mode: Mode, policy: &TargetPolicy) -> Result<Changes, ApiError> {
    let members = object(body)?;
    let mut c = Check::default();
    let mut out = Changes::default();
    for (key, v) in members {
        let at = pointer(key);
        let at = at.as_str();
        match key.as_str() {
            "url" => {
                if let Some(s) = c.string(at, v) {
                    match policy.validate_url(s) {
                        Err(e) => c.fail(at, "invalid-url", e.to_string()),
                        Ok(url) => match policy.check_resolution(&url).await {
                            Err(e) => c.fail(at, "invalid-url", e.to_string()),
                            Ok(()) => out.url = Some(s.trim().to_owned()),
                        },
                    }
                }
            }
            "description" => {
                if let Some(s) = c.string(at, v) {
                    if s.chars().count() > MAX_DESCRIPTION {
                        c.fail(at, "too-long", format!("at most {MAX_DESCRIPTION} characters"));
                    } else {
                        out.description = Some(s.to_owned());
                    }
                }
            }
            "event_types" => out.event_types = event_types(&mut c, at, v),
            "entities" => out.entities = entities(&mut c, at, v),
            "payload_filter" => out.payload_filter = payload_filter(&mut c, at, v),
            "headers" => out.headers = headers(&mut c, at, v),
            "transform" => {
                if v.is_null() {
                    out.transform = Some(None);
                } else if let Err(errors) = template::validate(v) {
                    for (loc, message) in errors {
                        c.fail(format!("{at}{loc}"), "invalid-template", message);
                    }
                } else {
                    out.transform = Some(Some(v.clone()));
                }
            }
            "enabled" => match v.as_bool() {
                Some(b) => out.enabled = Some(b),
                None => c.fail(at, "invalid-type", "must be true or false"),
            },
            "rate_limit_per_second" => {
                if v.is_null() {
                    out.rate_limit_per_second = Some(None);
                } else if let Some(n) = c.integer(at, v, 1, MAX_RATE_PER_SECOND) {
                    out.rate_limit_per_second = Some(Some(n as u32));
                }
            }
            "max_concurrency" => {
                if v.is_null() {
                    out.max_concurrency = Some(None);
                } else if let Some(n) = c.integer(at, v, 1, MAX_CONCURRENCY) {
                    out.max_concurrency = Some(Some(n as u32));
                }
            }
            "timeout_seconds" => {
                if c.not_null(at, v) {
                    out.timeout_seconds = c.integer(at, v, 1, MAX_TIMEOUT_SECONDS.into()).map(|n| n as u32);
                }
            }
            "disable_after_seconds" => {
                if c.not_null(at, v) {
                    out.disable_after_seconds = c.integer(at, v, 0, MAX_DISABLE_AFTER_SECONDS);
                }
            }
            "retry_policy" => out.retry_policy = retry_policy(&mut c, at, v),
            "secret" if mode == Mode::Create => out.secret = secret(&mut c, at, v),
            "secret" => c.fail(
                at,
                "unknown-field",
                "the secret cannot be changed here; use POST /v1/webhooks/{id}/rotate-secret",
            ),
            other => c.fail(at, "unknown-field", format!("`{other}` is not a member of a webhook endpoint")),
        }
    }
    if mode == Mode::Create {
        for required in ["url", "event_types"] {
            if !members.contains_key(required) {
                c.fail(pointer(required), "required", "is required");
            }
        }
    }
    c.into_result(out)
}

fn event_types(c: &mut Check, at: &str, v: &Value) -> Option<Vec<String>> {
    let items = c.array(at, v)?;
    if items.is_empty() {
        c.fail(at, "required", "subscribe to at least one event type (`*` for all); see GET /v1/event-types");
        return None;
    }
    if items.len() > MAX_EVENT_TYPES {
        c.fail(at, "too-many", format!("at most {MAX_EVENT_TYPES} patterns"));
        return None;
    }
    let before = c.errors.len();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let here = format!("{at}/{i}");
        let Some(p) = c.string(&here, item) else { continue };
        if let Err(e) = validate_pattern(p) {
            c.fail(here, "invalid-pattern", e);
        } else if !pattern_matches_any(p) {
            c.fail(here, "unknown-event-type", format!("`{p}` matches no event type; see GET /v1/event-types"));
        } else {
            out.push(p.to_owned());
        }
    }
    (c.errors.len() == before).then_some(out)
}

fn entities(c: &mut Check, at: &str, v: &Value) -> Option<Vec<String>> {
    let items = c.array(at, v)?;
    if items.len() > MAX_ENTITIES {
        c.fail(at, "too-many", format!("at most {MAX_ENTITIES} entities"));
        return None;
    }
    let before = c.errors.len();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let here = format!("{at}/{i}");
        let Some(name) = c.string(&here, item) else { continue };
        if hw_domain::model::is_valid_name(name) {
            out.push(name.to_owned());
        } else {
            c.fail(here, "invalid-name", format!("`{name}` is not a model name (lowercase letters, digits, `_`)"));
        }
    }
    (c.errors.len() == before).then_some(out)
}

fn payload_filter(c: &mut Check, at: &str, v: &Value) -> Option<Option<Value>> {
    if v.is_null() {
        return Some(None);
    }
    let size = serde_json::to_vec(v).map_or(usize::MAX, |b| b.len());
    if size > MAX_FILTER_BYTES {
        c.fail(at, "too-long", format!("the filter is {size} bytes long; at most {MAX_FILTER_BYTES} are allowed"));
        return None;
    }
    match PayloadFilter::parse(v) {
        Ok(_) => Some(Some(v.clone())),
        Err(errors) => {
            for (loc, message) in errors {
                c.fail(format!("{at}{loc}"), "invalid-filter", message);
            }
            None
        }
    }
}

/// An HTTP token (RFC 9110 §5.6.2), the grammar of header names.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn headers(c: &mut Check, at: &str, v: &Value) -> Option<BTreeMap<String, String>> {
    let Some(members) = v.as_object() else {
        c.fail(at, "invalid-type", "must be an object of header names to values");
        return None;
    };
    if members.len() > MAX_HEADERS {
        c.fail(at, "too-many", format!("at most {MAX_HEADERS} headers"));
        return None;
    }
    let before = c.errors.len();
    let mut out = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for (name, value) in members {
        let here = format!("{at}{}", pointer(name));
        let lower = name.to_ascii_lowercase();
        if !is_token(name) || name.len() > MAX_HEADER_NAME {
            c.fail(&here, "invalid-header", format!("a header name is 1 to {MAX_HEADER_NAME} token characters"));
        } else if SYSTEM_HEADERS.contains(&lower.as_str()) || lower.starts_with("webhook-") {
            c.fail(&here, "reserved-header", format!("`{name}` is set by the platform and cannot be overridden"));
        } else if !seen.insert(lower) {
            c.fail(&here, "invalid-header", format!("`{name}` is given twice (header names are case-insensitive)"));
        }
        let Some(text) = c.string(&here, value) else { continue };
        if text.chars().any(|ch| (ch.is_ascii_control() && ch != '\t') || ch == '\u{7f}') {
            c.fail(&here, "invalid-header", "a header value cannot contain line breaks or other control characters");
        } else if text.chars().count() > MAX_HEADER_VALUE {
            c.fail(&here, "too-long", format!("a header value has at most {MAX_HEADER_VALUE} characters"));
        } else {
            out.insert(name.clone(), text.to_owned());
        }
    }
    (c.errors.len() == before).then_some(out)
}

fn retry_policy(c: &mut Check, at: &str, v: &Value) -> Option<RetryPolicy> {
    match serde_json::from_value::<RetryPolicy>(v.clone()) {
        Err(e) => {
            c.fail(
                at,
                "invalid-retry-policy",
                format!("expected {{\"strategy\": \"standard\" | \"exponential\", ...}}: {e}"),
            );
            None
        }
        Ok(p) => {
            let problems = p.problems();
            for (field, message) in &problems {
                c.fail(format!("{at}/{field}"), "out-of-range", message.clone());
            }
            problems.is_empty().then_some(p)
        }
    }
}

/// A caller-chosen signing secret, normalised to `whsec_<base64>`.
fn secret(c: &mut Check, at: &str, v: &Value) -> Option<String> {
    let s = c.string(at, v)?;
    match decode_secret(s) {
        Err(e) => c.fail(at, "invalid-secret", e.to_string()),
        Ok(bytes) if bytes.len() > MAX_SECRET_BYTES => {
            c.fail(at, "invalid-secret", format!("the secret has {} bytes; at most {MAX_SECRET_BYTES}", bytes.len()))
        }
        Ok(bytes) => {
            return Some(format!("{SECRET_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(bytes)));
        }
    }
    None
}

/// The body of `POST /v1/webhooks/{id}/rotate-secret`.
#[derive(Debug, Default)]
pub struct Rotation {
    pub grace_period_seconds: Option<u64>,
    pub secret: Option<String>,
}

pub fn rotation(body: &Value) -> Result<Rotation, ApiError> {
    let members = object(body)?;
    let mut c = Check::default();
    let mut out = Rotation::default();
    for (key, v) in members {
        let at = pointer(key);
        match key.as_str() {
            "grace_period_seconds" => {
                if c.not_null(&at, v) {
                    out.grace_period_seconds = c.integer(&at, v, 0, MAX_GRACE_SECONDS);
                }
            }
            "secret" => out.secret = secret(&mut c, &at, v),
            other => {
                c.fail(at, "unknown-field", format!("`{other}` is not a member; use grace_period_seconds, secret"))
            }
        }
    }
    c.into_result(out)
}

/// The body of `POST /v1/webhooks/{id}/replay`: the window of event times, `until` excluded.
pub fn replay(body: &Value) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>), ApiError> {
    let members = object(body)?;
    let mut c = Check::default();
    let (mut since, mut until) = (None, None);
    for (key, v) in members {
        let at = pointer(key);
        match key.as_str() {
            "since" | "until" => {
                let Some(s) = c.string(&at, v) else { continue };
                match DateTime::parse_from_rfc3339(s) {
                    Ok(t) if key == "since" => since = Some(t.with_timezone(&Utc)),
                    Ok(t) => until = Some(t.with_timezone(&Utc)),
                    Err(_) => c.fail(at, "invalid-format", "must be an RFC 3339 date-time, e.g. 2026-11-25T00:00:00Z"),
                }
            }
            other => c.fail(at, "unknown-field", format!("`{other}` is not a member; use since, until")),
        }
    }
    if !members.contains_key("since") {
        c.fail("/since", "required", "is required");
    }
    if let (Some(s), Some(u)) = (since, until)
        && u <= s
    {
        c.fail("/until", "out-of-range", "must be after `since`");
    }
    c.into_result(())?;
    Ok((since.expect("checked"), until))
}
