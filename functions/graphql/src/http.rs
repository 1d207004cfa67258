//! GraphQL over HTTP (the GraphQL-over-HTTP draft, checked by the `graphql-http` audit): media types, GET and
//! POST parameters, and the status code of each outcome. async-graphql's stock integrations answer
//! `application/json` whatever the client accepts; this adapter negotiates instead.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use http::{HeaderMap, HeaderValue, Method};
use serde_json::{Map, Value, json};

/// Largest request accepted: a document with its variables. Larger ones are refused with 413 before parsing.
pub const MAX_BODY_BYTES: usize = 1 << 20;

pub const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
pub const JSON: &str = "application/json";

/// The response media type the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`: request errors get 4xx and no `data` entry.
    GraphqlResponse,
    /// `application/json` (legacy): every GraphQL outcome is 200.
    Json,
}

impl MediaType {
    fn content_type(self) -> &'static str {
        match self {
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response type from `Accept`: the acceptable type with the highest `q` (ties prefer
/// `application/graphql-response+json`); `*/*` and `application/*` get `application/json`; no header means
/// `application/json`. `None` when nothing we produce is acceptable (406).
pub fn negotiate(accept: Option<&str>) -> Option<MediaType> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else { return Some(MediaType::Json) };
    let mut best: Option<(f32, u8, MediaType)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let ty = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut q = 1.0f32;
        let mut charset_ok = true;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "q" => q = v.trim().parse().unwrap_or(0.0),
                    "charset" => charset_ok = v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8"),
                    _ => {}
                }
            }
        }
        let candidate = match ty.as_str() {
            GRAPHQL_RESPONSE => (2, MediaType::GraphqlResponse),
            JSON => (1, MediaType::Json),
            "*/*" | "application/*" => (0, MediaType::Json),
            _ => continue,
        };
        if q <= 0.0 || !charset_ok {
            continue;
        }
        if best.is_none_or(|(bq, bp, _)| q > bq || (q == bq && candidate.0 > bp)) {
            best = Some((q, candidate.0, candidate.1));
        }
    }
    best.map(|(_, _, m)| m)
}

/// What the handler sees of the HTTP request.
pub struct HttpRequest {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub base_url: String,
}

impl HttpRequest {
    pub fn from_event(event: ApiGatewayV2httpRequest) -> Result<Self, String> {
        let i = hw_apigw::Incoming::from_event(event)?;
        Ok(Self {
            method: i.method,
            path: i.path,
            headers: i.headers,
            query: i.query,
            body: i.body,
            base_url: i.origin,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The GraphQL parameters of a request: `query`, `operationName`, `variables`, `extensions`.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: Map<String, Value>,
    pub extensions: Map<String, Value>,
}

/// Why a request never reached the GraphQL engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
    pub code: &'static str,
    pub allow: Option<&'static str>,
}

impl Refusal {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), allow: None }
    }
}

/// Reads the parameters of a GET (query string) or POST (`application/json` body).
pub fn params(req: &HttpRequest) -> Result<Params, Refusal> {
    let bad = |m: String| Refusal::new(400, "BAD_REQUEST", m);
    match req.method {
        Method::GET => {
            let query = req.param("query").ok_or_else(|| bad("a GET needs the `query` parameter".into()))?;
            let json_param = |name: &str| -> Result<Map<String, Value>, Refusal> {
                match req.param(name).filter(|v| !v.is_empty()) {
                    None => Ok(Map::new()),
                    Some(raw) => match serde_json::from_str::<Value>(raw) {
                        Ok(Value::Object(m)) => Ok(m),
                        Ok(Value::Null) => Ok(Map::new()),
                        _ => Err(bad(format!("`{name}` must be a JSON object"))),
                    },
                }
            };
            Ok(Params {
                query: query.to_owned(),
                operation_name: req.param("operationName").filter(|v| !v.is_empty()).map(str::to_owned),
                variables: json_param("variables")?,
                extensions: json_param("extensions")?,
            })
        }
        Method::POST => {
            let content_type = req.header("content-type").unwrap_or("");
            let mut parts = content_type.split(';').map(str::trim);
            let essence = parts.next().unwrap_or("").to_ascii_lowercase();
            let charset_ok = parts.all(|p| match p.split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("charset") => {
                    v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
                }
                _ => true,
            });
            if essence != JSON || !charset_ok {
                return Err(Refusal::new(
                    415,
                    "UNSUPPORTED_MEDIA_TYPE",
                    "send the request as `Content-Type: application/json` (UTF-8)",
                ));
            }
            if req.body.is_empty() {
                return Err(bad("a POST needs a JSON body with `query`".into()));
            }
            if req.body.len() > MAX_BODY_BYTES {
                return Err(Refusal::new(
                    413,
                    "PAYLOAD_TOO_LARGE",
                    format!("the request is over {MAX_BODY_BYTES} bytes"),
                ));
            }
            let body: Value =
                serde_json::from_slice(&req.body).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
            let Value::Object(mut body) = body else { return Err(bad("the body must be a JSON object".into())) };
            let query = match body.remove("query") {
                Some(Value::String(q)) => q,
                Some(_) => return Err(bad("`query` must be a string".into())),
                None => return Err(bad("the body has no `query`".into())),
            };
            let operation_name = match body.remove("operationName") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s),
                Some(_) => return Err(bad("`operationName` must be a string".into())),
            };
            let mut map = |name: &str| match body.remove(name) {
                None | Some(Value::Null) => Ok(Map::new()),
                Some(Value::Object(m)) => Ok(m),
                Some(_) => Err(bad(format!("`{name}` must be an object"))),
            };
            Ok(Params { query, operation_name, variables: map("variables")?, extensions: map("extensions")? })
        }
        _ => Err(Refusal { allow: Some("GET, POST"), ..Refusal::new(405, "METHOD_NOT_ALLOWED", "use GET or POST") }),
    }
}

/// A GraphQL-shaped answer with the negotiated content type.
pub fn graphql_response(status: u16, media: MediaType, body: &Value) -> ApiGatewayV2httpResponse {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static(media.content_type()));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    headers.insert("vary", HeaderValue::from_static("accept"));
    response(status, headers, Body::Text(body.to_string()))
}

fn response(status: u16, headers: HeaderMap, body: Body) -> ApiGatewayV2httpResponse {
    let mut res = ApiGatewayV2httpResponse::default();
    res.status_code = status as i64;
    res.headers = headers;
    res.body = Some(body);
    res
}

/// A refusal as a GraphQL error list (no `data` entry: the request never executed).
pub fn refusal(r: &Refusal, media: MediaType) -> ApiGatewayV2httpResponse {
    let body = json!({"errors": [{"message": r.message, "extensions": {"code": r.code}}]});
    let mut res = graphql_response(r.status, media, &body);
    if let Some(allow) = r.allow {
        res.headers.insert("allow", HeaderValue::from_static(allow));
    }
    res
}

/// A text answer (the GraphiQL page and its assets).
pub fn text(
    status: u16,
    content_type: &'static str,
    body: &str,
    extra: &[(&'static str, &'static str)],
) -> ApiGatewayV2httpResponse {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static(content_type));
    for (k, v) in extra {
        headers.insert(*k, HeaderValue::from_static(v));
    }
    response(status, headers, Body::Text(body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        assert_eq!(negotiate(None), Some(MediaType::Json));
        assert_eq!(negotiate(Some("*/*")), Some(MediaType::Json));
        assert_eq!(negotiate(Some("application/graphql-response+json")), Some(MediaType::GraphqlResponse));
        assert_eq!(
            negotiate(Some("application/json;q=0.9, application/graphql-response+json")),
            Some(MediaType::GraphqlResponse)
        );
        assert_eq!(negotiate(Some("application/graphql-response+json;q=0.5, application/json")), Some(MediaType::Json));
        assert_eq!(negotiate(Some("application/json; charset=utf-8")), Some(MediaType::Json));
        assert_eq!(negotiate(Some("application/json; charset=iso-8859-1")), None);
        assert_eq!(negotiate(Some("text/plain")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }
}
