//! Token introspection (RFC 7662), revocation (RFC 7009) and the userinfo endpoint (OIDC Core §5.3).

use hw_oauth::client::Client;
use hw_oauth::errors::{ErrorCode, OAuthError};
use hw_oauth::jwt::{self, AccessTokenClaims, Expected};
use hw_oauth::scope::{self, Scopes};
use hw_oauth_store::verifier::TokenError;
use hw_oauth_store::{Revoked, secrets};
use serde_json::{Value, json};

use crate::http::{Params, Request, Response};
use crate::{Deps, Issuer, api_audience, json_error, now, unavailable};

pub use hw_oauth_store::verifier::LEEWAY_SECS;

/// Why an access token is not accepted.
pub enum Inactive {
    Invalid(String),
    Unavailable(OAuthError),
}

/// An access token checked exactly as resource servers check it (the shared verifier: signature, claims,
/// revocation markers), issued by this issuer, plus what only the provider knows: whether its user may still sign
/// in.
pub async fn active_access_token(
    deps: &Deps,
    issuer: &Issuer,
    token: &str,
    now: i64,
) -> Result<AccessTokenClaims, Inactive> {
    let verified = deps.verifier.verify(token, &issuer.base, now).await.map_err(|e| match e {
        TokenError::Invalid(reason) => Inactive::Invalid(reason),
        TokenError::Unavailable(e) => Inactive::Unavailable(unavailable(e)),
    })?;
    if verified.principal.tenant != issuer.tenant {
        return Err(Inactive::Invalid("the token was issued by another tenant".into()));
    }
    let claims = verified.claims;
    if claims.sub != claims.client_id {
        match deps.users.user(&issuer.tenant, &claims.sub).await {
            Ok(Some(u)) if u.active => {}
            Ok(_) => return Err(Inactive::Invalid("the user can no longer sign in".into())),
            Err(e) => return Err(Inactive::Unavailable(unavailable(e))),
        }
    }
    Ok(claims)
}

fn token_param(req: &Request) -> Result<&str, OAuthError> {
    let form = Params(&req.form);
    if let Some(name) = form.repeated() {
        return Err(OAuthError::new(ErrorCode::InvalidRequest, format!("`{name}` is sent more than once")));
    }
    form.get("token").ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "token is missing"))
}

/// `POST /introspect`: confidential clients (resource servers) only.
pub async fn introspect(deps: &Deps, req: &Request, issuer: &Issuer) -> Response {
    let result = async {
        let _client = crate::client_auth::authenticate(deps, req, issuer, false).await?;
        let token = token_param(req)?;
        let now = now();
        if token.starts_with(secrets::REFRESH_PREFIX) {
            return refresh_introspection(deps, issuer, token, now).await;
        }
        match active_access_token(deps, issuer, token, now).await {
            Ok(c) => Ok(json!({
                "active": true,
                "scope": c.scope,
                "client_id": c.client_id,
                "sub": c.sub,
                "exp": c.exp,
                "iat": c.iat,
                "iss": c.iss,
                "aud": c.aud,
                "jti": c.jti,
                "token_type": "Bearer",
            })),
            Err(Inactive::Invalid(_)) => Ok(json!({"active": false})),
            Err(Inactive::Unavailable(e)) => Err(e),
        }
    }
    .await;
    match result {
        Ok(body) => Response::json(200, &body).no_store(),
        Err(e) => json_error(&e),
    }
}

async fn refresh_introspection(deps: &Deps, issuer: &Issuer, token: &str, now: i64) -> Result<Value, OAuthError> {
    let Some(id) = secrets::refresh_family(token) else { return Ok(json!({"active": false})) };
    let Some(f) = deps.store.get_family(&issuer.tenant, &id).await.map_err(unavailable)? else {
        return Ok(json!({"active": false}));
    };
    let current = secrets::same_hash(&f.current_hash, &secrets::hash(token));
    let user_active = deps.users.user(&issuer.tenant, &f.user_id).await.map_err(unavailable)?.is_some_and(|u| u.active);
    if !current || f.revoked_at.is_some() || f.token_expires_at <= now || !user_active {
        return Ok(json!({"active": false}));
    }
    Ok(json!({
        "active": true,
        "scope": f.scope,
        "client_id": f.client_id,
        "sub": f.user_id,
        "exp": f.token_expires_at,
        "iss": issuer.url,
        "token_type": "refresh_token",
    }))
}

/// `POST /revoke`: a client revokes its own refresh or access token. An unknown or invalid token is not an error
/// (RFC 7009 §2.2): the outcome the client wants holds either way.
pub async fn revoke(deps: &Deps, req: &Request, issuer: &Issuer) -> Response {
    let result = async {
        let client = crate::client_auth::authenticate(deps, req, issuer, true).await?;
        let token = token_param(req)?;
        let now = now();
        if token.starts_with(secrets::REFRESH_PREFIX) {
            revoke_refresh(deps, issuer, &client, token, now).await
        } else {
            revoke_access(deps, issuer, &client, token, now).await
        }
    }
    .await;
    match result {
        Ok(()) => Response::new(200, "application/json", String::new()).no_store(),
        Err(e) => json_error(&e),
    }
}

fn not_yours() -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequest, "the token was not issued to this client")
}

async fn revoke_refresh(
    deps: &Deps,
    issuer: &Issuer,
    client: &Client,
    token: &str,
    now: i64,
) -> Result<(), OAuthError> {
    let Some(id) = secrets::refresh_family(token) else { return Ok(()) };
    let Some(f) = deps.store.get_family(&issuer.tenant, &id).await.map_err(unavailable)? else { return Ok(()) };
    if f.client_id != client.id {
        return Err(not_yours());
    }
    crate::token::revoke_grant(deps, issuer, &id, now).await
}

async fn revoke_access(deps: &Deps, issuer: &Issuer, client: &Client, token: &str, now: i64) -> Result<(), OAuthError> {
    let keys = deps.key_set(&issuer.tenant).await?;
    let audience = api_audience(&issuer.base);
    let expected = Expected { issuer: &issuer.url, audience: &audience, now, leeway_secs: LEEWAY_SECS };
    let claims = match jwt::verify_access_token(keys.as_ref(), token, &expected) {
        Ok(c) => c,
        // Expired, foreign or forged: nothing to revoke.
        Err(_) => return Ok(()),
    };
    if claims.client_id != client.id {
        return Err(not_yours());
    }
    deps.store
        .mark_revoked(&issuer.tenant, &Revoked::Token(claims.jti), now, claims.exp + LEEWAY_SECS)
        .await
        .map_err(unavailable)
}

fn bearer_error(status: u16, error: &str, description: &str) -> Response {
    let challenge = format!(
        "Bearer realm=\"hubblewave\", error=\"{error}\", error_description=\"{}\"",
        description.replace('"', "'")
    );
    Response::json(status, &json!({"error": error, "error_description": description}))
        .header("www-authenticate", challenge)
        .no_store()
}

/// `GET|POST /userinfo` with the access token as a Bearer header (or the form's `access_token`, RFC 6750 §2.2).
pub async fn userinfo(deps: &Deps, req: &Request, issuer: &Issuer) -> Response {
    let header = req.header("authorization").and_then(|h| {
        let (scheme, token) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let form = if req.method == "POST" { Params(&req.form).get("access_token") } else { None };
    let token = match (header, form) {
        (Some(_), Some(_)) => return bearer_error(400, "invalid_request", "send the token once"),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => {
            return Response::json(
                401,
                &json!({"error": "invalid_token", "error_description": "an access token is required"}),
            )
            .header("www-authenticate", "Bearer realm=\"hubblewave\"")
            .no_store();
        }
    };
    let now = now();
    let claims = match active_access_token(deps, issuer, token, now).await {
        Ok(c) => c,
        Err(Inactive::Invalid(reason)) => return bearer_error(401, "invalid_token", &reason),
        Err(Inactive::Unavailable(e)) => return json_error(&e),
    };
    let scopes = Scopes::parse(&claims.scope).unwrap_or_default();
    let has = |s: &str| scopes.iter().any(|x| x.to_string() == s);
    if !has(scope::OPENID) || claims.sub == claims.client_id {
        return bearer_error(403, "insufficient_scope", "userinfo needs a user's token with the openid scope");
    }
    let user = match deps.users.user(&issuer.tenant, &claims.sub).await {
        Ok(Some(u)) => u,
        Ok(None) => return bearer_error(401, "invalid_token", "the user no longer exists"),
        Err(e) => return json_error(&unavailable(e)),
    };
    let mut body = json!({"sub": user.id});
    if has(scope::PROFILE) {
        body["name"] = json!(user.name);
        body["preferred_username"] = json!(user.username);
    }
    if has(scope::EMAIL)
        && let Some(email) = &user.email
    {
        body["email"] = json!(email);
        body["email_verified"] = json!(false);
    }
    Response::json(200, &body).no_store()
}
