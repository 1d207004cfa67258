//! The request and response shapes of the provider: an API Gateway v2 event read into what the endpoints look at
//! (path, query, form body, cookies, Basic credentials), and responses with the headers every answer carries.

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use http::{HeaderMap, HeaderValue};

pub struct Request {
    pub method: String,
    pub path: String,
    pub segments: Vec<String>,
    /// Query parameters; a parameter sent twice is kept twice, so the endpoints can refuse it (RFC 6749 §3.1).
    pub query: Vec<(String, String)>,
    /// The form body (`application/x-www-form-urlencoded`), empty for other bodies.
    pub form: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub headers: HeaderMap,
    pub cookies: HashMap<String, String>,
    pub source_ip: Option<String>,
    /// `{scheme}://{host}` as the request arrived.
    pub origin: String,
}

impl Request {
    pub fn from_event(event: ApiGatewayV2httpRequest) -> Result<Self, String> {
        let i = hw_apigw::Incoming::from_event(event)?;
        let content_type = i.headers.get("content-type").and_then(|h| h.to_str().ok()).map(str::to_owned);
        let is_form = content_type
            .as_deref()
            .and_then(|c| c.split(';').next())
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        let form = if is_form { pairs(&i.body) } else { Vec::new() };
        let cookies = i
            .cookies
            .iter()
            .filter_map(|c| c.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
            .collect();
        Ok(Self {
            method: i.method.to_string(),
            path: i.path,
            segments: i.segments,
            query: i.query,
            form,
            content_type,
            origin: i.origin,
            source_ip: i.source_ip,
            headers: i.headers,
            cookies,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

use hw_apigw::pairs;

/// Parameters of one request (query or form), with the RFC 6749 §3.1 rule that none may appear twice.
pub struct Params<'a>(pub &'a [(String, String)]);

impl<'a> Params<'a> {
    /// The parameter's value; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// The first parameter sent more than once.
    pub fn repeated(&self) -> Option<&'a str> {
        self.0
            .iter()
            .enumerate()
            .find(|(i, (k, _))| self.0[..*i].iter().any(|(seen, _)| seen == k))
            .map(|(_, (k, _))| k.as_str())
    }
}

pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub cookies: Vec<String>,
    pub body: String,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: String) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_str(content_type).expect("static content types"));
        Self { status, headers, cookies: Vec::new(), body }
    }

    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::new(status, "application/json", body.to_string())
    }

    /// A token-endpoint style answer: never cached (RFC 6749 §5.1).
    pub fn no_store(self) -> Self {
        self.header("cache-control", "no-store").header("pragma", "no-cache")
    }

    /// A page: HTML that must not be framed (clickjacking) or cached, and may load nothing but its own inline style.
    pub fn html(status: u16, body: String) -> Self {
        Self::new(status, "text/html; charset=utf-8", body)
            .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self' *; frame-ancestors 'none'; base-uri 'none'")
            .header("x-frame-options", "DENY")
            .header("referrer-policy", "no-referrer")
            .header("cache-control", "no-store")
    }

    pub fn redirect(location: &str) -> Self {
        Self::new(303, "text/plain; charset=utf-8", String::new())
            .header("location", location)
            .header("cache-control", "no-store")
    }

    pub fn header(mut self, name: &'static str, value: impl AsRef<str>) -> Self {
        if let Ok(v) = HeaderValue::from_str(value.as_ref()) {
            self.headers.insert(name, v);
        }
        self
    }

    pub fn cookie(mut self, cookie: String) -> Self {
        self.cookies.push(cookie);
        self
    }

    pub fn into_event(mut self, request_id: &str) -> ApiGatewayV2httpResponse {
        if let Ok(v) = HeaderValue::from_str(request_id) {
            self.headers.insert("x-request-id", v);
        }
        self.headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        let mut out = ApiGatewayV2httpResponse::default();
        out.status_code = i64::from(self.status);
        out.headers = self.headers;
        out.body = (!self.body.is_empty()).then_some(Body::Text(self.body));
        out.cookies = self.cookies;
        out
    }
}
