//! Minting the tokens of a grant: the access token (RFC 9068 JWT), the ID token, and the refresh-token family.

use hw_oauth::client::Client;
use hw_oauth::errors::OAuthError;
use hw_oauth::jwt::{self, AccessTokenClaims, IdTokenClaims};
use hw_oauth::scope::{Scope, Scopes};
use hw_oauth_store::secrets;
use hw_oauth_store::{CodeGrant, RefreshFamily};
use serde_json::{Value, json};

use crate::{Deps, Issuer, api_audience, unavailable};

/// What the grant is for: a user (through the client), or the client itself.
pub struct Subject<'a> {
    pub sub: &'a str,
    /// Present for a user: when they signed in, their session, and the request's nonce.
    pub user: Option<UserGrant<'a>>,
}

pub struct UserGrant<'a> {
    pub auth_time: i64,
    pub sid: &'a str,
    pub nonce: Option<&'a str>,
    /// The refresh-token family the grant lives in, if the client gets refresh tokens.
    pub family: Option<&'a str>,
}

pub async fn access_token(
    deps: &Deps,
    issuer: &Issuer,
    client: &Client,
    sub: &str,
    scopes: &Scopes,
    grant: Option<&str>,
    now: i64,
) -> Result<(String, i64), OAuthError> {
    let keys = deps.key_set(&issuer.tenant).await?;
    let lifetime = client.access_token_lifetime.as_secs() as i64;
    let claims = AccessTokenClaims {
        iss: issuer.url.clone(),
        sub: sub.to_owned(),
        aud: api_audience(&issuer.base),
        exp: now + lifetime,
        iat: now,
        jti: ulid::Ulid::new().to_string(),
        client_id: client.id.clone(),
        scope: scopes.to_string(),
        gid: grant.map(str::to_owned),
    };
    let token = jwt::sign_access_token(&keys, &claims).map_err(unavailable)?;
    Ok((token, lifetime))
}

/// The token response (RFC 6749 §5.1) for a grant.
pub async fn response(
    deps: &Deps,
    issuer: &Issuer,
    client: &Client,
    subject: &Subject<'_>,
    scopes: &Scopes,
    refresh_token: Option<&str>,
    now: i64,
) -> Result<Value, OAuthError> {
    let grant = subject.user.as_ref().and_then(|u| u.family);
    let (access, expires_in) = access_token(deps, issuer, client, subject.sub, scopes, grant, now).await?;
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scopes.to_string(),
    });
    if let Some(r) = refresh_token {
        body["refresh_token"] = json!(r);
    }
    if let Some(user) = &subject.user
        && scopes.contains(&Scope::OpenId)
    {
        let keys = deps.key_set(&issuer.tenant).await?;
        let claims = IdTokenClaims {
            iss: issuer.url.clone(),
            sub: subject.sub.to_owned(),
            aud: client.id.clone(),
            exp: now + client.id_token_lifetime.as_secs() as i64,
            iat: now,
            auth_time: user.auth_time,
            nonce: user.nonce.map(str::to_owned),
            sid: Some(user.sid.to_owned()),
            at_hash: Some(jwt::at_hash(&access)),
        };
        body["id_token"] = json!(jwt::sign_id_token(&keys, &claims).map_err(unavailable)?);
    }
    Ok(body)
}

/// A new refresh-token family for the grant a code stood for; returns the first token.
pub async fn new_family(
    deps: &Deps,
    issuer: &Issuer,
    client: &Client,
    family_id: &str,
    grant: &CodeGrant,
    scopes: &Scopes,
    now: i64,
) -> Result<Option<String>, OAuthError> {
    let Some(lifetime) = client.refresh_token_lifetime else { return Ok(None) };
    let (token, hash) = secrets::refresh_token(family_id);
    let family = RefreshFamily {
        id: family_id.to_owned(),
        client_id: client.id.clone(),
        user_id: grant.user_id.clone(),
        scope: scopes.to_string(),
        auth_time: grant.auth_time,
        sid: grant.sid.clone(),
        current_hash: hash,
        token_expires_at: now + lifetime.as_secs() as i64,
        created_at: now,
        revoked_at: None,
        generation: 0,
    };
    deps.store.create_family(&issuer.tenant, &family).await.map_err(unavailable)?;
    Ok(Some(token))
}
