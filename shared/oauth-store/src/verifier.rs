//! Access-token checks for resource servers (the REST and GraphQL APIs): the token's signature against the issuing
//! tenant's published keys (cached per instance, so a request costs a signature check and no key parsing), its
//! claims, and the revocation markers the provider writes, read in one batch.
//!
//! The tenant is the one in the token's issuer, `{base}/t/{tenant}`, and the issuer must sit under this
//! deployment's base URL: a token minted for one tenant names that tenant, so it cannot act in another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hw_domain::principal::Principal;
use hw_oauth::jwt::{self, AccessTokenClaims, Expected};
use hw_oauth::keys::PublicKeys;
use hw_oauth::scope::Scopes;
use sha2::{Digest, Sha256};

use crate::model::Revoked;
use crate::ports::OAuthStore;

/// How long published keys are trusted before they are read again. A rotation publishes the next key long before
/// it signs, so this only needs to be shorter than a key's time as pending.
const KEYS_FRESH_FOR: Duration = Duration::from_secs(300);
/// An unknown `kid` re-reads the keys at most this often, so forged kids cannot make every request read them.
const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(10);
pub const LEEWAY_SECS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token is not acceptable; the text is safe to return to the caller.
    #[error("{0}")]
    Invalid(String),
    #[error("token checks are briefly unavailable: {0}")]
    Unavailable(String),
}

/// True when `credential` has the shape of a JWT (API keys never do).
pub fn looks_like_jwt(credential: &str) -> bool {
    credential.split('.').count() == 3 && credential.starts_with("ey")
}

/// Tokens whose signature and claims this instance checked already, at most this many: a client sends the same
/// access token with every request for its whole life, and the signature check is the expensive part.
const CHECKED_CAPACITY: usize = 10_000;

pub struct AccessTokenVerifier {
    store: Arc<dyn OAuthStore>,
    keys: Mutex<HashMap<String, (Instant, Arc<PublicKeys>)>>,
    /// SHA-256 of a token → its tenant and claims, kept until the token expires. Only the exact token string hits,
    /// so a tampered copy is checked in full; revocation is still read on every request.
    checked: Mutex<HashMap<[u8; 32], (String, AccessTokenClaims)>>,
}

/// A verified token and the principal it makes.
pub struct Verified {
    pub principal: Principal,
    pub claims: AccessTokenClaims,
}

impl AccessTokenVerifier {
    pub fn new(store: Arc<dyn OAuthStore>) -> Self {
        Self { store, keys: Mutex::default(), checked: Mutex::default() }
    }

    async fn public_keys(&self, tenant: &str, kid: &str, now: i64) -> Result<Arc<PublicKeys>, TokenError> {
        let cached = self.keys.lock().expect("not poisoned").get(tenant).cloned();
        if let Some((at, keys)) = &cached {
            let fresh = at.elapsed() < KEYS_FRESH_FOR;
            if fresh && (keys.contains(kid) || at.elapsed() < REFRESH_AT_MOST_EVERY) {
                return Ok(keys.clone());
            }
        }
        let stored = self.store.get_keys(tenant).await.map_err(|e| TokenError::Unavailable(e.to_string()))?;
        let keys = PublicKeys::from_jwks(&crate::keys::jwks(&stored, now))
            .map_err(|e| TokenError::Unavailable(format!("published keys unreadable: {e}")))?;
        let keys = Arc::new(keys);
        self.keys.lock().expect("not poisoned").insert(tenant.to_owned(), (Instant::now(), keys.clone()));
        Ok(keys)
    }

    /// Verifies `token` for an API served under `base` (the deployment's public base URL).
    pub async fn verify(&self, token: &str, base: &str, now: i64) -> Result<Verified, TokenError> {
        let digest: [u8; 32] = Sha256::digest(format!("{base}\n{token}").as_bytes()).into();
        let cached = self.checked.lock().expect("not poisoned").get(&digest).cloned();
        let (tenant, claims) = match cached {
            Some((tenant, claims)) if claims.exp + LEEWAY_SECS > now => (tenant, claims),
            _ => {
                let (tenant, claims) = self.check_signed(token, base, now).await?;
                let mut checked = self.checked.lock().expect("not poisoned");
                if checked.len() >= CHECKED_CAPACITY {
                    checked.retain(|_, (_, c)| c.exp + LEEWAY_SECS > now);
                    if checked.len() >= CHECKED_CAPACITY {
                        checked.clear();
                    }
                }
                checked.insert(digest, (tenant.clone(), claims.clone()));
                (tenant, claims)
            }
        };
        self.principal(&tenant, claims, now).await
    }

    /// The signature and claims of a token not seen before.
    async fn check_signed(&self, token: &str, base: &str, now: i64) -> Result<(String, AccessTokenClaims), TokenError> {
        let invalid = |s: &str| TokenError::Invalid(s.to_owned());
        let mut parts = token.split('.');
        let header = parts.next().and_then(decode).ok_or_else(|| invalid("the token is not a well-formed JWT"))?;
        let payload = parts.next().and_then(decode).ok_or_else(|| invalid("the token is not a well-formed JWT"))?;
        let iss = payload.get("iss").and_then(|v| v.as_str()).ok_or_else(|| invalid("the token has no issuer"))?;
        let tenant = iss
            .strip_prefix(base.trim_end_matches('/'))
            .and_then(|rest| rest.strip_prefix("/t/"))
            .filter(|t| hw_domain::ids::is_valid_tenant_id(t))
            .ok_or_else(|| invalid("the token was not issued by this platform"))?;
        let kid = header.get("kid").and_then(|v| v.as_str()).unwrap_or("");
        let keys = self.public_keys(tenant, kid, now).await?;
        let expected = Expected { issuer: iss, audience: base.trim_end_matches('/'), now, leeway_secs: LEEWAY_SECS };
        let claims = jwt::verify_access_token(keys.as_ref(), token, &expected).map_err(|e| invalid(&e.to_string()))?;
        Ok((tenant.to_owned(), claims))
    }

    /// Revocation, then the principal the claims make.
    async fn principal(&self, tenant: &str, claims: AccessTokenClaims, now: i64) -> Result<Verified, TokenError> {
        let invalid = |s: &str| TokenError::Invalid(s.to_owned());
        let mut markers = vec![Revoked::Token(claims.jti.clone()), Revoked::Subject(claims.sub.clone())];
        if let Some(gid) = &claims.gid {
            markers.push(Revoked::Grant(gid.clone()));
        }
        if self
            .store
            .any_revoked(tenant, &markers, claims.iat, now)
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?
        {
            return Err(invalid("the token has been revoked"));
        }
        let scopes = Scopes::parse(&claims.scope).map_err(|e| invalid(&e.to_string()))?;
        let actor = if claims.sub == claims.client_id {
            format!("oauth:{}", claims.client_id)
        } else {
            format!("oauth:{}:user:{}", claims.client_id, claims.sub)
        };
        Ok(Verified { principal: Principal::new(tenant, actor, scopes.api_permissions()), claims })
    }
}

fn decode(part: &str) -> Option<serde_json::Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryOAuthStore;
    use hw_aws::kms::StaticKeyring;

    const BASE: &str = "https://hub.example";

    async fn setup() -> (Arc<MemoryOAuthStore>, hw_oauth::keys::KeySet) {
        let store = Arc::new(MemoryOAuthStore::new());
        let keys = crate::keys::load(store.as_ref(), &StaticKeyring::new([1; 32]), "acme", 1000).await.unwrap();
        (store, keys)
    }

    fn claims(sub: &str) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: format!("{BASE}/t/acme"),
            sub: sub.into(),
            aud: BASE.into(),
            exp: 2000,
            iat: 1000,
            jti: "j1".into(),
            client_id: "c1".into(),
            scope: "openid data:read:contact".into(),
            gid: Some("g1".into()),
        }
    }

    #[tokio::test]
    async fn tokens_become_principals_of_their_issuing_tenant() {
        let (store, keys) = setup().await;
        let verifier = AccessTokenVerifier::new(store.clone());
        let token = jwt::sign_access_token(&keys, &claims("u1")).unwrap();
        let v = verifier.verify(&token, BASE, 1500).await.unwrap();
        assert_eq!(v.principal.tenant, "acme");
        assert_eq!(v.principal.actor, "oauth:c1:user:u1");
        assert_eq!(v.principal.scopes, vec!["data:read:contact".to_string()], "OIDC scopes grant no API permission");
        let client_token = jwt::sign_access_token(&keys, &claims("c1")).unwrap();
        assert_eq!(verifier.verify(&client_token, BASE, 1500).await.unwrap().principal.actor, "oauth:c1");
    }

    #[tokio::test]
    async fn foreign_expired_and_revoked_tokens_are_refused() {
        let (store, keys) = setup().await;
        let verifier = AccessTokenVerifier::new(store.clone());
        let token = jwt::sign_access_token(&keys, &claims("u1")).unwrap();
        assert!(matches!(verifier.verify(&token, "https://other.example", 1500).await, Err(TokenError::Invalid(_))));
        assert!(matches!(verifier.verify(&token, BASE, 3000).await, Err(TokenError::Invalid(_))));
        // Signed with another tenant's keys but claiming acme.
        let (_, other_keys) = setup().await;
        let forged = jwt::sign_access_token(&other_keys, &claims("u1")).unwrap();
        assert!(matches!(verifier.verify(&forged, BASE, 1500).await, Err(TokenError::Invalid(_))));
        for marker in [Revoked::Token("j1".into()), Revoked::Grant("g1".into()), Revoked::Subject("u1".into())] {
            let store = Arc::new(MemoryOAuthStore::new());
            store.put_keys("acme", &store_keys(&verifier).await, 0).await.unwrap();
            let v = AccessTokenVerifier::new(store.clone());
            assert!(v.verify(&token, BASE, 1500).await.is_ok());
            store.mark_revoked("acme", &marker, 1000, 1600).await.unwrap();
            assert!(matches!(v.verify(&token, BASE, 1500).await, Err(TokenError::Invalid(_))), "{marker:?}");
            let mut later = claims("u1");
            later.iat = 1001;
            let issued_after = jwt::sign_access_token(&keys, &later).unwrap();
            assert!(
                v.verify(&issued_after, BASE, 1500).await.is_ok(),
                "tokens issued after the marker are not affected"
            );
        }
    }

    async fn store_keys(v: &AccessTokenVerifier) -> crate::model::StoredKeySet {
        v.store.get_keys("acme").await.unwrap()
    }
}
