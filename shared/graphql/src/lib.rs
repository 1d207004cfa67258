//! GraphQL generated from a tenant's data models (issue 6): per-entity object, connection, filter, order and
//! input types; queries, relations both ways, mutations; DataLoader batching onto BatchGetItem and partition walks;
//! field permissions from scopes; depth and complexity limits; Apollo Federation v2 (`_service`, `_entities`).
//! Transport-free: the `graphql` function speaks GraphQL over HTTP and hands requests to [`execute`].

pub mod cache;
pub mod catalog;
pub mod context;
pub mod errors;
pub mod filter;
pub mod loaders;
pub mod names;
mod paths;
pub mod resolve;
pub mod schema;
pub mod subscriptions;
pub mod values;

pub use cache::{SchemaCache, TenantSchema};
pub use context::{Caller, Env};
pub use subscriptions::EventHub;

#[cfg(test)]
mod tests;
