//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and the invitation page where an invited user sets
//! a password.

use hw_oauth::jwt::{self, Expected};
use hw_oauth::redirect::RedirectUri;

use crate::authorize::with_csrf_cookie;
use crate::http::{Params, Request, Response};
use crate::users::InvitationFailure;
use crate::{Deps, Issuer, now, pages, session};

/// How old an `id_token_hint` may be: a hint only says who is signing out, so an expired one still serves.
const HINT_MAX_AGE_SECS: i64 = 30 * 24 * 3600;

fn page(status: u16, title: &str, text: &str) -> Response {
    Response::html(status, pages::message(title, text))
}

/// The validated logout request: where to send the browser afterwards, if anywhere.
struct LogoutRequest {
    redirect: Option<String>,
    client_name: Option<String>,
}

async fn check(deps: &Deps, issuer: &Issuer, params: &Params<'_>) -> Result<LogoutRequest, Response> {
    let bad = |text: &str| Err(page(400, "This sign-out link is not valid", text));
    if let Some(name) = params.repeated() {
        return bad(&format!("The parameter `{name}` was sent more than once."));
    }
    let mut client_id = params.get("client_id").map(str::to_owned);
    if let Some(hint) = params.get("id_token_hint") {
        let keys = match deps.key_set(&issuer.tenant).await {
            Ok(k) => k,
            Err(_) => return Err(page(503, "Briefly unavailable", "Please try again.")),
        };
        // The audience is the client: read it from the hint, then verify the hint against it.
        let aud = hint
            .split('.')
            .nth(1)
            .and_then(|p| base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, p).ok())
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("aud").and_then(|a| a.as_str()).map(str::to_owned))
            .unwrap_or_default();
        let expected = Expected { issuer: &issuer.url, audience: &aud, now: now(), leeway_secs: HINT_MAX_AGE_SECS };
        if jwt::verify_id_token(keys.as_ref(), hint, &expected).is_err() {
            return bad("The sign-out request carries an ID token this site did not issue.");
        }
        if client_id.as_deref().is_some_and(|c| c != aud) {
            return bad("client_id and the ID token's audience differ.");
        }
        client_id = Some(aud);
    }
    let client = match &client_id {
        Some(id) => match deps.store.get_client(&issuer.tenant, id).await {
            Ok(Some(c)) => c.client().ok(),
            Ok(None) => None,
            Err(_) => return Err(page(503, "Briefly unavailable", "Please try again.")),
        },
        None => None,
    };
    let redirect = match (params.get("post_logout_redirect_uri"), &client) {
        (None, _) => None,
        (Some(_), None) => return bad("A return address needs the application's client_id or an id_token_hint."),
        (Some(uri), Some(c)) => {
            if !c.post_logout_redirect_uris.iter().any(|r: &RedirectUri| r.matches(uri)) {
                return bad("The return address is not registered for this application.");
            }
            let mut u = url::Url::parse(uri).map_err(|_| page(400, "Invalid", "The return address is not a URL."))?;
            if let Some(state) = params.get("state") {
                u.query_pairs_mut().append_pair("state", state);
            }
            Some(u.to_string())
        }
    };
    Ok(LogoutRequest { redirect, client_name: client.map(|c| c.name) })
}

/// `GET|POST /logout`: a GET (or a POST from the application) asks for confirmation; the confirmation form ends
/// the session.
pub async fn serve(deps: &Deps, req: &Request, issuer: &Issuer) -> Response {
    let confirming = req.method == "POST" && Params(&req.form).get("decision").is_some();
    let raw = if req.method == "POST" { &req.form } else { &req.query };
    let carried: Vec<(String, String)> = raw
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "id_token_hint" | "client_id" | "post_logout_redirect_uri" | "state"))
        .cloned()
        .collect();
    let request = match check(deps, issuer, &Params(&carried)).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    if !confirming {
        let (csrf, new_cookie) = session::csrf_token(req);
        let action = issuer.endpoint("logout");
        let html = pages::logout_confirm(&pages::LogoutPage {
            action: &action,
            csrf: &csrf,
            carry: &carried,
            client_name: request.client_name.as_deref(),
        });
        return with_csrf_cookie(Response::html(200, html), issuer, new_cookie);
    }
    if !session::csrf_ok(req, issuer, Params(&req.form).get("csrf")) {
        return page(403, "Please try again", "This form expired or did not come from this site.");
    }
    if Params(&req.form).get("decision") != Some("logout") {
        return page(200, "Still signed in", "You are still signed in. You can close this page.");
    }
    if let Ok(Some((hash, _))) = session::current(deps, req, issuer, now()).await
        && let Err(e) = deps.store.delete_session(&issuer.tenant, &hash).await
    {
        tracing::error!(error = %e, "ending the session failed");
        return page(503, "Briefly unavailable", "Signing out failed. Please try again.");
    }
    let done = match request.redirect {
        Some(to) => Response::redirect(&to),
        None => page(200, "Signed out", "You have signed out of HubbleWave."),
    };
    done.cookie(session::clear_session_cookie(issuer))
}

/// `GET|POST /invitation?token=…`: an invited user chooses a password.
pub async fn invitation(deps: &Deps, req: &Request, issuer: &Issuer) -> Response {
    let (csrf, new_cookie) = session::csrf_token(req);
    let action = issuer.endpoint("invitation");
    let form_page = |status: u16, token: &str, error: Option<&str>| {
        let html = pages::invitation(&pages::InvitationPage { action: &action, csrf: &csrf, token, error });
        with_csrf_cookie(Response::html(status, html), issuer, new_cookie.clone())
    };
    if req.method == "GET" {
        return match Params(&req.query).get("token") {
            Some(token) => form_page(200, token, None),
            None => page(400, "This invitation link is not valid", "The link has no invitation token."),
        };
    }
    let form = Params(&req.form);
    if !session::csrf_ok(req, issuer, form.get("csrf")) {
        return page(403, "Please try again", "This form expired or did not come from this site.");
    }
    let token = form.get("token").unwrap_or("");
    let password = form.get("password").unwrap_or("");
    match deps.users.accept_invitation(&issuer.tenant, token, password).await {
        Ok(user) => page(
            200,
            "Your account is ready",
            &format!("Welcome, {}. You can now sign in with the username {}.", user.name, user.username),
        ),
        Err(InvitationFailure::Password(reason)) => form_page(422, token, Some(&reason)),
        Err(InvitationFailure::Invalid) => {
            page(400, "This invitation link is not valid", &InvitationFailure::Invalid.to_string())
        }
        Err(e @ InvitationFailure::Unavailable(_)) => {
            tracing::error!(error = %e, "accepting an invitation failed");
            page(503, "Briefly unavailable", "Please try again.")
        }
    }
}
