//! What every HTTP function reads from an API Gateway v2 (payload format 2.0) event, decoded once the same way: the
//! method, the raw path and its percent-decoded segments, the query as ordered pairs (a parameter sent twice stays
//! twice), the body (base64 undone), and the origin the client used. Each function builds its own request view on
//! top of [`Incoming`].

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use base64::Engine as _;
use http::{HeaderMap, Method};

pub struct Incoming {
    pub method: Method,
    pub path: String,
    /// Path segments, percent-decoded.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub headers: HeaderMap,
    /// `Cookie` values as API Gateway hands them over (`name=value` each).
    pub cookies: Vec<String>,
    /// `{scheme}://{host}` as the request arrived (`X-Forwarded-Proto`, `Host`), for absolute links.
    pub origin: String,
    pub request_id: Option<String>,
    pub source_ip: Option<String>,
}

impl Incoming {
    /// Fails only when the body claims base64 and is not.
    pub fn from_event(event: ApiGatewayV2httpRequest) -> Result<Self, String> {
        let ctx = &event.request_context;
        let path = event.raw_path.clone().or_else(|| ctx.http.path.clone()).unwrap_or_else(|| "/".into());
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let body = match (&event.body, event.is_base64_encoded) {
            (None, _) => Vec::new(),
            (Some(b), false) => b.clone().into_bytes(),
            (Some(b), true) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|_| "the body is not valid base64".to_string())?,
        };
        let host = event
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| ctx.domain_name.clone())
            .unwrap_or_else(|| "localhost".into());
        let scheme = event.headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("https");
        Ok(Self {
            method: ctx.http.method.clone(),
            segments,
            query: pairs(event.raw_query_string.as_deref().unwrap_or("").as_bytes()),
            body,
            origin: format!("{scheme}://{host}"),
            request_id: ctx.request_id.clone(),
            source_ip: ctx.http.source_ip.clone(),
            cookies: event.cookies.clone().unwrap_or_default(),
            headers: event.headers,
            path,
        })
    }
}

/// `application/x-www-form-urlencoded` pairs, in order.
pub fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The credential a request carries: `Authorization: Bearer <secret>` or `X-Api-Key: <secret>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    Missing,
    /// Both headers, with different secrets: which one is meant is anyone's guess, so neither is used.
    Conflicting,
    /// From `Authorization: Bearer` (where access tokens come too).
    Bearer(&'a str),
    /// From `X-Api-Key` only.
    ApiKey(&'a str),
}

pub fn credential(headers: &HeaderMap) -> Credential<'_> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let bearer = header("authorization").and_then(|h| {
        let (scheme, token) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    match (bearer, header("x-api-key").map(str::trim)) {
        (Some(b), Some(k)) if b != k => Credential::Conflicting,
        (Some(b), _) => Credential::Bearer(b),
        (None, Some(k)) => Credential::ApiKey(k),
        (None, None) => Credential::Missing,
    }
}
