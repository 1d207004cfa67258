//! Who calls GraphQL: an API key, or an access token of the `oauth` function (a JWT, checked locally by the shared
//! verifier), as in the REST API. The tenant comes from the credentials, never from the request. Shared by GraphQL
//! over HTTP (a header) and over WebSocket (the `connection_init` payload), where a subscription outlives the
//! request that made it: [`Authenticator::still_valid`] re-checks its credentials before each delivery.

use hw_domain::principal::Principal;
use hw_oauth_store::verifier::{AccessTokenVerifier, TokenError, looks_like_jwt};
use hw_store::tenants::{AuthError, Tenants};

pub struct Authenticator {
    pub tenants: Tenants,
    pub verifier: AccessTokenVerifier,
    /// The platform's public base URL, when configured: tokens' issuers are `{base}/t/{tenant}`.
    pub public_base_url: Option<String>,
}

/// A principal and when its credentials end (seconds since the epoch): a token's `exp`; `None` for API keys, whose
/// expiry and revocation [`Authenticator::still_valid`] reads from the key itself.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// The credentials are not valid (RFC 6750 `error`: `invalid_token`).
    Invalid(String),
    /// They cannot be checked now (storage unavailable); the caller may retry.
    Unavailable,
}

impl Authenticator {
    /// The principal of an API key or access token. `request_base` is the URL the request came to (scheme and
    /// host), used for the issuer when no public base URL is configured.
    pub async fn authenticate(&self, secret: &str, request_base: &str) -> Result<Authenticated, AuthFailure> {
        let now = chrono::Utc::now().timestamp();
        if looks_like_jwt(secret) {
            let base = self.public_base_url.as_deref().unwrap_or(request_base);
            return match self.verifier.verify(secret, base, now).await {
                Ok(v) => Ok(Authenticated { principal: v.principal, expires_at: Some(v.claims.exp) }),
                Err(TokenError::Invalid(reason)) => Err(AuthFailure::Invalid(reason.to_string())),
                Err(TokenError::Unavailable(e)) => Err(unavailable(e)),
            };
        }
        match self.tenants.authenticate(secret).await {
            // An API key's expiry and revocation are read again by `still_valid`, not carried here.
            Ok(principal) => Ok(Authenticated { principal, expires_at: None }),
            Err(AuthError::Expired { .. }) => Err(AuthFailure::Invalid("the API key has expired".into())),
            Err(AuthError::Unavailable(e)) => Err(unavailable(e)),
            Err(_) => Err(AuthFailure::Invalid("the API key is not valid".into())),
        }
    }

    /// Whether credentials accepted earlier still hold at `now`: not past their expiry, and, for an API key, not
    /// revoked (or given an earlier expiry) since.
    pub async fn still_valid(&self, who: &Authenticated, now: i64) -> Result<bool, AuthFailure> {
        if who.expires_at.is_some_and(|exp| exp <= now) {
            return Ok(false);
        }
        let Some(id) = api_key_id(&who.principal) else { return Ok(true) };
        let key = self.tenants.control.get_api_key(&who.principal.tenant, id).await.map_err(unavailable)?;
        Ok(key.is_some_and(|k| !k.revoked && expiry(k.expires_at.as_deref()).is_none_or(|exp| exp > now)))
    }
}

fn api_key_id(p: &Principal) -> Option<&str> {
    p.actor.strip_prefix("apikey:")
}

fn expiry(rfc3339: Option<&str>) -> Option<i64> {
    rfc3339.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| t.timestamp())
}

fn unavailable(e: impl std::fmt::Display) -> AuthFailure {
    tracing::error!(error = %e, "credentials could not be checked");
    AuthFailure::Unavailable
}
