//! Page cursors: opaque to clients, tamper-proof, and bound to the query that made them.
//!
//! A cursor is `base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))`, where the payload is JSON
//! `{"v": 1, "q": <query fingerprint>, "k": [sort-key values], "id": <last record id>}`. The key is per tenant
//! (derived from the tenant's data key by the caller), so a cursor does not verify in another tenant either.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

const VERSION: u8 = 1;
/// Longest cursor accepted; real ones are far shorter (sort keys are bounded by field limits).
pub const MAX_LEN: usize = 8192;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The fingerprint of the query the cursor belongs to.
    #[serde(rename = "q")]
    pub query: String,
    /// The sort-key values of the last record of the page (as stored JSON).
    #[serde(rename = "k")]
    pub values: Vec<Value>,
    /// The id of the last record of the page.
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("the cursor is not one this API issued")]
    Malformed,
    #[error("the cursor's signature does not verify")]
    Forged,
    #[error("the cursor belongs to a different filter or sort")]
    OtherQuery,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    v: u8,
    #[serde(flatten)]
    cursor: Cursor,
}

fn mac(key: &[u8; 32], data: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(data);
    m
}

/// Signs a cursor.
pub fn encode(key: &[u8; 32], cursor: &Cursor) -> String {
    let payload = serde_json::to_vec(&Payload { v: VERSION, cursor: cursor.clone() }).expect("cursor serialises");
    let body = B64.encode(payload);
    let tag = mac(key, body.as_bytes()).finalize().into_bytes();
    format!("{body}.{}", B64.encode(tag))
}

/// Verifies a cursor's signature (in constant time) and that it belongs to `query`.
pub fn decode(key: &[u8; 32], token: &str, query: &str) -> Result<Cursor, CursorError> {
    if token.len() > MAX_LEN {
        return Err(CursorError::Malformed);
    }
    let (body, tag) = token.split_once('.').ok_or(CursorError::Malformed)?;
    let tag = B64.decode(tag).map_err(|_| CursorError::Malformed)?;
    mac(key, body.as_bytes()).verify_slice(&tag).map_err(|_| CursorError::Forged)?;
    let payload: Payload = B64
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|p: &Payload| p.v == VERSION)
        .ok_or(CursorError::Malformed)?;
    if payload.cursor.query != query {
        return Err(CursorError::OtherQuery);
    }
    Ok(payload.cursor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: [u8; 32] = [7; 32];

    fn cursor() -> Cursor {
        Cursor { query: "q1".into(), values: vec![json!("Ada"), json!(null), json!(36)], id: "01ABC".into() }
    }

    #[test]
    fn a_cursor_round_trips() {
        let token = encode(&KEY, &cursor());
        assert!(!token.contains(['+', '/', '=', '%', '&']), "URL-safe: {token}");
        assert_eq!(decode(&KEY, &token, "q1").unwrap(), cursor());
    }

    #[test]
    fn any_change_to_a_cursor_is_refused() {
        let token = encode(&KEY, &cursor());
        let (body, tag) = token.split_once('.').unwrap();
        // a different payload under the old signature
        let forged = Cursor { id: "01ZZZ".into(), ..cursor() };
        let forged_body = encode(&KEY, &forged).split_once('.').unwrap().0.to_owned();
        assert_eq!(decode(&KEY, &format!("{forged_body}.{tag}"), "q1"), Err(CursorError::Forged));
        // one character flipped in the signature
        let mut bad_tag = tag.to_owned().into_bytes();
        bad_tag[0] = if bad_tag[0] == b'A' { b'B' } else { b'A' };
        let bad_tag = String::from_utf8(bad_tag).unwrap();
        assert_eq!(decode(&KEY, &format!("{body}.{bad_tag}"), "q1"), Err(CursorError::Forged));
        // signed with another tenant's key
        assert_eq!(decode(&[8; 32], &token, "q1"), Err(CursorError::Forged));
        // garbage
        for junk in ["", "abc", "%%%", ".", "a.b", &"x".repeat(MAX_LEN + 1)] {
            assert!(decode(&KEY, junk, "q1").is_err(), "{junk}");
        }
    }

    #[test]
    fn a_cursor_of_another_query_is_refused() {
        let token = encode(&KEY, &cursor());
        assert_eq!(decode(&KEY, &token, "q2"), Err(CursorError::OtherQuery));
    }

    #[test]
    fn a_correctly_signed_payload_of_another_version_is_malformed() {
        let body = B64.encode(br#"{"v":2,"q":"q1","k":[],"id":"x"}"#);
        let tag = B64.encode(mac(&KEY, body.as_bytes()).finalize().into_bytes());
        assert_eq!(decode(&KEY, &format!("{body}.{tag}"), "q1"), Err(CursorError::Malformed));
    }
}
