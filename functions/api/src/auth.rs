//! Authentication: the API key from `Authorization: Bearer` or `X-Api-Key`, or an access token of the `oauth`
//! function in `Authorization: Bearer`, becomes a principal, and with it the tenant of the request. Scope checks
//! sit next to the routes.

use hw_domain::principal::Principal;
use hw_store::tenants::AuthError;

use crate::Deps;
use crate::error::ApiError;
use crate::http::Request;

/// Why a request was not authenticated, and its tenant when the credentials still named one.
pub struct AuthFailure {
    pub error: ApiError,
    pub tenant: Option<String>,
}

/// Whether the request carries credentials at all (some routes answer differently without).
pub fn has_credentials(req: &Request) -> bool {
    req.header("authorization").is_some() || req.header("x-api-key").is_some()
}

pub async fn authenticate(deps: &Deps, req: &Request) -> Result<Principal, AuthFailure> {
    use hw_apigw::Credential;
    let (secret, bearer) = match hw_apigw::credential(&req.headers) {
        Credential::Bearer(b) => (b, Some(b)),
        Credential::ApiKey(k) => (k, None),
        Credential::Missing => return Err(AuthFailure { error: AuthError::Missing.into(), tenant: None }),
        Credential::Conflicting => {
            let error = ApiError::new(
                401,
                "invalid-credentials",
                "Invalid credentials",
                "`Authorization` and `X-Api-Key` carry different keys; send one key",
            )
            .with_header("www-authenticate", "Bearer realm=\"hubblewave\", error=\"invalid_request\"");
            return Err(AuthFailure { error, tenant: None });
        }
    };
    if let Some(token) = bearer.filter(|b| hw_oauth_store::verifier::looks_like_jwt(b)) {
        return access_token(deps, req, token).await;
    }
    match deps.tenants.authenticate(secret).await {
        Ok(principal) => {
            tracing::Span::current().record("tenant", principal.tenant.as_str());
            Ok(principal)
        }
        Err(e) => {
            let tenant = match &e {
                AuthError::Expired { tenant } => Some(tenant.clone()),
                _ => None,
            };
            Err(AuthFailure { error: e.into(), tenant })
        }
    }
}

/// An OAuth access token, checked locally against the issuing tenant's published keys and the revocation markers.
async fn access_token(deps: &Deps, req: &Request, token: &str) -> Result<Principal, AuthFailure> {
    use hw_oauth_store::verifier::TokenError;
    let base = deps.config.public_base_url.as_deref().unwrap_or(&req.base_url);
    match deps.oauth.verifier.verify(token, base, chrono::Utc::now().timestamp()).await {
        Ok(v) => {
            tracing::Span::current().record("tenant", v.principal.tenant.as_str());
            Ok(v.principal)
        }
        Err(TokenError::Invalid(reason)) => {
            let error = ApiError::new(401, "invalid-token", "Invalid access token", reason.clone()).with_header(
                "www-authenticate",
                format!(
                    "Bearer realm=\"hubblewave\", error=\"invalid_token\", error_description=\"{}\"",
                    reason.replace('"', "'")
                ),
            );
            Err(AuthFailure { error, tenant: None })
        }
        Err(TokenError::Unavailable(e)) => {
            tracing::error!(error = %e, "access-token check unavailable");
            Err(AuthFailure {
                error: ApiError::new(
                    503,
                    "unavailable",
                    "Service unavailable",
                    "access tokens cannot be checked right now; retry",
                ),
                tenant: None,
            })
        }
    }
}

pub fn require(principal: &Principal, scope: &str) -> Result<(), ApiError> {
    if principal.has_scope(scope) { Ok(()) } else { Err(ApiError::forbidden(scope)) }
}
