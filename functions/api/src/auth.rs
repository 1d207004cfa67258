//! Authentication: the API key from `Authorization: Bearer` or `X-Api-Key` becomes a principal, and with it the
//! tenant of the request. Scope checks sit next to the routes.

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

pub async fn authenticate(deps: &Deps, req: &Request) -> Result<Principal, AuthFailure> {
    let bearer = req.header("authorization").and_then(|h| {
        let (scheme, token) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let Some(secret) = bearer.or_else(|| req.header("x-api-key").map(str::trim)) else {
        return Err(AuthFailure { error: AuthError::Missing.into(), tenant: None });
    };
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

pub fn require(principal: &Principal, scope: &str) -> Result<(), ApiError> {
    if principal.has_scope(scope) { Ok(()) } else { Err(ApiError::forbidden(scope)) }
}
