//! OAuth client registrations: the request shape, and the checked client the server works with.
//!
//! A registration is checked as a whole and every problem is reported at once, each with a JSON pointer into the
//! request body (`hw_domain::FieldError`), as the model definitions are: the admin fixes a form in one pass.

use std::str::FromStr;
use std::time::Duration;

use hw_domain::FieldError;
use serde::{Deserialize, Serialize};

use crate::keys::{Jwks, PublicKeys};
use crate::redirect::RedirectUri;
use crate::scope::{self, Scope, Scopes};

/// Access tokens live at most an hour: they are bearer JWTs checked without a lookup, so their lifetime is the
/// window in which a revocation does not take effect.
pub const MAX_ACCESS_TOKEN_SECS: u32 = 3600;
/// ID tokens are read once by the client at sign-in; an hour is ample.
pub const MAX_ID_TOKEN_SECS: u32 = 3600;
/// Refresh tokens rotate on use; ninety days bounds how long an unused one stays a liability.
pub const MAX_REFRESH_TOKEN_SECS: u32 = 90 * 24 * 3600;
pub const MAX_NAME_CHARS: usize = 200;

/// Whether the client can keep a secret (RFC 6749 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    Confidential,
    Public,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
}

/// How the client authenticates at the token endpoint (RFC 7591 §2 `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

macro_rules! wire_names {
    ($ty:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }
        }
        impl FromStr for $ty {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s { $($name => Ok(Self::$variant),)+ _ => Err(()) }
            }
        }
    };
}

wire_names!(ClientKind { Confidential => "confidential", Public => "public" });
wire_names!(GrantType {
    AuthorizationCode => "authorization_code",
    ClientCredentials => "client_credentials",
    RefreshToken => "refresh_token",
});
wire_names!(AuthMethod {
    ClientSecretBasic => "client_secret_basic",
    ClientSecretPost => "client_secret_post",
    PrivateKeyJwt => "private_key_jwt",
    None => "none",
});

/// A registration as sent. Enumerations are plain strings here so that an unknown value is reported with its
/// pointer alongside the other problems instead of failing deserialisation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub access_token_lifetime_secs: u32,
    #[serde(default)]
    pub refresh_token_lifetime_secs: Option<u32>,
    pub id_token_lifetime_secs: u32,
    /// Where RP-initiated logout may send the browser back to (exact match, like redirect URIs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// The client's public keys, for `private_key_jwt` (RFC 7591 `jwks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
}

/// A registration that passed [`validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub kind: ClientKind,
    pub redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Scopes,
    pub auth_method: AuthMethod,
    pub access_token_lifetime: Duration,
    /// `Some` exactly when the client may use the `refresh_token` grant.
    pub refresh_token_lifetime: Option<Duration>,
    pub id_token_lifetime: Duration,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// The keys its `private_key_jwt` assertions are signed with.
    pub jwks: Option<Jwks>,
}

impl Client {
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// PKCE is required of public clients (they have no other proof that the code is theirs); confidential clients
    /// may still send it and then must complete it.
    pub fn requires_pkce(&self) -> bool {
        self.kind == ClientKind::Public
    }
}

/// Checks a registration and builds the client, or returns every problem found.
pub fn validate(id: &str, input: &ClientInput) -> Result<Client, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err =
        |pointer: String, code: &'static str, detail: String| errors.push(FieldError::new(pointer, code, detail));

    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        err("/name".into(), "invalid-name", format!("name must be 1 to {MAX_NAME_CHARS} characters"));
    }

    let kind = input.kind.parse::<ClientKind>().ok();
    if kind.is_none() {
        err("/kind".into(), "invalid-kind", format!("kind `{}` is not one of confidential, public", input.kind));
    }

    let mut grant_types = Vec::new();
    if input.grant_types.is_empty() {
        err("/grant_types".into(), "required", "at least one grant type is required".into());
    }
    for (i, g) in input.grant_types.iter().enumerate() {
        let at = format!("/grant_types/{i}");
        match g.parse::<GrantType>() {
            Err(()) => err(
                at,
                "invalid-grant-type",
                format!("grant type `{g}` is not one of authorization_code, client_credentials, refresh_token"),
            ),
            Ok(g) if grant_types.contains(&g) => {
                err(at, "duplicate", format!("grant type `{}` is listed twice", g.as_str()))
            }
            Ok(GrantType::ClientCredentials) if kind == Some(ClientKind::Public) => err(
                at,
                "public-client-credentials",
                "a public client cannot use client_credentials: it has no secret to prove it is itself".into(),
            ),
            Ok(g) => grant_types.push(g),
        }
    }
    let has = |g| grant_types.contains(&g);
    if has(GrantType::RefreshToken) && !has(GrantType::AuthorizationCode) {
        err("/grant_types".into(), "refresh-without-code", "refresh_token needs authorization_code: refresh tokens are only issued with a code (client_credentials gets none, RFC 6749 §4.4.3)".into());
    }

    let mut redirect_uris: Vec<RedirectUri> = Vec::new();
    for (i, raw) in input.redirect_uris.iter().enumerate() {
        let at = format!("/redirect_uris/{i}");
        match RedirectUri::parse(raw) {
            Err(e) => err(at, "invalid-redirect-uri", e.to_string()),
            Ok(_) if redirect_uris.iter().any(|r| r.as_str() == raw) => {
                err(at, "duplicate", format!("`{raw}` is listed twice"))
            }
            Ok(r) => redirect_uris.push(r),
        }
    }
    if has(GrantType::AuthorizationCode) && input.redirect_uris.is_empty() {
        err("/redirect_uris".into(), "required", "authorization_code needs at least one redirect URI".into());
    }
    if !has(GrantType::AuthorizationCode) && !input.redirect_uris.is_empty() {
        err("/redirect_uris".into(), "unused", "redirect URIs are only used by authorization_code".into());
    }

    let mut scopes = Scopes::default();
    if input.scopes.is_empty() {
        err("/scopes".into(), "required", "at least one scope is required".into());
    }
    for (i, s) in input.scopes.iter().enumerate() {
        let at = format!("/scopes/{i}");
        match Scope::parse(s) {
            Err(e) => err(at, "invalid-scope", e.to_string()),
            Ok(s) if scopes.contains(&s) => err(at, "duplicate", format!("scope `{s}` is listed twice")),
            Ok(Scope::OfflineAccess) if !has(GrantType::RefreshToken) => {
                err(at, "offline-without-refresh", format!("{} needs the refresh_token grant", scope::OFFLINE_ACCESS))
            }
            Ok(s) => scopes.insert(s),
        }
    }

    let auth_method = input.token_endpoint_auth_method.parse::<AuthMethod>().ok();
    let at = "/token_endpoint_auth_method".to_string();
    match (kind, auth_method) {
        (_, None) => err(
            at,
            "invalid-auth-method",
            format!(
                "`{}` is not one of client_secret_basic, client_secret_post, private_key_jwt, none",
                input.token_endpoint_auth_method
            ),
        ),
        (Some(ClientKind::Public), Some(m)) if m != AuthMethod::None => err(
            at,
            "public-auth-method",
            "a public client authenticates with none: it cannot keep a secret or a private key".into(),
        ),
        (Some(ClientKind::Confidential), Some(AuthMethod::None)) => err(
            at,
            "confidential-auth-method",
            "a confidential client must authenticate: use client_secret_basic, client_secret_post or private_key_jwt"
                .into(),
        ),
        _ => {}
    }

    let mut post_logout_redirect_uris: Vec<RedirectUri> = Vec::new();
    for (i, raw) in input.post_logout_redirect_uris.iter().enumerate() {
        match RedirectUri::parse(raw) {
            Err(e) => err(format!("/post_logout_redirect_uris/{i}"), "invalid-redirect-uri", e.to_string()),
            Ok(r) => post_logout_redirect_uris.push(r),
        }
    }

    match (auth_method, &input.jwks) {
        (Some(AuthMethod::PrivateKeyJwt), None) => {
            err("/jwks".into(), "required", "private_key_jwt needs the client's public keys in `jwks`".into())
        }
        (Some(AuthMethod::PrivateKeyJwt), Some(jwks)) => match PublicKeys::from_jwks(jwks) {
            Err(e) => err("/jwks".into(), "invalid-jwks", e.to_string()),
            Ok(keys) if keys.is_empty() => err(
                "/jwks".into(),
                "invalid-jwks",
                "no usable key: each key needs a kid, use `sig` and alg ES256 (P-256) or RS256".into(),
            ),
            Ok(_) => {}
        },
        (_, Some(_)) => err("/jwks".into(), "unused", "jwks is only used by private_key_jwt".into()),
        (_, None) => {}
    }

    let mut lifetime = |pointer: &str, secs: u32, max: u32| {
        if !(1..=max).contains(&secs) {
            err(pointer.into(), "invalid-lifetime", format!("must be 1 to {max} seconds"));
        }
        Duration::from_secs(secs.into())
    };
    let access_token_lifetime =
        lifetime("/access_token_lifetime_secs", input.access_token_lifetime_secs, MAX_ACCESS_TOKEN_SECS);
    let id_token_lifetime = lifetime("/id_token_lifetime_secs", input.id_token_lifetime_secs, MAX_ID_TOKEN_SECS);
    let refresh_token_lifetime = match (has(GrantType::RefreshToken), input.refresh_token_lifetime_secs) {
        (true, Some(secs)) => Some(lifetime("/refresh_token_lifetime_secs", secs, MAX_REFRESH_TOKEN_SECS)),
        (true, None) => {
            err(
                "/refresh_token_lifetime_secs".into(),
                "required",
                "the refresh_token grant needs a refresh token lifetime".into(),
            );
            None
        }
        (false, Some(_)) => {
            err(
                "/refresh_token_lifetime_secs".into(),
                "unused",
                "only clients with the refresh_token grant get refresh tokens".into(),
            );
            None
        }
        (false, None) => None,
    };

    match (kind, auth_method) {
        (Some(kind), Some(auth_method)) if errors.is_empty() => Ok(Client {
            id: id.to_owned(),
            name: name.to_owned(),
            kind,
            redirect_uris,
            grant_types,
            scopes,
            auth_method,
            access_token_lifetime,
            refresh_token_lifetime,
            id_token_lifetime,
            post_logout_redirect_uris,
            jwks: input.jwks.clone(),
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
