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
    let header_key = req.header("x-api-key").map(str::trim);
    if let (Some(b), Some(k)) = (bearer, header_key)
        && b != k
    {
        // Two different keys: which one is meant is anyone's guess, so neither is used.
        return Err(ApiError::new(
            401,
            "invalid-credentials",
            "Invalid credentials",
            "`Authorization` and `X-Api-Key` carry different keys; send one key",
        )
        .with_header("www-authenticate", "Bearer realm=\"hubblewave\", error=\"invalid_request\""));
    }
    let secret = bearer.or(header_key).ok_or(AuthError::Missing)?;
    let principal = deps.tenants.authenticate(secret).await?;
    tracing::Span::current().record("tenant", principal.tenant.as_str());
    Ok(principal)
}

pub fn require(principal: &Principal, scope: &str) -> Result<(), ApiError> {
    if principal.has_scope(scope) { Ok(()) } else { Err(ApiError::forbidden(scope)) }
}
