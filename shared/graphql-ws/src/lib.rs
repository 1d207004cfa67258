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

pub use publish::{Published, Publisher};
pub use sender::{ConnectionSender, ManagementApi, RecordingSender, SendError};
pub use session::{Handshake, Sessions};
pub use store::{ConnectionStore, MemoryConnections};

#[cfg(test)]
mod tests;
