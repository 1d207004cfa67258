//! GraphQL generated from a tenant's data models (issue 6): per-entity object, connection, filter, order and
//! input types; queries, relations both ways, mutations; DataLoader batching onto BatchGetItem and partition walks;
//! field permissions from scopes; depth and complexity limits; Apollo Federation v2 (`_service`, `_entities`).
//! Transport-free: the `graphql` function speaks GraphQL over HTTP, `graphql-ws` and `graphql-publisher` speak
//! graphql-transport-ws over API Gateway's WebSocket API.

pub mod backend;
pub mod cache;
pub mod catalog;
pub mod context;
pub mod credentials;
pub mod errors;
pub mod filter;
pub mod loaders;
pub mod names;
mod paths;
pub mod resolve;
pub mod schema;
pub mod subscriptions;
pub mod values;

pub use backend::Backend;
pub use cache::{SchemaCache, TenantSchema};
pub use context::{Caller, Env};
pub use credentials::{AuthFailure, Authenticated, Authenticator};
pub use subscriptions::{RecordEvent, Topic};

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};

/// The type of the operation that `operation` names in a document (the document's only one when unnamed); `None`
/// when there is no such operation (execution then reports it).
pub fn operation_type(doc: &ExecutableDocument, operation: Option<&str>) -> Option<OperationType> {
    match (&doc.operations, operation) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) => {
            ops.values().next().map(|op| op.node.ty).filter(|_| ops.len() == 1)
        }
    }
}

#[cfg(test)]
mod tests;
