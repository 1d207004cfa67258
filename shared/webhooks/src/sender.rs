//! One HTTP attempt of a delivery, and what its outcome means. The sender is built once per process (connection
//! pools survive between invocations), never follows redirects (a redirect could point at an internal address, and
//! receivers must answer the URL they registered), resolves names through the `GuardedResolver`, keeps only the
//! first bytes of a response for the delivery log, and turns every failure into a short sentence a tenant can act
//! on instead of an error chain.

use std::collections::BTreeMap;
use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use crate::target::{GuardedResolver, TargetError, TargetPolicy};

/// The most response bytes kept for the delivery log.
pub const MAX_RESPONSE_BODY_BYTES: usize = 4096;
pub const USER_AGENT: &str = "HubbleWave-Webhooks/1.0";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request was not sent at all.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("invalid header `{name}`: {reason}")]
    Header { name: String, reason: String },
    #[error("the request could not be built: {0}")]
    Build(String),
}

/// One request to make.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRequest {
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// For the whole attempt: connecting, sending and reading the response.
    pub timeout: Duration,
}

/// What came back (or why nothing did).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    pub status: Option<u16>,
    /// The first `MAX_RESPONSE_BODY_BYTES` of the body, lossily decoded as UTF-8.
    pub body: Option<String>,
    pub retry_after: Option<String>,
    pub error: Option<String>,
    pub duration: Duration,
}

/// What an attempt means for its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// 410 Gone: the receiver asks us to stop; the endpoint is disabled.
    Gone,
    /// The receiver asked for a pause (429 or 503 with `Retry-After`).
    RetryAfter(Duration),
    /// Try again on the retry policy's schedule.
    Retry,
}

/// 2xx delivers; 410 is gone; 429 and 503 with a usable `Retry-After` pause; everything else (redirects included)
/// is retried.
pub fn verdict(r: &Response, now: chrono::DateTime<chrono::Utc>) -> Verdict {
    match r.status {
        Some(200..=299) => Verdict::Delivered,
        Some(410) => Verdict::Gone,
        Some(429 | 503) => match r.retry_after.as_deref().and_then(|v| crate::policy::retry_after(v, now)) {
            Some(wait) => Verdict::RetryAfter(wait),
            None => Verdict::Retry,
        },
        _ => Verdict::Retry,
    }
}

pub struct Sender {
    client: reqwest::Client,
    policy: TargetPolicy,
}

fn client(resolver: GuardedResolver) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(resolver))
        // A proxy would resolve names itself, out of the guarded resolver's reach.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .build()
        .expect("the HTTP client builds (rustls with bundled roots, no files to read)")
}

impl Sender {
    pub fn new(policy: TargetPolicy) -> Sender {
        Sender { client: client(GuardedResolver::new(policy)), policy }
    }

    /// Makes one POST. Never fails and never panics: problems are described in `Response::error`.
    pub async fn send(&self, req: &OutboundRequest) -> Response {
        let started = Instant::now();
        let mut response = Response::default();
        match self.prepare(req) {
            Err(e) => response.error = Some(e.to_string()),
            Ok(request) => match tokio::time::timeout(req.timeout, self.exchange(request, &mut response)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => response.error = Some(describe(&e, req.timeout)),
                Err(_) => response.error = Some(timed_out(req.timeout)),
            },
        }
        response.duration = started.elapsed();
        response
    }

    fn prepare(&self, req: &OutboundRequest) -> Result<reqwest::Request, SendError> {
        // IP literals never reach the resolver, so the policy is applied here as well.
        let url = self.policy.validate_url(&req.url)?;
        let mut headers = HeaderMap::new();
        for (name, value) in &req.headers {
            let header = |reason: String| SendError::Header { name: name.clone(), reason };
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| header(e.to_string()))?;
            let v = HeaderValue::from_str(value).map_err(|e| header(e.to_string()))?;
            headers.insert(n, v);
        }
        if !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let built = self.client.post(url).headers(headers).body(req.body.clone()).timeout(req.timeout).build();
        built.map_err(|e| SendError::Build(e.to_string()))
    }

    async fn exchange(&self, request: reqwest::Request, out: &mut Response) -> Result<(), reqwest::Error> {
        let mut resp = self.client.execute(request).await?;
        out.status = Some(resp.status().as_u16());
        out.retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut body = Vec::new();
        let read = async {
            while body.len() < MAX_RESPONSE_BODY_BYTES {
                match resp.chunk().await? {
                    Some(chunk) => body.extend_from_slice(&chunk),
                    None => break,
                }
            }
            Ok::<_, reqwest::Error>(())
        }
        .await;
        body.truncate(MAX_RESPONSE_BODY_BYTES);
        out.body = Some(String::from_utf8_lossy(&body).into_owned());
        read
    }
}

fn timed_out(timeout: Duration) -> String {
    let secs = timeout.as_secs_f64();
    if secs.fract() == 0.0 { format!("timed out after {secs:.0} s") } else { format!("timed out after {secs:.1} s") }
}

/// A short sentence for a failed request, from reqwest's classification and the error's source chain.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return timed_out(timeout);
    }
    let mut chain: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    let mut next = e.source();
    while let Some(err) = next {
        chain.push(err);
        next = err.source();
    }
    for err in &chain {
        let target = err.downcast_ref::<TargetError>().or_else(|| {
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|i| i.downcast_ref::<TargetError>())
        });
        if let Some(t) = target {
            return t.to_string();
        }
    }
    let innermost = chain.last().map(|e| e.to_string()).unwrap_or_else(|| e.to_string());
    for err in &chain {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionRefused => return "connection refused".into(),
                ConnectionReset | ConnectionAborted | UnexpectedEof | BrokenPipe => {
                    return "connection closed before a response".into();
                }
                TimedOut => return timed_out(timeout),
                _ => {}
            }
        }
    }
    let messages: Vec<String> = chain.iter().map(|e| e.to_string().to_ascii_lowercase()).collect();
    if messages.iter().any(|m| m.contains("connection closed") || m.contains("incomplete message")) {
        return "connection closed before a response".into();
    }
    if messages.iter().any(|m| m == "dns error") {
        return format!("dns: {innermost}");
    }
    if messages.iter().any(|m| m.contains("certificate") || m.contains("tls") || m.contains("handshake")) {
        return format!("tls: {innermost}");
    }
    if e.is_connect() {
        return format!("connection failed: {innermost}");
    }
    format!("request failed: {innermost}")
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    const LOCAL: TargetPolicy = TargetPolicy { allow_private: true };
    const STRICT: TargetPolicy = TargetPolicy { allow_private: false };

    #[derive(Clone)]
    enum Behaviour {
        Reply(String),
        Silent,
        Close,
    }

    #[derive(Default)]
    struct Seen {
        connections: AtomicUsize,
        requests: Mutex<Vec<String>>,
    }

    /// A one-purpose HTTP/1.1 server on 127.0.0.1 that records what it receives.
    async fn serve(behaviour: Behaviour) -> (SocketAddr, Arc<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let s = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                s.connections.fetch_add(1, Ordering::SeqCst);
                let (s, behaviour) = (s.clone(), behaviour.clone());
                tokio::spawn(async move {
                    let request = read_request(&mut stream).await;
                    s.requests.lock().unwrap().push(request);
                    match behaviour {
                        Behaviour::Reply(raw) => {
                            let _ = stream.write_all(raw.as_bytes()).await;
                            let _ = stream.shutdown().await;
                        }
                        Behaviour::Silent => tokio::time::sleep(Duration::from_secs(60)).await,
                        Behaviour::Close => drop(stream),
                    }
                });
            }
        });
        (addr, seen)
    }

    async fn read_request(stream: &mut TcpStream) -> String {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + length {
                    return text;
                }
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return String::from_utf8_lossy(&buf).to_string(),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    fn reply(status: &str, extra_headers: &str, body: &str) -> Behaviour {
        Behaviour::Reply(format!(
            "HTTP/1.1 {status}\r\n{extra_headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ))
    }

    fn request(url: String) -> OutboundRequest {
        let headers = BTreeMap::from([("webhook-id".to_owned(), "msg_1".to_owned())]);
        OutboundRequest { url, headers, body: r#"{"hello":"world"}"#.into(), timeout: Duration::from_secs(5) }
    }

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc()
    }

    #[tokio::test]
    async fn a_success_is_delivered_and_its_body_is_truncated() {
        let (addr, seen) = serve(reply("200 OK", "", &"a".repeat(10 * 1024))).await;
        let r = Sender::new(LOCAL).send(&request(format!("http://{addr}/hook"))).await;
        assert_eq!((r.status, r.error.as_deref()), (Some(200), None));
        assert_eq!(r.body.as_deref().map(str::len), Some(MAX_RESPONSE_BODY_BYTES));
        assert_eq!(verdict(&r, now()), Verdict::Delivered);
        let sent = seen.requests.lock().unwrap()[0].to_ascii_lowercase();
        assert!(sent.starts_with("post /hook http/1.1"), "{sent}");
        for expected in ["user-agent: hubblewave-webhooks/1.0", "webhook-id: msg_1", "content-type: application/json"] {
            assert!(sent.contains(expected), "{expected} missing from {sent}");
        }
        assert!(sent.ends_with(r#"{"hello":"world"}"#), "{sent}");
    }

    #[tokio::test]
    async fn statuses_give_their_verdicts() {
        let cases = [
            (reply("500 Internal Server Error", "", "oops"), 500, Verdict::Retry),
            (
                reply("429 Too Many Requests", "retry-after: 3\r\n", ""),
                429,
                Verdict::RetryAfter(Duration::from_secs(3)),
            ),
            (reply("503 Service Unavailable", "retry-after: later\r\n", ""), 503, Verdict::Retry),
            (reply("410 Gone", "", ""), 410, Verdict::Gone),
            (reply("204 No Content", "", ""), 204, Verdict::Delivered),
        ];
        let sender = Sender::new(LOCAL);
        for (behaviour, status, expected) in cases {
            let (addr, _) = serve(behaviour).await;
            let r = sender.send(&request(format!("http://{addr}/"))).await;
            assert_eq!(r.status, Some(status), "{r:?}");
            assert_eq!(verdict(&r, now()), expected, "{r:?}");
        }
        let (addr, _) = serve(reply("500 Internal Server Error", "", "oops")).await;
        assert_eq!(sender.send(&request(format!("http://{addr}/"))).await.body.as_deref(), Some("oops"));
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let (addr, seen) = serve(reply("302 Found", "location: /elsewhere\r\n", "")).await;
        let r = Sender::new(LOCAL).send(&request(format!("http://{addr}/hook"))).await;
        assert_eq!(r.status, Some(302));
        assert_eq!(verdict(&r, now()), Verdict::Retry);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(seen.requests.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_silent_server_times_out_within_the_timeout() {
        let (addr, _) = serve(Behaviour::Silent).await;
        let req = OutboundRequest { timeout: Duration::from_secs(1), ..request(format!("http://{addr}/")) };
        let r = Sender::new(LOCAL).send(&req).await;
        assert_eq!(r.error.as_deref(), Some("timed out after 1 s"), "{r:?}");
        assert!(r.duration >= Duration::from_millis(900) && r.duration < Duration::from_secs(3), "{r:?}");
        assert_eq!((r.status, verdict(&r, now())), (None, Verdict::Retry));
    }

    #[tokio::test]
    async fn a_closed_connection_is_an_error() {
        let (addr, seen) = serve(Behaviour::Close).await;
        let r = Sender::new(LOCAL).send(&request(format!("http://{addr}/"))).await;
        assert_eq!(r.error.as_deref(), Some("connection closed before a response"), "{r:?}");
        assert_eq!((r.status, verdict(&r, now())), (None, Verdict::Retry));
        assert!(seen.connections.load(Ordering::SeqCst) >= 1);
    }

    #[tokio::test]
    async fn a_refused_connection_is_described() {
        let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        let r = Sender::new(LOCAL).send(&request(format!("http://127.0.0.1:{port}/"))).await;
        assert_eq!(r.error.as_deref(), Some("connection refused"), "{r:?}");
    }

    #[tokio::test]
    async fn the_strict_policy_refuses_internal_targets_without_connecting() {
        let (addr, seen) = serve(reply("200 OK", "", "")).await;
        let sender = Sender::new(STRICT);
        let r = sender.send(&request(format!("http://{addr}/"))).await;
        assert!(r.error.as_deref().unwrap().contains("must use https"), "{r:?}");
        let r = sender.send(&request(format!("https://{addr}/"))).await;
        assert!(r.error.as_deref().unwrap().starts_with("target address not allowed: 127.0.0.1"), "{r:?}");
        assert_eq!(verdict(&r, now()), Verdict::Retry);
        // a name that passed validation but resolves to a forbidden address is stopped by the resolver
        let rebinding = Sender { client: client(GuardedResolver::new(STRICT)), policy: LOCAL };
        let r = rebinding.send(&request(format!("http://localhost:{}/", addr.port()))).await;
        assert!(r.error.as_deref().unwrap().starts_with("target address not allowed"), "{r:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(seen.connections.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn bad_headers_and_names_are_described() {
        let mut req = request("http://127.0.0.1:9/".into());
        req.headers.insert("bad header".into(), "x".into());
        let r = Sender::new(LOCAL).send(&req).await;
        assert!(r.error.as_deref().unwrap().starts_with("invalid header `bad header`"), "{r:?}");
        let r = Sender::new(LOCAL).send(&request("http://no-such-receiver.invalid/".into())).await;
        assert!(r.error.as_deref().unwrap().starts_with("dns: "), "{r:?}");
    }

    #[test]
    fn verdicts_without_a_server() {
        let response = |status: Option<u16>, retry_after: Option<&str>| Response {
            status,
            retry_after: retry_after.map(str::to_owned),
            ..Response::default()
        };
        assert_eq!(verdict(&response(Some(299), None), now()), Verdict::Delivered);
        assert_eq!(verdict(&response(Some(301), None), now()), Verdict::Retry);
        assert_eq!(verdict(&response(Some(429), None), now()), Verdict::Retry);
        assert_eq!(verdict(&response(Some(400), Some("5")), now()), Verdict::Retry);
        let date = Some("Thu, 01 Jan 2026 00:01:00 GMT");
        assert_eq!(verdict(&response(Some(503), date), now()), Verdict::RetryAfter(Duration::from_secs(60)));
        assert_eq!(verdict(&response(None, None), now()), Verdict::Retry);
        assert_eq!(timed_out(Duration::from_millis(2500)), "timed out after 2.5 s");
    }
}
