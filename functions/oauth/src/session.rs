//! Browser state of the provider's pages: the sign-in session cookie and the CSRF token.
//!
//! The session cookie is `HttpOnly`, `SameSite=Lax` (it must arrive on the top-level redirect from a client app)
//! and scoped to the issuer's path; only its SHA-256 is stored. Forms carry a CSRF token that must equal the
//! `SameSite=Strict` CSRF cookie (double submit), and a POST whose `Origin` is another site is refused outright.

use hw_oauth_store::secrets::{self, SESSION_PREFIX};
use hw_oauth_store::{Session, StoreError};

use crate::http::Request;
use crate::{Deps, Issuer};

pub const SESSION_COOKIE: &str = "hw_session";
pub const CSRF_COOKIE: &str = "hw_csrf";
/// How long a sign-in lasts.
pub const SESSION_SECS: i64 = 8 * 3600;

fn attributes(issuer: &Issuer, same_site: &str) -> String {
    let secure = if issuer.url.starts_with("https://") { "; Secure" } else { "" };
    format!("Path={}; HttpOnly; SameSite={same_site}{secure}", issuer.path())
}

pub fn session_cookie(issuer: &Issuer, value: &str) -> String {
    format!("{SESSION_COOKIE}={value}; Max-Age={SESSION_SECS}; {}", attributes(issuer, "Lax"))
}

pub fn clear_session_cookie(issuer: &Issuer) -> String {
    format!("{SESSION_COOKIE}=; Max-Age=0; {}", attributes(issuer, "Lax"))
}

/// The CSRF token of this browser: the one its cookie holds, or a new one to set.
pub fn csrf_token(req: &Request) -> (String, Option<String>) {
    match req.cookies.get(CSRF_COOKIE).filter(|v| secrets::has_shape(v, "")) {
        Some(v) => (v.clone(), None),
        None => {
            let token = secrets::mint("");
            (token.clone(), Some(token))
        }
    }
}

pub fn csrf_cookie(issuer: &Issuer, value: &str) -> String {
    format!("{CSRF_COOKIE}={value}; {}", attributes(issuer, "Strict"))
}

/// Whether a form POST is the browser's own: its token matches the cookie and it did not come from another origin.
pub fn csrf_ok(req: &Request, issuer: &Issuer, submitted: Option<&str>) -> bool {
    if let Some(origin) = req.header("origin")
        && origin != "null"
        && origin.trim_end_matches('/') != issuer.base.trim_end_matches('/')
    {
        return false;
    }
    match (req.cookies.get(CSRF_COOKIE), submitted) {
        (Some(cookie), Some(form)) => !cookie.is_empty() && secrets::same_hash(cookie, form),
        _ => false,
    }
}

/// The browser's signed-in session, if its cookie names a live one.
pub async fn current(
    deps: &Deps,
    req: &Request,
    issuer: &Issuer,
    now: i64,
) -> Result<Option<(String, Session)>, StoreError> {
    let Some(cookie) = req.cookies.get(SESSION_COOKIE).filter(|c| secrets::has_shape(c, SESSION_PREFIX)) else {
        return Ok(None);
    };
    let hash = secrets::hash(cookie);
    Ok(deps.store.get_session(&issuer.tenant, &hash).await?.filter(|s| s.expires_at > now).map(|s| (hash, s)))
}

/// Starts a session for `user_id`; returns the cookie value.
pub async fn start(deps: &Deps, issuer: &Issuer, user_id: &str, now: i64) -> Result<(String, Session), StoreError> {
    let cookie = secrets::mint(SESSION_PREFIX);
    let session = Session {
        cookie_hash: secrets::hash(&cookie),
        sid: ulid::Ulid::new().to_string(),
        user_id: user_id.to_owned(),
        auth_time: now,
        expires_at: now + SESSION_SECS,
    };
    deps.store.put_session(&issuer.tenant, &session).await?;
    Ok((cookie, session))
}
