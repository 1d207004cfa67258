//! Tenants: the unit of isolation. Every key of every item starts with the tenant.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created_at: String,
    /// Requests per minute all clients of the tenant may make together; `None` takes the platform default.
    /// Only operators set it (`hubble-admin tenant limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
}

/// Highest per-tenant limit an operator may set.
pub const MAX_TENANT_RATE_LIMIT_PER_MINUTE: u32 = 1_000_000;
