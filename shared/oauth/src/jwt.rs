//! Access tokens (RFC 9068) and ID tokens (OpenID Connect Core §2) as signed JWTs, and their verification.
//!
//! Verification trusts nothing the token says about how to verify it: the key comes from our own key set by
//! `kid` (never from `jku`, `jwk` or `x5u`), the algorithm must be the key's own (so an `HS256` token keyed with
//! our public key, or `alg: none`, cannot pass), and the `typ` keeps an ID token from being used as an access
//! token and the other way round (RFC 9068 §4, RFC 8725 §3.11).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::keys::{KeyError, KeySet, SigningAlg, VerifyingKeys};

/// The `typ` of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// The `typ` of ID tokens, the registered default for JWTs.
pub const ID_TOKEN_TYP: &str = "JWT";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("algorithm `{0}` is not accepted: only ES256 and RS256")]
    Algorithm(String),
    #[error("the token names algorithm `{token}` but key `{kid}` is {key}")]
    AlgorithmMismatch { token: String, kid: String, key: SigningAlg },
    #[error("the token header has critical extensions, none of which are understood")]
    Critical,
    #[error("the token header has no kid")]
    MissingKid,
    #[error("key `{0}` is not published")]
    UnknownKid(String),
    #[error("the token type `{found}` is not `{expected}`")]
    WrongType { expected: &'static str, found: String },
    #[error("the signature does not verify")]
    Signature,
    #[error("the token was not issued by this issuer")]
    Issuer,
    #[error("the token is not meant for this audience")]
    Audience,
    #[error("the token has expired")]
    Expired,
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the token claims are invalid: {0}")]
    Claims(String),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("signing failed: {0}")]
    Signing(String),
}

/// RFC 9068 §2.2 claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    /// The user, or the client itself for `client_credentials`.
    pub sub: String,
    /// The resource server the token is for.
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    /// Space-separated, as in the `scope` parameter.
    pub scope: String,
    /// The grant the token came from (a refresh-token family), so revoking the grant reaches its access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

/// OpenID Connect Core §2 claims of an ID token that this provider issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    /// The client id.
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
}

/// What a verified token must satisfy. `now` is passed in (seconds since the epoch) so verification is a pure
/// function of its inputs.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub now: i64,
    /// Tolerated clock difference between the signer and the verifier.
    pub leeway_secs: i64,
}

/// `at_hash` (OpenID Connect Core §3.1.3.6): the left half of the SHA-256 of the access token, base64url. SHA-256
/// is the hash of both ES256 and RS256, the only algorithms we sign with.
pub fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

pub fn sign_access_token(keys: &KeySet, claims: &AccessTokenClaims) -> Result<String, JwtError> {
    sign(keys, ACCESS_TOKEN_TYP, claims)
}

pub fn sign_id_token(keys: &KeySet, claims: &IdTokenClaims) -> Result<String, JwtError> {
    sign(keys, ID_TOKEN_TYP, claims)
}

pub fn verify_access_token<K: VerifyingKeys + ?Sized>(
    keys: &K,
    token: &str,
    expected: &Expected,
) -> Result<AccessTokenClaims, JwtError> {
    let claims: AccessTokenClaims = verify(keys, token, expected, |typ| {
        typ.is_some_and(|t| t.eq_ignore_ascii_case(ACCESS_TOKEN_TYP) || t.eq_ignore_ascii_case("application/at+jwt"))
    })?;
    check_times(claims.iat, claims.exp, expected)?;
    Ok(claims)
}

pub fn verify_id_token<K: VerifyingKeys + ?Sized>(
    keys: &K,
    token: &str,
    expected: &Expected,
) -> Result<IdTokenClaims, JwtError> {
    let claims: IdTokenClaims = verify(keys, token, expected, |typ| typ.is_none_or(|t| t.eq_ignore_ascii_case("JWT")))?;
    check_times(claims.iat, claims.exp, expected)?;
    Ok(claims)
}

/// RFC 7523 §3 claims of a `private_key_jwt` client assertion.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClientAssertionClaims {
    pub iss: String,
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    pub iat: Option<i64>,
    pub jti: String,
}

/// Verifies a client assertion (RFC 7523 §3, OIDC Core §9) signed with one of the client's registered keys:
/// `iss` and `sub` are the client id, `aud` names one of `audiences` (the token endpoint, or the issuer), `exp`
/// is in the future and no further than `max_lifetime_secs` away, and a `jti` is present for replay checks.
pub fn verify_client_assertion<K: VerifyingKeys + ?Sized>(
    keys: &K,
    token: &str,
    client_id: &str,
    audiences: &[&str],
    now: i64,
    max_lifetime_secs: i64,
) -> Result<ClientAssertionClaims, JwtError> {
    let expected =
        Expected { issuer: client_id, audience: audiences.first().copied().unwrap_or(""), now, leeway_secs: 30 };
    let claims: ClientAssertionClaims = verify_with(keys, token, &expected, audiences, |_| true)?;
    if claims.sub != client_id {
        return Err(JwtError::Claims("`sub` must be the client id".into()));
    }
    if claims.jti.is_empty() {
        return Err(JwtError::Claims("`jti` is missing".into()));
    }
    if claims.exp + expected.leeway_secs <= now {
        return Err(JwtError::Expired);
    }
    if claims.exp > now + max_lifetime_secs {
        return Err(JwtError::Claims(format!("`exp` is more than {max_lifetime_secs} seconds away")));
    }
    if claims.iat.is_some_and(|iat| iat - expected.leeway_secs > now) {
        return Err(JwtError::IssuedInFuture);
    }
    Ok(claims)
}

fn sign<T: Serialize>(keys: &KeySet, typ: &str, claims: &T) -> Result<String, JwtError> {
    let key = keys.signing_key()?;
    let mut header = Header::new(key.alg().jwt());
    header.typ = Some(typ.into());
    header.kid = Some(key.kid().into());
    jsonwebtoken::encode(&header, claims, &key.encoding_key()).map_err(|e| JwtError::Signing(e.to_string()))
}

/// The header members verification looks at, read before any library does, so the refusals are ours to state.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
    crit: Option<serde_json::Value>,
}

fn verify<T: DeserializeOwned, K: VerifyingKeys + ?Sized>(
    keys: &K,
    token: &str,
    expected: &Expected,
    typ_ok: impl Fn(Option<&str>) -> bool,
) -> Result<T, JwtError> {
    verify_with(keys, token, expected, &[expected.audience], typ_ok)
}

fn verify_with<T: DeserializeOwned, K: VerifyingKeys + ?Sized>(
    keys: &K,
    token: &str,
    expected: &Expected,
    audiences: &[&str],
    typ_ok: impl Fn(Option<&str>) -> bool,
) -> Result<T, JwtError> {
    let header_b64 = token.split('.').next().ok_or(JwtError::Malformed)?;
    let header: RawHeader = URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(JwtError::Malformed)?;
    let alg = match header.alg.as_str() {
        "ES256" => SigningAlg::ES256,
        "RS256" => SigningAlg::RS256,
        other => return Err(JwtError::Algorithm(other.into())),
    };
    if header.crit.is_some() {
        return Err(JwtError::Critical);
    }
    let kid = header.kid.ok_or(JwtError::MissingKid)?;
    let (key_alg, decoding_key) = keys.verifying_key(&kid).ok_or_else(|| JwtError::UnknownKid(kid.clone()))?;
    if key_alg != alg {
        return Err(JwtError::AlgorithmMismatch { token: header.alg, kid, key: key_alg });
    }
    if !typ_ok(header.typ.as_deref()) {
        let expected = if typ_ok(Some(ACCESS_TOKEN_TYP)) { ACCESS_TOKEN_TYP } else { ID_TOKEN_TYP };
        return Err(JwtError::WrongType { expected, found: header.typ.unwrap_or_default() });
    }

    let mut validation = Validation::new(alg.jwt());
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(audiences);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    // Times are checked against the caller's clock in `check_times`.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    jsonwebtoken::decode::<T>(token, &decoding_key, &validation).map(|data| data.claims).map_err(|e| match e.kind() {
        ErrorKind::InvalidSignature => JwtError::Signature,
        ErrorKind::InvalidIssuer => JwtError::Issuer,
        ErrorKind::InvalidAudience => JwtError::Audience,
        ErrorKind::MissingRequiredClaim(c) => JwtError::Claims(format!("`{c}` is missing")),
        ErrorKind::InvalidClaimFormat(c) => JwtError::Claims(format!("`{c}` is malformed")),
        ErrorKind::Json(e) => JwtError::Claims(e.to_string()),
        _ => JwtError::Malformed,
    })
}

fn check_times(iat: i64, exp: i64, expected: &Expected) -> Result<(), JwtError> {
    if exp + expected.leeway_secs <= expected.now {
        return Err(JwtError::Expired);
    }
    if iat - expected.leeway_secs > expected.now {
        return Err(JwtError::IssuedInFuture);
    }
    Ok(())
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
