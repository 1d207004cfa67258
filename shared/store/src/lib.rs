//! Storage ports (traits) for the control plane (tenants, models, API keys) and tenant data (records, unique
//! claims, the event outbox), their DynamoDB and in-memory adapters, and the services that carry the rules every
//! function shares: model registry, record writes with events, tenant and key management.

pub mod cipher;
pub mod dynamo;
pub mod keys;
pub mod memory;
pub mod models;
pub mod ops;
pub mod ports;
pub mod query;
pub mod records;
pub mod tenants;

pub use ports::IdRange;
pub use ports::{ControlStore, DataStore, RecordWrite, StoreError, StoredRecord, WriteKind};
