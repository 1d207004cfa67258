//! Identifiers. Generated ids are ULIDs (time-ordered, 128-bit) so that keys sort by creation time.

use std::sync::OnceLock;

use regex::Regex;

/// A new time-ordered id, e.g. `01JH3Q0W9ZK7M8T3V7X6B2N4PQ`.
pub fn new_id() -> String {
    ulid::Ulid::new().to_string()
}

/// A new id with a type prefix, e.g. `key_01JH3Q...`.
pub fn new_prefixed(prefix: &str) -> String {
    format!("{prefix}_{}", new_id())
}

/// Tenant ids are what operators type: lowercase letters, digits and dashes, 3 to 40 characters.
pub fn is_valid_tenant_id(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$").unwrap()).is_match(s)
}

/// Record ids (generated or supplied by clients for sync and imports): 1 to 64 URL-safe characters.
pub fn is_valid_record_id(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$").unwrap()).is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids() {
        assert!(is_valid_tenant_id("acme"));
        assert!(is_valid_tenant_id("demo-2"));
        assert!(!is_valid_tenant_id("a"));
        assert!(!is_valid_tenant_id("Acme"));
        assert!(!is_valid_tenant_id("acme-"));
        assert!(!is_valid_tenant_id("a#b"));
    }

    #[test]
    fn record_ids() {
        assert!(is_valid_record_id(&new_id()));
        assert!(is_valid_record_id("sf-0015g00000XyZ"));
        assert!(!is_valid_record_id(""));
        assert!(!is_valid_record_id("a/b"));
        assert!(!is_valid_record_id(&"x".repeat(65)));
    }
}
