//! OpenID Connect Discovery 1.0 and RFC 8414 metadata, and the JWKS.

use serde_json::json;

use crate::http::Response;
use crate::{Deps, Issuer, json_error};

/// The API scopes advertised: the per-entity ones exist too but depend on the tenant's models.
const SCOPES: &[&str] =
    &["openid", "profile", "email", "offline_access", "data:read", "data:write", "models:write", "admin"];

pub fn metadata(issuer: &Issuer) -> Response {
    let e = |p: &str| issuer.endpoint(p);
    let doc = json!({
        "issuer": issuer.url,
        "authorization_endpoint": e("authorize"),
        "token_endpoint": e("token"),
        "userinfo_endpoint": e("userinfo"),
        "jwks_uri": e("jwks.json"),
        "introspection_endpoint": e("introspect"),
        "revocation_endpoint": e("revoke"),
        "end_session_endpoint": e("logout"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "userinfo_signing_alg_values_supported": [],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "name", "preferred_username", "email"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": false,
    });
    Response::json(200, &doc).header("cache-control", "public, max-age=300").header("access-control-allow-origin", "*")
}

pub async fn jwks(deps: &Deps, issuer: &Issuer) -> Response {
    match deps.key_set(&issuer.tenant).await {
        Ok(set) => Response::json(200, &serde_json::to_value(set.jwks()).expect("a JWKS serialises"))
            .header("content-type", "application/jwk-set+json")
            // Short enough that a verifier sees a new pending key well before it signs.
            .header("cache-control", "public, max-age=300")
            .header("access-control-allow-origin", "*"),
        Err(e) => json_error(&e),
    }
}
