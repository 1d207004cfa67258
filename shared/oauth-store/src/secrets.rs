//! Opaque secrets: client secrets, authorization codes, refresh tokens and session cookies. Each is 256 random
//! bits behind a prefix that says what it is (so a leaked one is recognisable in logs and by secret scanners), and
//! only its SHA-256 is stored: with 256 bits of entropy there is nothing to guess, and a fast hash keeps lookups
//! cheap.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

pub const CLIENT_SECRET_PREFIX: &str = "hwcs_";
pub const CODE_PREFIX: &str = "hwac_";
pub const REFRESH_PREFIX: &str = "hwrt_";
pub const SESSION_PREFIX: &str = "hwss_";

/// A fresh random secret: `prefix` + 43 base64url characters.
pub fn mint(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Hex SHA-256, the form secrets are stored and looked up in.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `candidate` has the shape `mint(prefix)` produces, checked before any lookup.
pub fn has_shape(candidate: &str, prefix: &str) -> bool {
    candidate.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == 43 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Constant-time comparison of two hashes, so a comparison's time says nothing about how much of it matched.
pub fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A refresh token names its family so the family's item is read directly: `hwrt_<family in base64url>.<secret>`.
pub fn refresh_token(family_id: &str) -> (String, String) {
    let secret = mint("");
    let token = format!("{REFRESH_PREFIX}{}.{secret}", URL_SAFE_NO_PAD.encode(family_id));
    let hash = hash(&token);
    (token, hash)
}

/// The family a refresh token names, when the token has the right shape.
pub fn refresh_family(token: &str) -> Option<String> {
    let (family, secret) = token.strip_prefix(REFRESH_PREFIX)?.split_once('.')?;
    if secret.len() != 43 || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return None;
    }
    let family = String::from_utf8(URL_SAFE_NO_PAD.decode(family).ok()?).ok()?;
    (!family.is_empty() && family.len() <= 300).then_some(family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_secrets_have_their_shape_and_differ() {
        let a = mint(CODE_PREFIX);
        assert!(has_shape(&a, CODE_PREFIX));
        assert!(!has_shape(&a, CLIENT_SECRET_PREFIX));
        assert_ne!(a, mint(CODE_PREFIX));
        assert!(!has_shape("hwac_short", CODE_PREFIX));
    }

    #[test]
    fn refresh_tokens_name_their_family() {
        let (token, hash_) = refresh_token("u1#c1#01J");
        assert_eq!(refresh_family(&token).as_deref(), Some("u1#c1#01J"));
        assert!(same_hash(&hash(&token), &hash_));
        assert_eq!(refresh_family("hwrt_abc"), None);
        assert_eq!(refresh_family(&format!("{token}x")), None);
    }
}
