//! The token endpoint (RFC 6749 §3.2): authorization code (with PKCE), refresh token (rotated, with reuse
//! detection) and client credentials.

use hw_oauth::client::{Client, GrantType, MAX_ACCESS_TOKEN_SECS};
use hw_oauth::errors::{ErrorCode, OAuthError};
use hw_oauth::pkce;
use hw_oauth::scope::Scopes;
use hw_oauth_store::secrets::{self, CODE_PREFIX};
use hw_oauth_store::{Redemption, RefreshFamily, Revoked, Rotation};

use crate::http::{Params, Request, Response};
use crate::tokens::{self, Subject, UserGrant};
use crate::{Deps, Issuer, json_error, now, unavailable};

fn invalid_request(text: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequest, text)
}

fn invalid_grant(text: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, text)
}

pub async fn serve(deps: &Deps, req: &Request, issuer: &Issuer) -> Response {
    match grant(deps, req, issuer).await {
        Ok(body) => Response::json(200, &body).no_store(),
        Err(e) => json_error(&e),
    }
}

/// Revokes what a grant issued: its refresh tokens at once, its access tokens through a marker that resource
/// servers and introspection check until the last of them has expired.
pub async fn revoke_grant(deps: &Deps, issuer: &Issuer, family_id: &str, now: i64) -> Result<(), OAuthError> {
    deps.store.revoke_family(&issuer.tenant, family_id, now).await.map_err(unavailable)?;
    let until = now + i64::from(MAX_ACCESS_TOKEN_SECS) + 60;
    deps.store
        .mark_revoked(&issuer.tenant, &Revoked::Grant(family_id.to_owned()), now, until)
        .await
        .map_err(unavailable)
}

async fn grant(deps: &Deps, req: &Request, issuer: &Issuer) -> Result<serde_json::Value, OAuthError> {
    if req.form.is_empty()
        && !req.content_type.as_deref().unwrap_or("").starts_with("application/x-www-form-urlencoded")
    {
        return Err(invalid_request("send the parameters as application/x-www-form-urlencoded"));
    }
    let params = Params(&req.form);
    if let Some(name) = params.repeated() {
        return Err(invalid_request(&format!("`{name}` is sent more than once")));
    }
    let grant_type = params.get("grant_type").ok_or_else(|| invalid_request("grant_type is missing"))?;
    let client = crate::client_auth::authenticate(deps, req, issuer, true).await?;
    let kind = match grant_type {
        "authorization_code" => GrantType::AuthorizationCode,
        "refresh_token" => GrantType::RefreshToken,
        "client_credentials" => GrantType::ClientCredentials,
        other => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant_type `{other}` is not supported"),
            ));
        }
    };
    if !client.allows_grant(kind) {
        return Err(OAuthError::new(ErrorCode::UnauthorizedClient, format!("this client may not use {grant_type}")));
    }
    let now = now();
    match kind {
        GrantType::AuthorizationCode => authorization_code(deps, issuer, &client, &params, now).await,
        GrantType::RefreshToken => refresh(deps, issuer, &client, &params, now).await,
        GrantType::ClientCredentials => client_credentials(deps, issuer, &client, &params, now).await,
    }
}

async fn authorization_code(
    deps: &Deps,
    issuer: &Issuer,
    client: &Client,
    params: &Params<'_>,
    now: i64,
) -> Result<serde_json::Value, OAuthError> {
    let code = params.get("code").ok_or_else(|| invalid_request("code is missing"))?;
    if !secrets::has_shape(code, CODE_PREFIX) {
        return Err(invalid_grant("the code is not valid"));
    }
    let grant_id = ulid::Ulid::new().to_string();
    let grant =
        match deps.store.redeem_code(&issuer.tenant, &secrets::hash(code), &grant_id).await.map_err(unavailable)? {
            Redemption::Redeemed(g) => g,
            Redemption::Unknown => return Err(invalid_grant("the code is not valid")),
            Redemption::AlreadyRedeemed { grant, grant_id } => {
                // RFC 6749 §4.1.2: a code used twice may have been stolen; what its first use issued is revoked.
                if grant.client_id == client.id {
                    let family = RefreshFamily::family_id(&grant.user_id, &grant.client_id, &grant_id);
                    revoke_grant(deps, issuer, &family, now).await?;
                }
                return Err(invalid_grant("the code was used already; the tokens issued with it are revoked"));
            }
        };
    if grant.client_id != client.id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if grant.expires_at <= now {
        return Err(invalid_grant("the code has expired"));
    }
    match (grant.redirect_uri.as_str(), params.get("redirect_uri")) {
        ("", _) => {}
        (expected, Some(sent)) if expected == sent => {}
        (_, Some(_)) => return Err(invalid_grant("redirect_uri differs from the authorization request's")),
        (_, None) => return Err(invalid_request("redirect_uri is required: the authorization request named one")),
    }
    match (&grant.code_challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            if !pkce::verify(challenge, verifier) {
                return Err(invalid_grant("code_verifier does not match the code_challenge"));
            }
        }
        (Some(_), None) => return Err(invalid_grant("code_verifier is required: the authorization request used PKCE")),
        (None, Some(_)) => {
            return Err(invalid_grant("code_verifier sent, but the authorization request had no code_challenge"));
        }
        (None, None) => {}
    }
    let user = deps.users.user(&issuer.tenant, &grant.user_id).await.map_err(unavailable)?;
    if !user.is_some_and(|u| u.active) {
        return Err(invalid_grant("the user can no longer sign in"));
    }
    let scopes = Scopes::parse(&grant.scope).unwrap_or_default();
    let family = RefreshFamily::family_id(&grant.user_id, &client.id, &grant_id);
    let refresh = if client.allows_grant(GrantType::RefreshToken) {
        tokens::new_family(deps, issuer, client, &family, &grant, &scopes, now).await?
    } else {
        None
    };
    let subject = Subject {
        sub: &grant.user_id,
        user: Some(UserGrant {
            auth_time: grant.auth_time,
            sid: &grant.sid,
            nonce: grant.nonce.as_deref(),
            family: Some(&family),
        }),
    };
    tokens::response(deps, issuer, client, &subject, &scopes, refresh.as_deref(), now).await
}

async fn refresh(
    deps: &Deps,
    issuer: &Issuer,
    client: &Client,
    params: &Params<'_>,
    now: i64,
) -> Result<serde_json::Value, OAuthError> {
    let token = params.get("refresh_token").ok_or_else(|| invalid_request("refresh_token is missing"))?;
    let family_id = secrets::refresh_family(token).ok_or_else(|| invalid_grant("the refresh token is not valid"))?;
    let family = deps.store.get_family(&issuer.tenant, &family_id).await.map_err(unavailable)?;
    let Some(family) = family else { return Err(invalid_grant("the refresh token is not valid")) };
    if family.client_id != client.id {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    let scopes = match params.get("scope") {
        None => Scopes::parse(&family.scope).unwrap_or_default(),
        Some(s) => {
            let asked = Scopes::parse(s)?;
            asked.check_allowed(&Scopes::parse(&family.scope).unwrap_or_default()).map_err(|e| {
                OAuthError::new(ErrorCode::InvalidScope, format!("a refresh cannot widen the grant: {e}"))
            })?;
            asked
        }
    };
    let lifetime = client.refresh_token_lifetime.map_or(0, |l| l.as_secs() as i64);
    let (new_token, new_hash) = secrets::refresh_token(&family_id);
    let rotation = deps
        .store
        .rotate_family(&issuer.tenant, &family_id, &secrets::hash(token), &new_hash, now + lifetime, now)
        .await
        .map_err(unavailable)?;
    let family = match rotation {
        Rotation::Rotated(f) => f,
        Rotation::Reused(_) => {
            revoke_grant(deps, issuer, &family_id, now).await?;
            return Err(invalid_grant("the refresh token was used already; every token of this grant is revoked"));
        }
        Rotation::Revoked => return Err(invalid_grant("the refresh token has been revoked")),
        Rotation::Unknown => return Err(invalid_grant("the refresh token is not valid or has expired")),
    };
    let user = deps.users.user(&issuer.tenant, &family.user_id).await.map_err(unavailable)?;
    if !user.is_some_and(|u| u.active) {
        revoke_grant(deps, issuer, &family_id, now).await?;
        return Err(invalid_grant("the user can no longer sign in"));
    }
    let subject = Subject {
        sub: &family.user_id,
        user: Some(UserGrant { auth_time: family.auth_time, sid: &family.sid, nonce: None, family: Some(&family_id) }),
    };
    tokens::response(deps, issuer, client, &subject, &scopes, Some(&new_token), now).await
}

async fn client_credentials(
    deps: &Deps,
    issuer: &Issuer,
    client: &Client,
    params: &Params<'_>,
    now: i64,
) -> Result<serde_json::Value, OAuthError> {
    let scopes = match params.get("scope") {
        Some(s) => Scopes::parse(s)?,
        None => client.scopes.iter().filter(|s| !s.is_oidc()).cloned().collect(),
    };
    if let Some(oidc) = scopes.iter().find(|s| s.is_oidc()) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            format!("`{oidc}` needs a user; client_credentials has none"),
        ));
    }
    scopes.check_allowed(&client.scopes)?;
    let subject = Subject { sub: &client.id, user: None };
    tokens::response(deps, issuer, client, &subject, &scopes, None, now).await
}
