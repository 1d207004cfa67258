//! One WebSocket connection's protocol, one API Gateway event at a time: `$connect` opens it, each message
//! (`$default`) moves it on, `$disconnect` forgets it. State lives in the [`ConnectionStore`], since every message
//! may reach another Lambda instance; replies go out through the [`ConnectionSender`].
//!
//! Subscriptions are checked when they arrive (the same checks as a delivery: syntax, validation, limits, scopes,
//! filter values) and answered with an `error` message when refused, so a stored subscription is one that runs.
//! Queries and mutations sent over the socket run at once and answer `next` then `complete`.

use std::sync::Arc;

use async_graphql::{Request, Variables};
use hw_graphql::subscriptions::check;
use hw_graphql::{AuthFailure, Authenticator, SchemaCache, TenantSchema};
use serde_json::{Value, json};

use crate::protocol::{ClientMessage, Close, SUBPROTOCOL, SubscribePayload, server};
use crate::sender::{ConnectionSender, SendError};
use crate::store::{
    CONNECTION_LIFETIME_SECONDS, Caller, Connection, ConnectionStore, MAX_SUBSCRIPTIONS_PER_CONNECTION, StoreError,
    StoredSubscription,
};

pub struct Sessions {
    pub store: Arc<dyn ConnectionStore>,
    pub sender: Arc<dyn ConnectionSender>,
    pub schemas: Arc<SchemaCache>,
    pub auth: Arc<Authenticator>,
}

/// Why an event could not be handled now; API Gateway is answered 500 and the client may retry.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

impl From<StoreError> for Unavailable {
    fn from(e: StoreError) -> Self {
        Self(e.to_string())
    }
}

/// The answer to `$connect`: accepted with the chosen subprotocol, or refused with an HTTP status.
#[derive(Debug, PartialEq, Eq)]
pub enum Handshake {
    Accept { subprotocol: &'static str },
    Refuse { status: u16, reason: String },
}

/// The credentials of a `connection_init` payload: `Authorization: Bearer ...` (either case) or `apiKey`.
fn credentials(payload: Option<&Value>) -> Option<String> {
    let payload = payload?;
    let header = ["Authorization", "authorization"].iter().find_map(|k| payload[*k].as_str());
    let bearer = header.and_then(|h| h.trim().split_once(' ')).filter(|(s, _)| s.eq_ignore_ascii_case("bearer"));
    bearer.map(|(_, t)| t.trim().to_owned()).or_else(|| payload["apiKey"].as_str().map(str::to_owned))
}

impl Sessions {
    /// `$connect`: the client must offer `graphql-transport-ws`. `request_base` is the URL it connected to.
    pub async fn connect(
        &self,
        id: &str,
        offered_subprotocols: Option<&str>,
        request_base: &str,
        now: i64,
    ) -> Result<Handshake, Unavailable> {
        let offered = offered_subprotocols.unwrap_or_default().split(',').map(str::trim).any(|p| p == SUBPROTOCOL);
        if !offered {
            return Ok(Handshake::Refuse {
                status: 400,
                reason: format!("offer the `{SUBPROTOCOL}` subprotocol (Sec-WebSocket-Protocol)"),
            });
        }
        let connection =
            Connection { id: id.to_owned(), connected_at: now, request_base: request_base.to_owned(), caller: None };
        self.store.open(&connection).await?;
        Ok(Handshake::Accept { subprotocol: SUBPROTOCOL })
    }

    /// `$disconnect`.
    pub async fn disconnect(&self, id: &str) -> Result<(), Unavailable> {
        Ok(self.store.close(id).await?)
    }

    /// `$default`: one text frame from the client.
    pub async fn message(&self, id: &str, text: &str, now: i64) -> Result<(), Unavailable> {
        let message = match ClientMessage::parse(text) {
            Ok(m) => m,
            Err(reason) => return self.terminate(id, Close::InvalidMessage, &reason).await,
        };
        match message {
            ClientMessage::ConnectionInit { payload } => self.initialise(id, payload.as_ref()).await,
            ClientMessage::Ping { .. } => {
                self.send(id, &server::pong()).await;
                Ok(())
            }
            ClientMessage::Pong { .. } => Ok(()),
            ClientMessage::Subscribe { id: op, payload } => self.subscribe(id, &op, payload, now).await,
            ClientMessage::Complete { id: op } => Ok(self.store.unsubscribe(id, &op).await?),
        }
    }

    async fn initialise(&self, id: &str, payload: Option<&Value>) -> Result<(), Unavailable> {
        let Some(connection) = self.store.connection(id).await? else {
            return self.terminate(id, Close::Forbidden, "the connection is not open").await;
        };
        if connection.caller.is_some() {
            return self.terminate(id, Close::TooManyInitialisations, "too many initialisation requests").await;
        }
        let Some(secret) = credentials(payload) else {
            let reason = "send `Authorization: Bearer ...` or `apiKey` in the connection_init payload";
            return self.terminate(id, Close::Forbidden, reason).await;
        };
        let caller: Caller = match self.auth.authenticate(&secret, &connection.request_base).await {
            Ok(a) => a.into(),
            Err(AuthFailure::Invalid(reason)) => return self.terminate(id, Close::Forbidden, &reason).await,
            Err(AuthFailure::Unavailable) => return Err(Unavailable("credentials cannot be checked now".into())),
        };
        match self.store.initialise(id, &caller).await {
            Ok(()) => {
                self.send(id, &server::connection_ack()).await;
                Ok(())
            }
            Err(StoreError::Exists) => {
                self.terminate(id, Close::TooManyInitialisations, "too many initialisation requests").await
            }
            Err(StoreError::NoConnection) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn subscribe(&self, id: &str, op: &str, payload: SubscribePayload, now: i64) -> Result<(), Unavailable> {
        let caller = match self.store.connection(id).await? {
            Some(Connection { caller: Some(caller), .. }) => caller,
            Some(_) => {
                return self.terminate(id, Close::Unauthorized, "unauthorized: send connection_init first").await;
            }
            None => return Ok(()),
        };
        match self.auth.still_valid(&caller.authenticated(), now).await {
            Ok(true) => {}
            Ok(false) => return self.terminate(id, Close::Forbidden, "the credentials have ended").await,
            Err(_) => return Err(Unavailable("credentials cannot be checked now".into())),
        }
        let request = match request_of(&payload.query, payload.variables.as_ref(), payload.operation_name.as_deref()) {
            Ok(r) => r,
            Err(message) => {
                self.send(id, &server::error(op, &json!([{"message": message}]))).await;
                return Ok(());
            }
        };
        let ts = match self.schemas.schema(&caller.principal.tenant).await {
            Ok(ts) => ts,
            Err(e) => {
                tracing::error!(error = %e, "schema unavailable");
                return Err(Unavailable("the schema is unavailable".into()));
            }
        };
        if !is_subscription(&payload) {
            return self.execute(id, op, &ts, &caller, request).await;
        }
        let graphql_caller = ts.caller(caller.principal.clone(), self.schemas.records().clone());
        let topic = match check(&ts, graphql_caller, request).await {
            Ok(topic) => topic,
            Err(errors) => {
                self.send(id, &server::error(op, &serde_json::to_value(&errors).unwrap_or_default())).await;
                return Ok(());
            }
        };
        let subscription = StoredSubscription {
            connection: id.to_owned(),
            id: op.to_owned(),
            tenant: caller.principal.tenant.clone(),
            entity: topic.entity,
            event_type: topic.event_type,
            query: payload.query,
            variables: payload.variables.filter(|v| !v.is_null()),
            operation_name: payload.operation_name,
            caller,
            expires_at: now + CONNECTION_LIFETIME_SECONDS,
        };
        match self.store.subscribe(&subscription).await {
            Ok(()) => Ok(()),
            Err(StoreError::Exists) => {
                self.terminate(id, Close::SubscriberExists, &format!("subscriber for {op} already exists")).await
            }
            Err(StoreError::Full) => {
                let message = format!(
                    "a connection holds at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions; complete one or open another connection"
                );
                let errors = json!([{"message": message, "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS"}}]);
                self.send(id, &server::error(op, &errors)).await;
                Ok(())
            }
            Err(StoreError::NoConnection) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A query or mutation over the socket: `next` with its result and `complete`; `error` when it could not run.
    async fn execute(
        &self,
        id: &str,
        op: &str,
        ts: &TenantSchema,
        caller: &Caller,
        request: Request,
    ) -> Result<(), Unavailable> {
        let graphql_caller = ts.caller(caller.principal.clone(), self.schemas.records().clone());
        let response = ts.schema.execute(request.data(graphql_caller)).await;
        // Request errors (syntax, validation, an unknown operation: no path) end the operation with `error`;
        // field errors are part of its result.
        let request_error = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty());
        if request_error {
            self.send(id, &server::error(op, &serde_json::to_value(&response.errors).unwrap_or_default())).await;
            return Ok(());
        }
        self.send(id, &server::next(op, &serde_json::to_value(&response).unwrap_or_default())).await;
        self.send(id, &server::complete(op)).await;
        Ok(())
    }

    /// Ends a connection the protocol says must end. API Gateway cannot send our close code, so it is logged.
    async fn terminate(&self, id: &str, close: Close, reason: &str) -> Result<(), Unavailable> {
        tracing::info!(connection = id, code = close.code(), reason, "closing a WebSocket connection");
        match self.sender.close(id).await {
            Ok(()) | Err(SendError::Gone) => {}
            Err(e) => tracing::warn!(connection = id, error = %e, "the connection could not be closed"),
        }
        Ok(self.store.close(id).await?)
    }

    /// Sends; a connection that is gone is forgotten (its `$disconnect` does the same).
    async fn send(&self, id: &str, message: &str) {
        match self.sender.send(id, message).await {
            Ok(()) => {}
            Err(SendError::Gone) => {
                let _ = self.store.close(id).await;
            }
            Err(e) => tracing::warn!(connection = id, error = %e, "a message could not be sent"),
        }
    }
}

/// The GraphQL request of a document with its variables (an object when given) and operation name, as a subscribe
/// message carries them and as a stored subscription keeps them.
pub fn request_of(query: &str, variables: Option<&Value>, operation_name: Option<&str>) -> Result<Request, String> {
    let mut request = Request::new(query);
    match variables {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => request = request.variables(Variables::from_json(v.clone())),
        Some(_) => return Err("`variables` must be an object".into()),
    }
    if let Some(name) = operation_name.filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    Ok(request)
}

/// Whether the operation the payload selects is a subscription. A document that does not parse, or names no such
/// operation, is not: running it as a query reports the problem.
fn is_subscription(payload: &SubscribePayload) -> bool {
    use async_graphql::parser::types::OperationType;
    let Ok(doc) = async_graphql::parser::parse_query(&payload.query) else { return false };
    hw_graphql::operation_type(&doc, payload.operation_name.as_deref()) == Some(OperationType::Subscription)
}
