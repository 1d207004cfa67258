//! Who is calling. The tenant of every request comes from here, never from request data alone.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    pub tenant: String,
    /// `apikey:<id>` for API keys; OAuth clients and users will add their own kinds.
    pub actor: String,
    pub scopes: Vec<String>,
    /// Requests per minute this client may make; `None` takes the platform default.
    pub rate_limit_per_minute: Option<u32>,
}

pub mod scope {
    pub const ADMIN: &str = "admin";
    pub const MODELS_WRITE: &str = "models:write";
    pub const DATA_READ: &str = "data:read";
    pub const DATA_WRITE: &str = "data:write";
    /// Values of fields marked `sensitive` through GraphQL (`data:sensitive:{entity}` for one entity).
    pub const DATA_SENSITIVE: &str = "data:sensitive";
}

impl Principal {
    pub fn new(tenant: impl Into<String>, actor: impl Into<String>, scopes: Vec<String>) -> Self {
        Self { tenant: tenant.into(), actor: actor.into(), scopes, rate_limit_per_minute: None }
    }

    /// True when the principal holds `wanted`, directly, through `admin`, or through a broader scope
    /// (`data:read` covers `data:read:contact`; `data:write` implies `data:read`).
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scopes.iter().any(|held| covers(held, wanted))
    }
}

fn covers(held: &str, wanted: &str) -> bool {
    if held == scope::ADMIN || held == wanted {
        return true;
    }
    let read_via_write = |w: &str| w.strip_prefix("data:read").map(|rest| format!("data:write{rest}"));
    if wanted.starts_with(held) && wanted.as_bytes().get(held.len()) == Some(&b':') && held.starts_with("data:") {
        return true;
    }
    if let Some(as_write) = read_via_write(wanted) {
        return covers(held, &as_write);
    }
    false
}

/// Scopes a key may be given.
pub fn is_known_scope(s: &str) -> bool {
    match s {
        scope::ADMIN | scope::MODELS_WRITE | scope::DATA_READ | scope::DATA_WRITE | scope::DATA_SENSITIVE => true,
        _ => s
            .strip_prefix("data:read:")
            .or_else(|| s.strip_prefix("data:write:"))
            .or_else(|| s.strip_prefix("data:sensitive:"))
            .is_some_and(crate::model::is_valid_name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(scopes: &[&str]) -> Principal {
        Principal::new("t", "apikey:k", scopes.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn scope_coverage() {
        assert!(p(&["admin"]).has_scope("models:write"));
        assert!(p(&["data:read"]).has_scope("data:read:contact"));
        assert!(!p(&["data:read"]).has_scope("data:write:contact"));
        assert!(p(&["data:write"]).has_scope("data:read:contact"));
        assert!(p(&["data:write:contact"]).has_scope("data:read:contact"));
        assert!(!p(&["data:write:contact"]).has_scope("data:read:company"));
        assert!(!p(&["data:read:contact"]).has_scope("data:read"));
        assert!(!p(&["models:write"]).has_scope("admin"));
        assert!(p(&["data:sensitive"]).has_scope("data:sensitive:contact"));
        assert!(!p(&["data:write"]).has_scope("data:sensitive:contact"));
        assert!(p(&["admin"]).has_scope("data:sensitive:contact"));
    }

    #[test]
    fn known_scopes() {
        assert!(is_known_scope("data:read:contact"));
        assert!(!is_known_scope("data:read:Contact"));
        assert!(!is_known_scope("root"));
    }
}
