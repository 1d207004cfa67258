//! Storage of the OAuth2/OIDC provider, shared by the `oauth` function (which issues and redeems) and the `api`
//! function (which manages clients and consents and checks access tokens).
//!
//! Every item lives in the `identity` table under a partition key starting with `OAUTH#<tenant>`, so one
//! tenant's grants are never read while serving another.

pub mod clients;
pub mod dynamo;
pub mod keys;
pub mod memory;
pub mod model;
pub mod ports;
pub mod secrets;
pub mod verifier;

pub use model::*;
pub use ports::{OAuthStore, Redemption, Rotation, StoreError};
