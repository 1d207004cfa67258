//! The thin layer between API Gateway v2 events and the routes: a parsed request and a response builder.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use http::{HeaderMap, HeaderValue, Method};

pub const JSON: &str = "application/json";
pub const JSON_API: &str = "application/vnd.api+json";

/// What the routes see of a request.
pub struct Request {
    pub method: Method,
    pub path: String,
    pub segments: Vec<String>,
    pub headers: HeaderMap,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub request_id: String,
    /// Scheme and host the client used, for absolute links.
    pub base_url: String,
    pub source_ip: Option<String>,
}

impl Request {
    pub fn from_event(event: ApiGatewayV2httpRequest) -> Result<Self, String> {
        let i = hw_apigw::Incoming::from_event(event)?;
        Ok(Self {
            method: i.method,
            path: i.path,
            segments: i.segments,
            request_id: i.request_id.unwrap_or_else(hw_domain::ids::new_id),
            base_url: i.origin,
            source_ip: i.source_ip,
            headers: i.headers,
            query: i.query,
            body: i.body,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Refuses (400 `unsupported-parameter`) the first query parameter `allowed` does not take.
    pub fn only_params(&self, allowed: &dyn Fn(&str) -> bool) -> Result<(), crate::error::ApiError> {
        match self.query.iter().find(|(k, _)| !allowed(k)) {
            None => Ok(()),
            Some((k, _)) => Err(crate::error::ApiError::new(
                400,
                "unsupported-parameter",
                "Unsupported query parameter",
                format!("`{k}` is not a query parameter of this endpoint"),
            )
            .with_parameter(k)),
        }
    }

    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// `page[size]`: `default` when absent, else a whole number from 1 to `max` (400 otherwise).
    pub fn page_size(&self, default: usize, max: usize) -> Result<usize, crate::error::ApiError> {
        match self.query_param("page[size]") {
            None => Ok(default),
            Some(s) => s.parse().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
                crate::error::ApiError::invalid_parameter("page[size]", format!("page[size] must be from 1 to {max}"))
            }),
        }
    }

    /// The media type of the body, lowercased, without parameters.
    pub fn content_type(&self) -> Option<(String, String)> {
        let raw = self.header("content-type")?;
        let (media, params) = raw.split_once(';').unwrap_or((raw, ""));
        Some((media.trim().to_ascii_lowercase(), params.trim().to_owned()))
    }

    /// `If-Match: "3"` (or `W/"3"`) as a version number; `*` means "any version", and so does an empty value (an
    /// empty list of entity tags, as clients send for "no condition").
    pub fn if_match(&self) -> Result<Option<u64>, crate::error::ApiError> {
        let bad =
            || crate::error::ApiError::bad_request("If-Match must be an ETag this API returned, e.g. \"3\", or *");
        let value = match self.headers.get("if-match") {
            None => return Ok(None),
            // Bytes that are not visible ASCII are no ETag of ours.
            Some(v) => v.to_str().map(str::trim).map_err(|_| bad())?,
        };
        if value == "*" || value.is_empty() {
            return Ok(None);
        }
        // An entity-tag is quoted (RFC 9110 §8.8.3); ours are decimal versions.
        let tag = value.strip_prefix("W/").unwrap_or(value);
        tag.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
            .map(Some)
            .ok_or_else(bad)
    }
}

/// A response under construction.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: None }
    }

    pub fn json(status: u16, content_type: &str, body: &serde_json::Value) -> Self {
        Self::new(status).header("content-type", content_type).body(body.to_string())
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn body(mut self, body: String) -> Self {
        self.body = Some(body);
        self
    }

    pub fn into_event(self) -> ApiGatewayV2httpResponse {
        let mut out = ApiGatewayV2httpResponse::default();
        out.status_code = self.status as i64;
        for (k, v) in self.headers {
            if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(k), HeaderValue::try_from(v)) {
                out.headers.append(name, value);
            }
        }
        out.body = self.body.map(Body::Text);
        out
    }
}
