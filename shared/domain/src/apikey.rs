//! API keys: `hw_` followed by 256 random bits (base64url), shown once; only the SHA-256 hash is stored.

use base64::Engine as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "hw_";

/// A freshly minted key: the secret goes to the caller once, the hash to the store.
pub struct MintedKey {
    pub secret: String,
    pub hash: String,
}

pub fn mint() -> MintedKey {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&secret);
    MintedKey { secret, hash }
}

/// Hex SHA-256 of the whole key. A fast hash is right here: the key has 256 bits of entropy, so there is nothing to
/// guess, and the lookup happens on every request.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Cheap syntactic check before any lookup, so garbage never reaches the database.
pub fn looks_like_key(s: &str) -> bool {
    s.len() == PREFIX.len() + 43
        && s.starts_with(PREFIX)
        && s[PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Metadata of a key as stored and listed (never the secret).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ApiKeyMeta {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub revoked: bool,
    /// Updated at most once a minute per instance, so a busy key does not cost a write per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    /// Requests per minute this key may make; `None` takes the platform default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
    /// The key this one replaced by rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_from: Option<String>,
    /// The key that replaced this one; this key stops working at its `expires_at` (the end of the overlap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_to: Option<String>,
}

/// Highest per-key rate limit a tenant may set.
pub const MAX_RATE_LIMIT_PER_MINUTE: u32 = 100_000;
/// Longest overlap of a rotation, during which old and new key both work.
pub const MAX_ROTATION_OVERLAP_SECONDS: u32 = 7 * 24 * 3600;
pub const DEFAULT_ROTATION_OVERLAP_SECONDS: u32 = 3600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_are_well_formed_and_distinct() {
        let a = mint();
        let b = mint();
        assert!(looks_like_key(&a.secret), "{}", a.secret);
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash, hash(&a.secret));
        assert_eq!(a.hash.len(), 64);
        assert!(!looks_like_key("hw_short"));
        assert!(!looks_like_key(&a.secret.replace("hw_", "xx_")));
    }
}
