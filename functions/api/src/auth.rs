//! Authentication: the API key from `Authorization: Bearer` or `X-Api-Key` becomes a principal, and with it the
//! tenant of the request. Scope checks sit next to the routes.

use hw_domain::principal::Principal;
use hw_store::tenants::AuthError;

use crate::Deps;
use crate::error::ApiError;
use crate::http::Request;

pub async fn authenticate(deps: &Deps, req: &Request) -> Result<Principal, ApiError> {
    let bearer = req.header("authorization").and_then(|h| {
        let (scheme, token) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let secret = bearer.or_else(|| req.header("x-api-key").map(str::trim)).ok_or(AuthError::Missing)?;
    let principal = deps.tenants.authenticate(secret).await?;
    tracing::Span::current().record("tenant", principal.tenant.as_str());
    Ok(principal)
}

pub fn require(principal: &Principal, scope: &str) -> Result<(), ApiError> {
    if principal.has_scope(scope) { Ok(()) } else { Err(ApiError::forbidden(scope)) }
}
