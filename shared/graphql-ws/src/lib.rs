//! GraphQL subscriptions over API Gateway's WebSocket API, with the `graphql-transport-ws` protocol: the
//! `graphql-ws` function runs each connection's protocol ([`session`]), the `graphql-publisher` function delivers
//! record events to the stored subscriptions ([`publish`]). Connections and subscriptions are kept in DynamoDB
//! ([`dynamo`]) because every WebSocket event may reach another Lambda instance; messages go out through the API
//! Gateway Management API ([`sender`]). The local runner emulates the WebSocket API, so the same code runs there.

pub mod dynamo;
pub mod protocol;
pub mod publish;
pub mod sender;
pub mod session;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::sync::Arc;

pub use publish::{Published, Publisher};
pub use sender::{ConnectionSender, ManagementApi, RecordingSender, SendError};
pub use session::{Handshake, Sessions};
pub use store::{ConnectionStore, MemoryConnections};

/// What both functions build once per cold start: the GraphQL backend, the connection store, the sender.
#[derive(Clone)]
pub struct Realtime {
    pub backend: hw_graphql::Backend,
    pub store: Arc<dyn ConnectionStore>,
    pub sender: Arc<dyn ConnectionSender>,
}

impl Realtime {
    /// On DynamoDB (the `realtime` table and the backend's) and the Management API at the configured callback URL.
    pub fn from_aws(config: &hw_resources::Config, sdk: &aws_config::SdkConfig) -> Self {
        Self {
            backend: hw_graphql::Backend::from_aws(config, sdk),
            store: Arc::new(dynamo::DynamoConnections::new(hw_aws::dynamo_client(sdk), &config.realtime_table)),
            sender: Arc::new(ManagementApi::new(sdk, &config.websocket_callback_url)),
        }
    }

    pub fn sessions(&self) -> Sessions {
        Sessions {
            store: self.store.clone(),
            sender: self.sender.clone(),
            schemas: self.backend.schemas.clone(),
            auth: self.backend.auth.clone(),
        }
    }

    pub fn publisher(&self) -> Publisher {
        Publisher {
            store: self.store.clone(),
            sender: self.sender.clone(),
            schemas: self.backend.schemas.clone(),
            auth: self.backend.auth.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
