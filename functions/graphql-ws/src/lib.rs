//! The `graphql-ws` function: the routes of API Gateway's WebSocket API for GraphQL subscriptions
//! (`graphql-transport-ws`). `$connect` accepts clients that offer the subprotocol, `$default` carries each message
//! of the protocol, `$disconnect` forgets the connection; the protocol itself is `hw_graphql_ws::session`.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use http::HeaderValue;
use hw_graphql_ws::{Handshake, Realtime, Sessions};

pub const FUNCTION: &str = "graphql-ws";

pub struct Deps {
    pub sessions: Sessions,
}

impl Deps {
    pub fn new(realtime: &Realtime) -> Self {
        Self { sessions: realtime.sessions() }
    }

    pub fn from_aws(config: &hw_resources::Config, sdk: &aws_config::SdkConfig) -> Self {
        Self::new(&Realtime::from_aws(config, sdk))
    }
}

fn response(status: i64, body: Option<String>) -> ApiGatewayProxyResponse {
    let mut res = ApiGatewayProxyResponse::default();
    res.status_code = status;
    res.body = body.map(Body::Text);
    res
}

/// The URL the client connected to, from the `$connect` request: `X-Forwarded-Proto` (API Gateway sets it) and
/// `Host`, else the request context's domain name.
fn request_base(event: &ApiGatewayWebsocketProxyRequest) -> String {
    let header = |name: &str| event.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let scheme = header("x-forwarded-proto").unwrap_or_else(|| "https".into());
    let host = header("host").or_else(|| event.request_context.domain_name.clone()).unwrap_or_default();
    format!("{scheme}://{host}")
}

pub async fn handle(deps: &Deps, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let ctx = &event.request_context;
    let Some(connection) = ctx.connection_id.clone() else {
        return response(400, Some("not a WebSocket event: no connection id".into()));
    };
    let now = chrono::Utc::now().timestamp();
    let route = ctx.route_key.as_deref().unwrap_or("$default");
    let outcome = match route {
        "$connect" => {
            let offered = event.headers.get("sec-websocket-protocol").and_then(|v| v.to_str().ok());
            match deps.sessions.connect(&connection, offered, &request_base(&event), now).await {
                Ok(Handshake::Accept { subprotocol }) => {
                    let mut res = response(200, None);
                    // API Gateway completes the handshake with the subprotocol the integration answers.
                    res.headers.insert("sec-websocket-protocol", HeaderValue::from_static(subprotocol));
                    return res;
                }
                Ok(Handshake::Refuse { status, reason }) => return response(i64::from(status), Some(reason)),
                Err(e) => Err(e),
            }
        }
        "$disconnect" => deps.sessions.disconnect(&connection).await,
        _ => {
            let text = match (&event.body, event.is_base64_encoded) {
                (Some(b), false) => b.clone(),
                // The protocol is text; a binary frame is not one of its messages.
                _ => String::new(),
            };
            deps.sessions.message(&connection, &text, now).await
        }
    };
    match outcome {
        Ok(()) => response(200, None),
        Err(e) => {
            tracing::error!(function = FUNCTION, connection, route, error = %e, "WebSocket event failed");
            response(500, None)
        }
    }
}

#[cfg(test)]
mod tests;
