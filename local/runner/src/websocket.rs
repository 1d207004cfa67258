//! The local stand-in for API Gateway's WebSocket API: clients connect at `/graphql/ws`; the runner invokes the
//! function of the `websocket` routes with the same events AWS sends (`$connect` with the handshake's headers, one
//! `$default` per text frame, `$disconnect`), and serves the Management API that functions post to
//! (`POST|GET|DELETE {callback}/@connections/{id}`), so `graphql-ws` and `graphql-publisher` run unchanged.
//!
//! Frames of one connection are handed to the function one at a time, in order. The function's answer to
//! `$connect` decides the handshake (a non-2xx refuses it, `Sec-WebSocket-Protocol` picks the subprotocol).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body as LambdaBody;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

/// Where clients connect.
pub const PATH: &str = "/graphql/ws";
/// The Management API's base path on the runner: functions get `{base url}{CALLBACK_PATH}` as the callback URL.
pub const CALLBACK_PATH: &str = "/ws-callback";
const STAGE: &str = "local";
/// The close code of a connection deleted through the Management API: API Gateway takes none from the caller; the
/// runner sends 1001 (going away).
const DELETED_CLOSE_CODE: u16 = 1001;

pub type WebsocketHandler =
    Arc<dyn Fn(ApiGatewayWebsocketProxyRequest) -> BoxFuture<'static, ApiGatewayProxyResponse> + Send + Sync>;

enum Outbound {
    Text(String),
    Close,
}

struct Open {
    outbound: mpsc::UnboundedSender<Outbound>,
    connected_at: chrono::DateTime<chrono::Utc>,
    source_ip: String,
}

#[derive(Clone)]
pub struct WebsocketApi {
    handler: WebsocketHandler,
    connections: Arc<Mutex<HashMap<String, Open>>>,
}

impl WebsocketApi {
    pub fn new(handler: WebsocketHandler) -> Self {
        Self { handler, connections: Arc::default() }
    }

    pub fn open_connections(&self) -> usize {
        self.connections.lock().expect("connections").len()
    }
}

pub fn router(api: WebsocketApi) -> axum::Router {
    axum::Router::new()
        .route(PATH, axum::routing::get(upgrade))
        .route(
            &format!("{CALLBACK_PATH}/@connections/{{id}}"),
            axum::routing::post(post_to_connection).get(get_connection).delete(delete_connection),
        )
        .with_state(api)
}

/// A connection id shaped like API Gateway's (12 random bytes, base64).
fn connection_id() -> String {
    base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 12]>())
}

/// The event API Gateway sends for `route` on a connection.
fn event(route: &str, connection: &str, host: &str, source_ip: &str, extra: Value) -> ApiGatewayWebsocketProxyRequest {
    let now = chrono::Utc::now();
    let event_type = match route {
        "$connect" => "CONNECT",
        "$disconnect" => "DISCONNECT",
        _ => "MESSAGE",
    };
    let mut e = json!({
        "requestContext": {
            "routeKey": route, "eventType": event_type, "messageDirection": "IN", "stage": STAGE,
            "connectedAt": now.timestamp_millis(), "requestTimeEpoch": now.timestamp_millis(),
            "requestId": ulid::Ulid::new().to_string(), "domainName": host, "connectionId": connection,
            "apiId": "local", "identity": {"sourceIp": source_ip},
        },
        "isBase64Encoded": false,
    });
    if let (Some(e), Value::Object(extra)) = (e.as_object_mut(), extra) {
        e.extend(extra);
    }
    serde_json::from_value(e).expect("a WebSocket event")
}

fn status_of(res: &ApiGatewayProxyResponse) -> StatusCode {
    u16::try_from(res.status_code).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::BAD_GATEWAY)
}

async fn upgrade(
    State(api): State<WebsocketApi>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let connection = connection_id();
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_owned();
    let mut sent: Map<String, Value> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), Value::String(v.to_str().ok()?.to_owned()))))
        .collect();
    sent.insert("x-forwarded-proto".into(), json!("http"));
    sent.insert("x-forwarded-for".into(), json!(peer.ip().to_string()));
    let source_ip = peer.ip().to_string();
    let connect = event("$connect", &connection, &host, &source_ip, json!({"headers": sent}));
    let answer = (api.handler)(connect).await;
    let status = status_of(&answer);
    if !status.is_success() {
        let body = match answer.body {
            Some(LambdaBody::Text(t)) => t,
            _ => String::new(),
        };
        return (status, body).into_response();
    }
    let chosen = answer.headers.get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let ws = match chosen {
        Some(p) => ws.protocols([p]),
        None => ws,
    };
    ws.on_upgrade(move |socket| serve(api, connection, host, source_ip, socket))
}

async fn serve(api: WebsocketApi, connection: String, host: String, source_ip: String, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (outbound, mut queue) = mpsc::unbounded_channel();
    let open = Open { outbound, connected_at: chrono::Utc::now(), source_ip: source_ip.clone() };
    api.connections.lock().expect("connections").insert(connection.clone(), open);
    let writer = tokio::spawn(async move {
        while let Some(message) = queue.recv().await {
            let frame = match message {
                Outbound::Text(t) => Message::Text(t.into()),
                Outbound::Close => {
                    let close = CloseFrame { code: DELETED_CLOSE_CODE, reason: "".into() };
                    let _ = sink.send(Message::Close(Some(close))).await;
                    return;
                }
            };
            if sink.send(frame).await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(frame)) = stream.next().await {
        let body = match frame {
            Message::Text(t) => t.to_string(),
            Message::Binary(b) => {
                let body = base64::engine::general_purpose::STANDARD.encode(&b);
                let e =
                    event("$default", &connection, &host, &source_ip, json!({"body": body, "isBase64Encoded": true}));
                (api.handler)(e).await;
                continue;
            }
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        (api.handler)(event("$default", &connection, &host, &source_ip, json!({"body": body}))).await;
    }
    let was_open = api.connections.lock().expect("connections").remove(&connection).is_some();
    writer.abort();
    if was_open {
        (api.handler)(event("$disconnect", &connection, &host, &source_ip, json!({}))).await;
    }
}

fn gone() -> Response {
    (StatusCode::GONE, [("x-amzn-errortype", "GoneException")], json!({"message": "Gone"}).to_string()).into_response()
}

async fn post_to_connection(State(api): State<WebsocketApi>, Path(id): Path<String>, body: Bytes) -> Response {
    let connections = api.connections.lock().expect("connections");
    let sent = connections.get(&id).map(|c| c.outbound.send(Outbound::Text(String::from_utf8_lossy(&body).into())));
    match sent {
        Some(Ok(())) => StatusCode::OK.into_response(),
        _ => gone(),
    }
}

async fn get_connection(State(api): State<WebsocketApi>, Path(id): Path<String>) -> Response {
    let connections = api.connections.lock().expect("connections");
    match connections.get(&id) {
        Some(c) => {
            let at = c.connected_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let body = json!({"connectedAt": at, "lastActiveAt": at, "identity": {"sourceIp": c.source_ip}});
            (StatusCode::OK, [("content-type", "application/json")], body.to_string()).into_response()
        }
        None => gone(),
    }
}

/// Closes the socket; as in AWS, `$disconnect` follows.
async fn delete_connection(State(api): State<WebsocketApi>, Path(id): Path<String>) -> Response {
    let connections = api.connections.lock().expect("connections");
    match connections.get(&id).map(|c| c.outbound.send(Outbound::Close)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => gone(),
    }
}
