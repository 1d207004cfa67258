//! Sending to WebSocket clients: through the API Gateway Management API in AWS and on the local stack (the runner
//! serves the same API), recorded in memory in tests.

use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::primitives::Blob;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// The connection is closed (410): forget it.
    #[error("the connection is gone")]
    Gone,
    #[error("sending failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait ConnectionSender: Send + Sync {
    async fn send(&self, connection: &str, message: &str) -> Result<(), SendError>;
    /// Ends the connection (API Gateway then invokes `$disconnect`).
    async fn close(&self, connection: &str) -> Result<(), SendError>;
}

/// The API Gateway Management API (`POST` / `DELETE /@connections/{id}`) at a WebSocket stage's callback URL.
pub struct ManagementApi {
    client: Client,
}

impl ManagementApi {
    /// `callback_url`: `https://{api id}.execute-api.{region}.amazonaws.com/{stage}`, or the local runner's.
    pub fn new(sdk: &aws_config::SdkConfig, callback_url: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk).endpoint_url(callback_url).build();
        Self { client: Client::from_conf(config) }
    }
}

fn failed<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_apigatewaymanagement::error::SdkError<E, R>,
) -> SendError {
    SendError::Failed(aws_sdk_apigatewaymanagement::error::DisplayErrorContext(e).to_string())
}

#[async_trait]
impl ConnectionSender for ManagementApi {
    async fn send(&self, connection: &str, message: &str) -> Result<(), SendError> {
        let sent = self
            .client
            .post_to_connection()
            .connection_id(connection)
            .data(Blob::new(message.as_bytes().to_vec()))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_gone_exception()) => Err(SendError::Gone),
            Err(e) => Err(failed(&e)),
        }
    }

    async fn close(&self, connection: &str) -> Result<(), SendError> {
        match self.client.delete_connection().connection_id(connection).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_gone_exception()) => Err(SendError::Gone),
            Err(e) => Err(failed(&e)),
        }
    }
}

/// What was sent and closed, in order; connections listed in `gone` answer 410.
#[derive(Default)]
pub struct RecordingSender {
    pub sent: Mutex<Vec<(String, serde_json::Value)>>,
    pub closed: Mutex<Vec<String>>,
    pub gone: Mutex<Vec<String>>,
}

impl RecordingSender {
    /// The messages sent to one connection.
    pub fn to(&self, connection: &str) -> Vec<serde_json::Value> {
        let sent = self.sent.lock().expect("sent");
        sent.iter().filter(|(c, _)| c == connection).map(|(_, m)| m.clone()).collect()
    }
}

#[async_trait]
impl ConnectionSender for RecordingSender {
    async fn send(&self, connection: &str, message: &str) -> Result<(), SendError> {
        if self.gone.lock().expect("gone").iter().any(|g| g == connection) {
            return Err(SendError::Gone);
        }
        let value = serde_json::from_str(message).map_err(|e| SendError::Failed(e.to_string()))?;
        self.sent.lock().expect("sent").push((connection.to_owned(), value));
        Ok(())
    }

    async fn close(&self, connection: &str) -> Result<(), SendError> {
        self.closed.lock().expect("closed").push(connection.to_owned());
        Ok(())
    }
}
