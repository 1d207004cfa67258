//! Subscriptions over WebSocket with the `graphql-transport-ws` protocol (the `graphql-ws` npm client's), served
//! locally by the runner at `/graphql/ws`. The protocol engine is async-graphql's; this module adds what a
//! multi-tenant server needs: the credentials come in `connection_init` (`{"Authorization": "Bearer ..."}` or
//! `{"apiKey": "..."}`), and each operation runs on the caller's tenant schema with a fresh DataLoader set.

use std::any::TypeId;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::{WebSocket, WebSocketProtocols as Protocols, WsMessage};
use async_graphql::{Data, Executor, Request, Response, ServerError};
use futures::stream::{BoxStream, Stream, StreamExt};
use hw_domain::principal::Principal;
use hw_graphql::EventHub;

use crate::Deps;

/// The subprotocol clients ask for in `Sec-WebSocket-Protocol`.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// Runs every operation of a connection on the schema of the tenant its credentials belong to.
#[derive(Clone)]
struct TenantExecutor {
    deps: Arc<Deps>,
    hub: EventHub,
}

fn refused(message: &str) -> Response {
    Response::from_errors(vec![ServerError::new(message, None)])
}

impl Executor for TenantExecutor {
    async fn execute(&self, _request: Request) -> Response {
        // The WebSocket protocol sends every operation through `execute_stream`.
        refused("operations on this connection run through subscribe messages")
    }

    fn execute_stream(&self, request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let principal = session_data
            .as_ref()
            .and_then(|d| d.get(&TypeId::of::<Principal>()))
            .and_then(|p| p.downcast_ref::<Principal>())
            .cloned();
        let (deps, hub) = (self.deps.clone(), self.hub.clone());
        futures::stream::once(async move {
            let (Some(principal), Some(session)) = (principal, session_data) else {
                return futures::stream::once(async { refused("the connection is not initialised") }).boxed();
            };
            match deps.schemas.schema(&principal.tenant).await {
                Ok(ts) => {
                    let caller = ts.caller(principal, deps.schemas.records().clone()).with_events(hub);
                    ts.schema.execute_stream_with_session_data(request.data(caller), session)
                }
                Err(e) => {
                    tracing::error!(error = %e, "schema unavailable");
                    futures::stream::once(async { refused("the schema is unavailable; retry") }).boxed()
                }
            }
        })
        .flatten()
        .boxed()
    }
}

/// The credentials of a `connection_init` payload.
fn credentials(payload: &serde_json::Value) -> Option<String> {
    let header = ["Authorization", "authorization"].iter().find_map(|k| payload[*k].as_str());
    let bearer = header.and_then(|h| h.trim().split_once(' ')).filter(|(s, _)| s.eq_ignore_ascii_case("bearer"));
    bearer.map(|(_, t)| t.trim().to_owned()).or_else(|| payload["apiKey"].as_str().map(str::to_owned))
}

/// Serves one connection: client text frames in, server frames out (a `Close` ends it).
pub fn serve(
    deps: Arc<Deps>,
    hub: EventHub,
    base_url: String,
    incoming: impl Stream<Item = String> + Send + Unpin + 'static,
) -> impl Stream<Item = WsMessage> + Send + Unpin {
    let executor = TenantExecutor { deps: deps.clone(), hub };
    WebSocket::new(executor, incoming, Protocols::GraphQLWS)
        .on_connection_init(move |payload| async move {
            let secret = credentials(&payload).ok_or_else(|| {
                async_graphql::Error::new("send `Authorization: Bearer ...` in the connection_init payload")
            })?;
            let principal = crate::auth::principal_for(&deps, &secret, &base_url)
                .await
                .map_err(|f| async_graphql::Error::new(f.message))?;
            let mut data = Data::default();
            data.insert(principal);
            Ok(data)
        })
        .keepalive_timeout(Duration::from_secs(90))
}
