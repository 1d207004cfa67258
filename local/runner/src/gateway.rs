//! The local stand-in for API Gateway's HTTP API: turns each HTTP request into the same payload-2.0 event AWS
//! builds, routes it with the route keys of `resources.json`, and turns the function's answer back into HTTP.

use std::net::SocketAddr;
use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body as LambdaBody;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

/// API Gateway HTTP APIs accept payloads up to 10 MB.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

pub type HttpHandler =
    Arc<dyn Fn(ApiGatewayV2httpRequest) -> BoxFuture<'static, ApiGatewayV2httpResponse> + Send + Sync>;

/// One route: `METHOD /path` or `ANY /prefix/{proxy+}`.
pub struct Route {
    pub key: String,
    method: String,
    path: String,
    greedy: bool,
    pub handler: HttpHandler,
}

impl Route {
    pub fn new(key: &str, handler: HttpHandler) -> Self {
        let (method, path) = key.split_once(' ').expect("route keys are `METHOD /path`");
        let greedy = path.ends_with("/{proxy+}");
        let path = path.trim_end_matches("/{proxy+}").to_owned();
        Self { key: key.to_owned(), method: method.to_owned(), path, greedy, handler }
    }

    /// Sort key: API Gateway prefers exact routes, then the longest greedy prefix.
    pub fn specificity(&self) -> (bool, std::cmp::Reverse<usize>) {
        (self.greedy, std::cmp::Reverse(self.path.len()))
    }

    /// The `proxy` path parameter when the route matches.
    fn matches(&self, method: &str, path: &str) -> Option<Option<String>> {
        if self.method != "ANY" && self.method != method {
            return None;
        }
        if self.greedy {
            let rest = path.strip_prefix(&self.path)?.strip_prefix('/')?;
            (!rest.is_empty()).then(|| Some(rest.to_owned()))
        } else {
            (path == self.path).then_some(None)
        }
    }
}

pub struct Gateway {
    pub routes: Vec<Route>,
}

pub fn router(gateway: Arc<Gateway>) -> axum::Router {
    axum::Router::new().fallback(serve).with_state(gateway)
}

fn gateway_error(status: StatusCode, message: &str) -> Response {
    (status, [("content-type", "application/json")], json!({"message": message}).to_string()).into_response()
}

async fn serve(State(gw): State<Arc<Gateway>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let Some((route, proxy)) = gw.routes.iter().find_map(|r| r.matches(&method, &path).map(|p| (r, p))) else {
        return gateway_error(StatusCode::NOT_FOUND, "Not Found");
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_PAYLOAD_BYTES).await else {
        return gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let event = build_event(&route.key, &parts, &bytes, proxy, peer);
    let event: ApiGatewayV2httpRequest = match serde_json::from_value(event) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "could not build the API Gateway event");
            return gateway_error(StatusCode::BAD_REQUEST, "Bad Request");
        }
    };
    let handler = route.handler.clone();
    // A panicking function must not take the runner down: API Gateway answers 500 in that case.
    match tokio::spawn(async move { handler(event).await }).await {
        Ok(out) => into_http(out),
        Err(e) => {
            tracing::error!(error = %e, "function panicked");
            gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

fn is_textual(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return true };
    let ct = ct.to_ascii_lowercase();
    ct.starts_with("text/")
        || ct.contains("json")
        || ct.contains("xml")
        || ct.contains("x-www-form-urlencoded")
        || ct.contains("javascript")
}

fn build_event(
    route_key: &str,
    parts: &axum::http::request::Parts,
    body: &[u8],
    proxy: Option<String>,
    peer: SocketAddr,
) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == "cookie" {
            cookies.extend(v.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
            continue;
        }
        // API Gateway joins repeated headers with commas.
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => *existing = format!("{existing},{v}"),
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(v));
            }
        }
    }
    let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1").to_owned();
    headers.insert("x-forwarded-proto".into(), json!("http"));
    headers.insert("x-forwarded-for".into(), json!(peer.ip().to_string()));
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let mut qs: Map<String, Value> = Map::new();
    for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        match qs.get_mut(k.as_ref()) {
            Some(Value::String(existing)) => *existing = format!("{existing},{v}"),
            _ => {
                qs.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    let now = chrono::Utc::now();
    let user_agent = parts.headers.get("user-agent").and_then(|h| h.to_str().ok()).unwrap_or("").to_owned();
    let textual = is_textual(parts.headers.get("content-type").and_then(|h| h.to_str().ok()))
        && std::str::from_utf8(body).is_ok();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.uri.path(),
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": "local",
            "http": {
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "protocol": format!("{:?}", parts.version),
                "sourceIp": peer.ip().to_string(),
                "userAgent": user_agent,
            },
            "requestId": ulid::Ulid::new().to_string(),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": !textual && !body.is_empty(),
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !qs.is_empty() {
        event["queryStringParameters"] = Value::Object(qs);
    }
    if let Some(p) = proxy {
        event["pathParameters"] = json!({"proxy": p});
    }
    if !body.is_empty() {
        event["body"] = if textual {
            Value::String(String::from_utf8_lossy(body).into_owned())
        } else {
            Value::String(base64::engine::general_purpose::STANDARD.encode(body))
        };
    }
    event
}

fn into_http(out: ApiGatewayV2httpResponse) -> Response {
    let status = StatusCode::from_u16(out.status_code as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match out.body {
        None | Some(LambdaBody::Empty) => Vec::new(),
        Some(LambdaBody::Text(t)) if out.is_base64_encoded => {
            base64::engine::general_purpose::STANDARD.decode(t).unwrap_or_default()
        }
        Some(LambdaBody::Text(t)) => t.into_bytes(),
        Some(LambdaBody::Binary(b)) => b,
        Some(_) => Vec::new(),
    };
    let mut response = Response::builder().status(status).body(Body::from(body)).expect("valid response");
    let headers = response.headers_mut();
    for (name, value) in out.headers.iter().chain(out.multi_value_headers.iter()) {
        headers.append(name.clone(), value.clone());
    }
    for c in out.cookies {
        if let Ok(v) = HeaderValue::try_from(c) {
            headers.append("set-cookie", v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop() -> HttpHandler {
        Arc::new(|_| Box::pin(async { ApiGatewayV2httpResponse::default() }))
    }

    #[test]
    fn routes_match_like_api_gateway() {
        let proxy = Route::new("ANY /v1/{proxy+}", noop());
        assert_eq!(proxy.matches("POST", "/v1/data/contact"), Some(Some("data/contact".into())));
        assert_eq!(proxy.matches("GET", "/v1"), None);
        assert_eq!(proxy.matches("GET", "/v10/x"), None);
        let root = Route::new("ANY /{proxy+}", noop());
        assert_eq!(root.matches("GET", "/v2/models"), Some(Some("v2/models".into())));
        assert!(Route::new("GET /health", noop()).specificity() < proxy.specificity());
        assert!(proxy.specificity() < root.specificity());
        let health = Route::new("GET /health", noop());
        assert_eq!(health.matches("GET", "/health"), Some(None));
        assert_eq!(health.matches("POST", "/health"), None);
    }

    #[test]
    fn events_have_the_shape_of_api_gateway_payload_2() {
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/v1/data/contact?page%5Bsize%5D=2&a=1&a=2")
            .header("host", "127.0.0.1:8080")
            .header("content-type", "application/vnd.api+json")
            .header("cookie", "a=1; b=2")
            .body(())
            .unwrap();
        let (parts, _) = req.into_parts();
        let v = build_event(
            "ANY /v1/{proxy+}",
            &parts,
            br#"{"data":{}}"#,
            Some("data/contact".into()),
            "127.0.0.1:5000".parse().unwrap(),
        );
        let e: ApiGatewayV2httpRequest = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(e.request_context.http.method, http::Method::POST);
        assert_eq!(e.raw_query_string.as_deref(), Some("page%5Bsize%5D=2&a=1&a=2"));
        assert_eq!(v["queryStringParameters"]["a"], "1,2");
        assert_eq!(e.cookies, Some(vec!["a=1".to_owned(), "b=2".to_owned()]));
        assert_eq!(e.body.as_deref(), Some(r#"{"data":{}}"#));
        assert!(!e.is_base64_encoded);
        let binary = build_event("ANY /v1/{proxy+}", &parts, &[0xff, 0x00], None, "127.0.0.1:5000".parse().unwrap());
        assert_eq!(binary["isBase64Encoded"], true, "a body that is not UTF-8 travels base64-encoded");
    }
}
