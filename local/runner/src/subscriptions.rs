//! GraphQL subscriptions on the local stack: the runner serves `graphql-transport-ws` at `/graphql/ws` (the
//! protocol itself is `graphql::ws`), and feeds every open subscription from the event bus through a queue of its
//! own: an EventBridge rule sends the platform's record events to `{prefix}-local-graphql-events`, and a poller
//! hands each to the in-process [`EventHub`].
//!
//! That queue and rule are the runner's, not the deployment's: `resources.json` does not declare them, because in
//! AWS subscriptions need the API Gateway WebSocket API and its publisher, which are not built yet.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use hw_domain::event::Envelope;
use hw_graphql::EventHub;

use crate::sqs::{Poller, SqsHandler};

#[derive(Clone)]
struct WsState {
    deps: Arc<graphql::Deps>,
    hub: EventHub,
}

/// The `/graphql/ws` route.
pub fn router(deps: Arc<graphql::Deps>, hub: EventHub) -> axum::Router {
    axum::Router::new().route("/graphql/ws", axum::routing::get(upgrade)).with_state(WsState { deps, hub })
}

async fn upgrade(
    State(state): State<WsState>,
    ConnectInfo(_peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_owned();
    let base_url = format!("http://{host}");
    ws.protocols([graphql::ws::PROTOCOL]).on_upgrade(move |socket| connection(state, base_url, socket))
}

async fn connection(state: WsState, base_url: String, socket: WebSocket) {
    let (mut sink, stream) = socket.split();
    let incoming = stream
        .take_while(|m| futures::future::ready(!matches!(m, Ok(Message::Close(_)) | Err(_))))
        .filter_map(|m| {
            futures::future::ready(match m {
                Ok(Message::Text(t)) => Some(t.to_string()),
                Ok(Message::Binary(b)) => Some(String::from_utf8_lossy(&b).into_owned()),
                _ => None,
            })
        })
        .boxed();
    let mut outgoing = graphql::ws::serve(state.deps, state.hub, base_url, incoming);
    while let Some(msg) = outgoing.next().await {
        let frame = match msg {
            async_graphql::http::WsMessage::Text(text) => Message::Text(text.into()),
            async_graphql::http::WsMessage::Close(code, reason) => {
                let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                return;
            }
        };
        if sink.send(frame).await.is_err() {
            return;
        }
    }
}

/// Creates the runner's event queue and its rule (idempotent), and answers the poller that feeds `hub`.
pub async fn event_feed(
    sdk: &aws_config::SdkConfig,
    prefix: &str,
    bus: &str,
    region: &str,
    hub: EventHub,
) -> anyhow::Result<Poller> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let name = format!("{prefix}-local-graphql-events");
    let url =
        sqs.create_queue().queue_name(&name).send().await.context("subscription queue")?.queue_url.unwrap_or_default();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await?;
    let arn = attrs
        .attributes
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
        .context("queue arn")?;
    let events = aws_sdk_eventbridge::Client::new(sdk);
    let pattern = serde_json::json!({"source": [hw_resources::manifest().event_bus.source.clone()]});
    events
        .put_rule()
        .name(&name)
        .event_bus_name(bus)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .context("subscription rule")?;
    events
        .put_targets()
        .rule(&name)
        .event_bus_name(bus)
        .targets(aws_sdk_eventbridge::types::Target::builder().id("graphql-subscriptions").arn(&arn).build()?)
        .send()
        .await
        .context("subscription rule target")?;
    let handler: SqsHandler = Arc::new(move |event: SqsEvent| {
        let hub = hub.clone();
        Box::pin(async move {
            for m in event.records {
                let parsed = m.body.as_deref().and_then(|b| {
                    serde_json::from_str::<aws_lambda_events::event::eventbridge::EventBridgeEvent<Envelope>>(b).ok()
                });
                match parsed {
                    Some(e) if e.detail.event_type.starts_with("record.") => hub.publish(e.detail),
                    Some(_) => {}
                    None => tracing::warn!("a message on the subscription queue is not a platform event; dropped"),
                }
            }
            SqsBatchResponse::default()
        })
    });
    Ok(Poller {
        function: "graphql-subscriptions".into(),
        queue_url: url,
        queue_arn: arn,
        region: region.to_owned(),
        batch_size: 10,
        handler,
    })
}
