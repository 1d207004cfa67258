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
    /// Limits and switches of the tenant's GraphQL API; `None` takes the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graphql: Option<GraphqlSettings>,
}

/// How a tenant's GraphQL API guards itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphqlSettings {
    /// Deepest selection accepted (each object, connection, `edges` and `node` is one level).
    #[serde(default = "GraphqlSettings::default_depth")]
    pub max_depth: u32,
    /// Most fields one operation may select, counted over the whole document after fragments are spread.
    #[serde(default = "GraphqlSettings::default_complexity")]
    pub max_complexity: u32,
    /// Whether `__schema` and `__type` answer (GraphiQL and code generators need them).
    #[serde(default = "GraphqlSettings::default_introspection")]
    pub introspection: bool,
    /// Optimistic-concurrency counter: 0 for the defaults, +1 on every change.
    #[serde(default)]
    pub version: u64,
}

impl GraphqlSettings {
    pub const DEPTH_RANGE: std::ops::RangeInclusive<u32> = 2..=64;
    pub const COMPLEXITY_RANGE: std::ops::RangeInclusive<u32> = 10..=100_000;

    fn default_depth() -> u32 {
        20
    }
    fn default_complexity() -> u32 {
        2_000
    }
    fn default_introspection() -> bool {
        true
    }

    /// Field-level problems (JSON pointer, code, sentence) with the values.
    pub fn check(&self) -> Vec<crate::FieldError> {
        let mut errors = Vec::new();
        if !Self::DEPTH_RANGE.contains(&self.max_depth) {
            errors.push(crate::FieldError::new(
                "/max_depth",
                "out-of-range",
                format!("`max_depth` must lie in {}..={}", Self::DEPTH_RANGE.start(), Self::DEPTH_RANGE.end()),
            ));
        }
        if !Self::COMPLEXITY_RANGE.contains(&self.max_complexity) {
            errors.push(crate::FieldError::new(
                "/max_complexity",
                "out-of-range",
                format!(
                    "`max_complexity` must lie in {}..={}",
                    Self::COMPLEXITY_RANGE.start(),
                    Self::COMPLEXITY_RANGE.end()
                ),
            ));
        }
        errors
    }
}

impl Default for GraphqlSettings {
    fn default() -> Self {
        Self {
            max_depth: Self::default_depth(),
            max_complexity: Self::default_complexity(),
            introspection: Self::default_introspection(),
            version: 0,
        }
    }
}

/// Highest per-tenant limit an operator may set.
pub const MAX_TENANT_RATE_LIMIT_PER_MINUTE: u32 = 1_000_000;
