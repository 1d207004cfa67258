//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2) and the sign-in and consent forms it leads to.
//!
//! An authorization request is checked in two stages. Until the client and its redirect URI are known good, an
//! error is shown on a page and never redirected (RFC 6749 §4.1.2.1: no open redirector). After that, errors go
//! back to the client's redirect URI with `state` and `iss` (RFC 9207). The validated request travels through the
//! sign-in and consent forms as a hidden field and is checked again in full on every POST.

use hw_domain::principal::Principal;
use hw_oauth::client::{Client, GrantType};
use hw_oauth::errors::{ErrorCode, OAuthError};
use hw_oauth::pkce::{CodeChallenge, Method};
use hw_oauth::redirect;
use hw_oauth::scope::{Scope, Scopes};
use hw_oauth_store::secrets::{self, CODE_PREFIX};
use hw_oauth_store::{CodeGrant, Consent, Session};

use crate::http::{Params, Request, Response};
use crate::pages;
use crate::session;
use crate::users::{LoginFailure, UserInfo};
use crate::{Deps, Issuer, now};

/// Codes are exchanged right after the redirect; a minute is plenty (RFC 6749 §4.1.2 recommends at most ten).
pub const CODE_SECS: i64 = 60;

/// The parameters an authorization request may carry; only these travel through the forms.
const CARRIED: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
];

#[derive(Debug, Default, Clone, Copy)]
struct Prompt {
    none: bool,
    login: bool,
    consent: bool,
}

/// A checked authorization request.
pub struct AuthzRequest {
    client: Client,
    redirect_uri: String,
    /// Whether the request named its redirect URI (the token request must then repeat it).
    redirect_uri_sent: bool,
    state: Option<String>,
    scopes: Scopes,
    nonce: Option<String>,
    code_challenge: Option<String>,
    prompt: Prompt,
    max_age: Option<i64>,
    login_hint: Option<String>,
    /// The request's parameters, form-encoded, for the hidden field of the forms.
    carried: String,
}

/// Why a request cannot go on: shown on a page, or sent back to the client.
enum Refusal {
    Page(Response),
    Redirect { to: String, state: Option<String>, error: OAuthError },
}

impl Refusal {
    fn into_response(self, issuer: &Issuer) -> Response {
        match self {
            Self::Page(r) => r,
            Self::Redirect { to, state, error } => redirect_back(issuer, &to, state.as_deref(), error_pairs(error)),
        }
    }
}

fn error_pairs(error: OAuthError) -> Vec<(&'static str, String)> {
    vec![("error", error.error.as_str().to_owned()), ("error_description", error.error_description)]
}

/// The redirect to the client: `pairs`, then `state` and `iss` (RFC 9207) as every authorization response carries.
fn redirect_back(issuer: &Issuer, to: &str, state: Option<&str>, mut pairs: Vec<(&'static str, String)>) -> Response {
    if let Some(s) = state {
        pairs.push(("state", s.to_owned()));
    }
    pairs.push(("iss", issuer.url.clone()));
    Response::redirect(&with_query(to, &pairs))
}

impl AuthzRequest {
    /// The authorization response carrying `pairs`.
    fn back(&self, issuer: &Issuer, pairs: Vec<(&'static str, String)>) -> Response {
        redirect_back(issuer, &self.redirect_uri, self.state.as_deref(), pairs)
    }

    /// The error response (RFC 6749 §4.1.2.1) to the client's redirect URI.
    fn refuse(&self, issuer: &Issuer, error: ErrorCode, text: &str) -> Response {
        self.back(issuer, error_pairs(OAuthError::new(error, text)))
    }
}

fn error_page(status: u16, title: &str, text: &str) -> Response {
    Response::html(status, pages::message(title, text))
}

/// `uri` with `pairs` added to its query.
fn with_query(uri: &str, pairs: &[(&str, String)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        Err(_) => uri.to_owned(),
    }
}

async fn check(deps: &Deps, issuer: &Issuer, raw: &[(String, String)]) -> Result<AuthzRequest, Refusal> {
    let params = Params(raw);
    let bad_page = |text: String| Refusal::Page(error_page(400, "This sign-in link is not valid", &text));
    if let Some(name) = params.repeated() {
        return Err(bad_page(format!("The parameter `{name}` was sent more than once.")));
    }
    let Some(client_id) = params.get("client_id") else {
        return Err(bad_page("The request does not say which application is asking (`client_id` is missing).".into()));
    };
    let stored = deps.store.get_client(&issuer.tenant, client_id).await.map_err(|e| {
        tracing::error!(error = %e, "client lookup failed");
        Refusal::Page(error_page(503, "Briefly unavailable", "Sign-in is briefly unavailable. Please try again."))
    })?;
    let Some(client) = stored.and_then(|c| c.client().ok()) else {
        return Err(bad_page("The application asking to sign you in is not registered here.".into()));
    };
    let requested_uri = params.get("redirect_uri");
    let redirect_uri = redirect::resolve(&client.redirect_uris, requested_uri)
        .map_err(|e| bad_page(format!("The application's return address is not registered: {e}.")))?;

    let state = params.get("state").map(str::to_owned);
    let back = |error: ErrorCode, text: &str| Refusal::Redirect {
        to: redirect_uri.clone(),
        state: state.clone(),
        error: OAuthError::new(error, text),
    };
    if params.get("request").is_some() {
        return Err(back(ErrorCode::RequestNotSupported, "request objects are not supported"));
    }
    if params.get("request_uri").is_some() {
        return Err(back(ErrorCode::RequestUriNotSupported, "request_uri is not supported"));
    }
    match params.get("response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(back(
                ErrorCode::UnsupportedResponseType,
                &format!("response_type `{other}` is not supported; use `code`"),
            ));
        }
        None => return Err(back(ErrorCode::InvalidRequest, "response_type is missing")),
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(back(ErrorCode::UnauthorizedClient, "this client may not use the authorization code grant"));
    }
    let scopes = match params.get("scope") {
        Some(s) => Scopes::parse(s).map_err(|e| back(ErrorCode::InvalidScope, &e.to_string()))?,
        None => client.scopes.clone(),
    };
    scopes.check_allowed(&client.scopes).map_err(|e| back(ErrorCode::InvalidScope, &e.to_string()))?;

    let code_challenge = match (params.get("code_challenge"), params.get("code_challenge_method")) {
        (None, None) if client.requires_pkce() => {
            return Err(back(
                ErrorCode::InvalidRequest,
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            ));
        }
        (None, None) => None,
        (None, Some(_)) => return Err(back(ErrorCode::InvalidRequest, "code_challenge_method without code_challenge")),
        (Some(challenge), method) => {
            Method::parse(method).map_err(|e| back(ErrorCode::InvalidRequest, &e.to_string()))?;
            Some(
                CodeChallenge::parse(challenge)
                    .map_err(|e| back(ErrorCode::InvalidRequest, &e.to_string()))?
                    .as_str()
                    .to_owned(),
            )
        }
    };

    let mut prompt = Prompt::default();
    for p in params.get("prompt").unwrap_or("").split(' ').filter(|p| !p.is_empty()) {
        match p {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => prompt.login = true,
            other => return Err(back(ErrorCode::InvalidRequest, &format!("prompt `{other}` is not supported"))),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(back(ErrorCode::InvalidRequest, "prompt=none cannot be combined with other prompt values"));
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
            back(ErrorCode::InvalidRequest, "max_age must be a non-negative whole number of seconds")
        })?),
    };
    let carried = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(raw.iter().filter(|(k, v)| CARRIED.contains(&k.as_str()) && !v.is_empty()))
        .finish();
    Ok(AuthzRequest {
        client,
        redirect_uri_sent: requested_uri.is_some(),
        redirect_uri,
        scopes,
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge,
        prompt,
        max_age,
        login_hint: params.get("login_hint").map(str::to_owned),
        carried,
        state,
    })
}

/// `GET|POST /authorize`.
pub async fn start(deps: &Deps, req: &Request, issuer: &Issuer) -> Response {
    let raw = if req.method == "POST" { &req.form } else { &req.query };
    let authz = match check(deps, issuer, raw).await {
        Ok(a) => a,
        Err(refusal) => return refusal.into_response(issuer),
    };
    let now = now();
    let current = match session::current(deps, req, issuer, now).await {
        Ok(s) => s.map(|(_, s)| s),
        Err(e) => return unavailable_page(e),
    };
    proceed(deps, req, issuer, &authz, current, false, now).await
}

fn unavailable_page(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "storage unavailable");
    error_page(503, "Briefly unavailable", "Sign-in is briefly unavailable. Please try again.")
}

/// Scopes the user can give: OpenID scopes, and API scopes the user's own permissions cover.
fn grantable(scopes: &Scopes, user: &UserInfo, tenant: &str) -> Scopes {
    let holder = Principal::new(tenant, format!("user:{}", user.id), user.permissions.clone());
    scopes.iter().filter(|s| s.is_oidc() || holder.has_scope(&s.to_string())).cloned().collect()
}

fn covers(consented: &str, wanted: &Scopes) -> bool {
    let given: Vec<&str> = consented.split(' ').collect();
    wanted.iter().all(|s| given.contains(&s.to_string().as_str()))
}

/// The rest of the flow once the request is good: sign-in if needed, consent if needed, then the code.
async fn proceed(
    deps: &Deps,
    req: &Request,
    issuer: &Issuer,
    authz: &AuthzRequest,
    current: Option<Session>,
    fresh_login: bool,
    now: i64,
) -> Response {
    let refuse = |error: ErrorCode, text: &str| authz.refuse(issuer, error, text);
    let too_old = |s: &Session| authz.max_age.is_some_and(|max| now - s.auth_time > max);
    let session = match current {
        Some(s) if fresh_login || !(authz.prompt.login || too_old(&s)) => s,
        _ if authz.prompt.none => return refuse(ErrorCode::LoginRequired, "the user is not signed in"),
        _ => return login_page(req, issuer, authz, 200, authz.login_hint.as_deref().unwrap_or(""), None),
    };
    let user = match deps.users.user(&issuer.tenant, &session.user_id).await {
        Ok(Some(u)) if u.active => u,
        Ok(_) if authz.prompt.none => return refuse(ErrorCode::LoginRequired, "the user is not signed in"),
        Ok(_) => {
            let _ = deps.store.delete_session(&issuer.tenant, &session.cookie_hash).await;
            return login_page(req, issuer, authz, 200, "", None).cookie(session::clear_session_cookie(issuer));
        }
        Err(e) => return unavailable_page(e),
    };
    let granted = grantable(&authz.scopes, &user, &issuer.tenant);
    let consent = match deps.store.get_consent(&issuer.tenant, &user.id, &authz.client.id).await {
        Ok(c) => c,
        Err(e) => return unavailable_page(e),
    };
    let needs_consent = authz.prompt.consent || !consent.is_some_and(|c| covers(&c.scope, &granted));
    if needs_consent {
        if authz.prompt.none {
            return refuse(ErrorCode::ConsentRequired, "the user has not consented to these scopes");
        }
        return consent_page(req, issuer, authz, &user, &granted);
    }
    issue_code(deps, issuer, authz, &user, &granted, &session, now).await
}

async fn issue_code(
    deps: &Deps,
    issuer: &Issuer,
    authz: &AuthzRequest,
    user: &UserInfo,
    granted: &Scopes,
    session: &Session,
    now: i64,
) -> Response {
    let code = secrets::mint(CODE_PREFIX);
    let grant = CodeGrant {
        code_hash: secrets::hash(&code),
        client_id: authz.client.id.clone(),
        user_id: user.id.clone(),
        redirect_uri: if authz.redirect_uri_sent { authz.redirect_uri.clone() } else { String::new() },
        scope: granted.to_string(),
        code_challenge: authz.code_challenge.clone(),
        nonce: authz.nonce.clone(),
        auth_time: session.auth_time,
        sid: session.sid.clone(),
        expires_at: now + CODE_SECS,
    };
    if let Err(e) = deps.store.put_code(&issuer.tenant, &grant).await {
        tracing::error!(error = %e, "storing the code failed");
        return authz.refuse(issuer, ErrorCode::TemporarilyUnavailable, "try again");
    }
    authz.back(issuer, vec![("code", code)])
}

fn login_page(
    req: &Request,
    issuer: &Issuer,
    authz: &AuthzRequest,
    status: u16,
    username: &str,
    error: Option<&str>,
) -> Response {
    let (csrf, new_cookie) = session::csrf_token(req);
    let action = issuer.endpoint("login");
    let html = pages::login(&pages::LoginPage {
        action: &action,
        csrf: &csrf,
        authz: &authz.carried,
        client_name: &authz.client.name,
        username,
        error,
    });
    with_csrf_cookie(Response::html(status, html), issuer, new_cookie)
}

fn consent_page(req: &Request, issuer: &Issuer, authz: &AuthzRequest, user: &UserInfo, granted: &Scopes) -> Response {
    let (csrf, new_cookie) = session::csrf_token(req);
    let action = issuer.endpoint("consent");
    let scopes: Vec<String> = granted.iter().map(Scope::description).collect();
    let user_name = if user.name.is_empty() { &user.username } else { &user.name };
    let html = pages::consent(&pages::ConsentPage {
        action: &action,
        csrf: &csrf,
        authz: &authz.carried,
        client_name: &authz.client.name,
        user_name,
        scopes: &scopes,
    });
    with_csrf_cookie(Response::html(200, html), issuer, new_cookie)
}

pub(crate) fn with_csrf_cookie(r: Response, issuer: &Issuer, new_cookie: Option<String>) -> Response {
    match new_cookie {
        Some(v) => r.cookie(session::csrf_cookie(issuer, &v)),
        None => r,
    }
}

/// The authorization request a form carried, checked again.
async fn carried(deps: &Deps, req: &Request, issuer: &Issuer) -> Result<AuthzRequest, Response> {
    let form = Params(&req.form);
    if !session::csrf_ok(req, issuer, form.get("csrf")) {
        return Err(error_page(
            403,
            "Please try again",
            "This form expired or did not come from this site. Go back to the application and start again.",
        ));
    }
    let raw: Vec<(String, String)> =
        url::form_urlencoded::parse(form.get("authz").unwrap_or("").as_bytes()).into_owned().collect();
    check(deps, issuer, &raw).await.map_err(|r| r.into_response(issuer))
}

/// `POST /login`: the sign-in form.
pub async fn login(deps: &Deps, req: &Request, issuer: &Issuer) -> Response {
    let authz = match carried(deps, req, issuer).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let form = Params(&req.form);
    let username = form.get("username").unwrap_or("").trim();
    let password = form.get("password").unwrap_or("");
    if username.is_empty() || password.is_empty() {
        return login_page(req, issuer, &authz, 400, username, Some("Enter your username and password."));
    }
    let user = match deps.users.login(&issuer.tenant, username, password, req.source_ip.as_deref()).await {
        Ok(u) => u,
        Err(LoginFailure::Invalid) => {
            return login_page(req, issuer, &authz, 401, username, Some("The username or password is incorrect."));
        }
        Err(e @ LoginFailure::Throttled { retry_after_secs }) => {
            return login_page(req, issuer, &authz, 429, username, Some(&e.to_string()))
                .header("retry-after", retry_after_secs.to_string());
        }
        Err(e @ LoginFailure::Unavailable(_)) => return unavailable_page(e),
    };
    let now = now();
    // A sign-in replaces whatever session the browser had (no session fixation).
    if let Ok(Some((old, _))) = session::current(deps, req, issuer, now).await {
        let _ = deps.store.delete_session(&issuer.tenant, &old).await;
    }
    let (cookie, session) = match session::start(deps, issuer, &user.id, now).await {
        Ok(s) => s,
        Err(e) => return unavailable_page(e),
    };
    proceed(deps, req, issuer, &authz, Some(session), true, now).await.cookie(session::session_cookie(issuer, &cookie))
}

/// `POST /consent`: allow or deny.
pub async fn consent(deps: &Deps, req: &Request, issuer: &Issuer) -> Response {
    let authz = match carried(deps, req, issuer).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let now = now();
    let session = match session::current(deps, req, issuer, now).await {
        Ok(Some((_, s))) => s,
        Ok(None) => return login_page(req, issuer, &authz, 200, "", None),
        Err(e) => return unavailable_page(e),
    };
    let user = match deps.users.user(&issuer.tenant, &session.user_id).await {
        Ok(Some(u)) if u.active => u,
        Ok(_) => return login_page(req, issuer, &authz, 200, "", None),
        Err(e) => return unavailable_page(e),
    };
    match Params(&req.form).get("decision") {
        Some("allow") => {}
        Some("deny") => {
            return authz.refuse(issuer, ErrorCode::AccessDenied, "the user denied access");
        }
        _ => return consent_page(req, issuer, &authz, &user, &grantable(&authz.scopes, &user, &issuer.tenant)),
    }
    let granted = grantable(&authz.scopes, &user, &issuer.tenant);
    let stamp = hw_domain::event::now_rfc3339();
    let previous = deps.store.get_consent(&issuer.tenant, &user.id, &authz.client.id).await.ok().flatten();
    let mut scope: Scopes = previous.as_ref().map(|c| Scopes::parse(&c.scope).unwrap_or_default()).unwrap_or_default();
    for s in granted.iter() {
        scope.insert(s.clone());
    }
    let consent = Consent {
        user_id: user.id.clone(),
        client_id: authz.client.id.clone(),
        scope: scope.to_string(),
        granted_at: previous.map(|c| c.granted_at).unwrap_or_else(|| stamp.clone()),
        updated_at: stamp,
    };
    if let Err(e) = deps.store.put_consent(&issuer.tenant, &consent).await {
        return unavailable_page(e);
    }
    issue_code(deps, issuer, &authz, &user, &granted, &session, now).await
}
