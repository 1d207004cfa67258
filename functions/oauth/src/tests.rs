//! Handler tests: the whole protocol on in-memory adapters, driven with API Gateway events the way a browser and
//! a client would drive it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hw_oauth::client::ClientInput;
use hw_oauth::jwt::{self, Expected};
use hw_oauth::keys::{Jwks, PublicKeys};
use hw_oauth_store::memory::MemoryOAuthStore;
use hw_oauth_store::{ClientSecret, StoredClient, secrets};
use serde_json::{Value, json};
use sha2::Digest as _;

use super::*;
use crate::users::InvitationFailure;

const TENANT: &str = "acme";
const ORIGIN: &str = "https://hub.example";
const ISSUER: &str = "https://hub.example/t/acme";
const APP_REDIRECT: &str = "https://app.example/cb";
const CLI_REDIRECT: &str = "http://127.0.0.1/callback";
const SECRET: &str = "hwcs_0123456789012345678901234567890123456789012";

#[derive(Default)]
struct FakeUsers {
    users: Mutex<HashMap<String, (UserInfo, String)>>,
}

#[async_trait]
impl UserDirectory for FakeUsers {
    async fn login(
        &self,
        _t: &str,
        username: &str,
        password: &str,
        _ip: Option<&str>,
    ) -> Result<UserInfo, LoginFailure> {
        let users = self.users.lock().unwrap();
        match users.values().find(|(u, _)| u.username == username) {
            Some((u, p)) if p == password && u.active => Ok(u.clone()),
            _ if password == "throttle-me" => Err(LoginFailure::Throttled { retry_after_secs: 60 }),
            _ => Err(LoginFailure::Invalid),
        }
    }
    async fn user(&self, _t: &str, id: &str) -> Result<Option<UserInfo>, String> {
        Ok(self.users.lock().unwrap().get(id).map(|(u, _)| u.clone()))
    }
    async fn accept_invitation(&self, _t: &str, token: &str, password: &str) -> Result<UserInfo, InvitationFailure> {
        if password.len() < 10 {
            return Err(InvitationFailure::Password("too short".into()));
        }
        let mut users = self.users.lock().unwrap();
        let (u, p) = users.get_mut(token).ok_or(InvitationFailure::Invalid)?;
        u.active = true;
        *p = password.to_owned();
        Ok(u.clone())
    }
}

struct Harness {
    deps: Deps,
    users: Arc<FakeUsers>,
    store: Arc<MemoryOAuthStore>,
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    cookies: Vec<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn location(&self) -> url::Url {
        url::Url::parse(self.headers.get("location").expect("a redirect")).unwrap()
    }
    fn location_param(&self, name: &str) -> Option<String> {
        self.location().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
    /// The value of a hidden form field.
    fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start =
            self.body.find(&marker).unwrap_or_else(|| panic!("no field {name} in {}", self.body)) + marker.len();
        let raw = &self.body[start..start + self.body[start..].find('"').unwrap()];
        raw.replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
    }
}

fn client_input(kind: &str, auth: &str, grants: &[&str], redirects: &[&str]) -> ClientInput {
    ClientInput {
        name: format!("{kind} app"),
        kind: kind.into(),
        redirect_uris: redirects.iter().map(|s| s.to_string()).collect(),
        grant_types: grants.iter().map(|s| s.to_string()).collect(),
        scopes: ["openid", "profile", "email", "data:read", "data:write"]
            .iter()
            .map(|s| s.to_string())
            .chain(grants.contains(&"refresh_token").then(|| "offline_access".to_string()))
            .collect(),
        token_endpoint_auth_method: auth.into(),
        access_token_lifetime_secs: 900,
        refresh_token_lifetime_secs: grants.contains(&"refresh_token").then_some(86400),
        id_token_lifetime_secs: 300,
        post_logout_redirect_uris: if redirects.is_empty() { vec![] } else { vec!["https://app.example/bye".into()] },
        jwks: None,
    }
}

impl Harness {
    async fn new() -> Self {
        let mut config = hw_resources::Config::for_prefix("test");
        config.public_base_url = Some(ORIGIN.into());
        let control = Arc::new(hw_store::memory::MemoryControlStore::default());
        control
            .create_tenant(&hw_domain::tenant::Tenant {
                id: TENANT.into(),
                name: "Acme".into(),
                created_at: "2026-01-01T00:00:00Z".into(),
                rate_limit_per_minute: None,
                graphql: None,
            })
            .await
            .unwrap();
        let store = Arc::new(MemoryOAuthStore::new());
        let users = Arc::new(FakeUsers::default());
        let keyring = Arc::new(hw_aws::kms::StaticKeyring::new([9; 32]));
        let deps = Deps::new(config, control, store.clone(), keyring, users.clone());
        let h = Self { deps, users, store };
        h.add_user("u1", "ada", "correct horse battery", &["data:read"]);
        h.register(
            "web",
            client_input(
                "confidential",
                "client_secret_basic",
                &["authorization_code", "refresh_token"],
                &[APP_REDIRECT],
            ),
        )
        .await;
        h.register("cli", client_input("public", "none", &["authorization_code", "refresh_token"], &[CLI_REDIRECT]))
            .await;
        h.register("svc", client_input("confidential", "client_secret_post", &["client_credentials"], &[])).await;
        h
    }

    fn add_user(&self, id: &str, username: &str, password: &str, permissions: &[&str]) {
        let user = UserInfo {
            id: id.into(),
            username: username.into(),
            name: format!("{username} Lovelace"),
            email: Some(format!("{username}@example.com")),
            active: true,
            permissions: permissions.iter().map(|s| s.to_string()).collect(),
        };
        self.users.users.lock().unwrap().insert(id.into(), (user, password.into()));
    }

    async fn register(&self, id: &str, input: ClientInput) {
        let client = StoredClient {
            id: id.into(),
            registration: input,
            secrets: vec![ClientSecret { hash: secrets::hash(SECRET), created_at: "now".into(), expires_at: None }],
            created_at: "now".into(),
            updated_at: "now".into(),
            version: 1,
        };
        client.client().expect("a valid registration");
        self.store.create_client(TENANT, &client).await.unwrap();
    }

    async fn call(
        &self,
        method: &str,
        path_and_query: &str,
        form: Option<&[(&str, &str)]>,
        headers: &[(&str, &str)],
        cookies: &[String],
    ) -> Reply {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        // Every request starts from a real API Gateway payload and changes only what the test is about.
        let mut event = fixture("discovery");
        event["rawPath"] = json!(path);
        event["rawQueryString"] = json!(query);
        event["requestContext"]["http"]["method"] = json!(method);
        event["requestContext"]["http"]["path"] = json!(path);
        for (k, v) in headers {
            event["headers"][*k] = json!(v);
        }
        if let Some(f) = form {
            event["headers"]["content-type"] = json!("application/x-www-form-urlencoded");
            event["body"] = json!(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(f.iter()).finish());
        }
        if !cookies.is_empty() {
            event["cookies"] = json!(cookies);
        }
        self.send(event).await
    }

    async fn send(&self, event: Value) -> Reply {
        let out = handle(&self.deps, serde_json::from_value(event).unwrap()).await;
        Reply {
            status: out.status_code as u16,
            headers: out.headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned())).collect(),
            cookies: out.cookies.clone(),
            body: match out.body {
                Some(aws_lambda_events::encodings::Body::Text(t)) => t,
                _ => String::new(),
            },
        }
    }

    async fn form(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        self.call("POST", path, Some(form), headers, &[]).await
    }
}

/// A payload of `events/oauth/`, as API Gateway (HTTP API, payload 2.0) delivers it.
fn fixture(name: &str) -> Value {
    let path = format!("{}/../../events/oauth/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn cookie_pairs(reply: &Reply, jar: &mut Vec<String>) {
    for c in &reply.cookies {
        let pair = c.split(';').next().unwrap().to_owned();
        let name = pair.split('=').next().unwrap().to_owned();
        jar.retain(|j| !j.starts_with(&format!("{name}=")));
        if !pair.ends_with('=') {
            jar.push(pair);
        }
    }
}

fn pkce_pair() -> (String, String) {
    let verifier = secrets::mint("");
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// A browser signing in and consenting; returns the redirect to the client and the cookie jar.
async fn browser_flow(h: &Harness, query: &str, username: &str, password: &str) -> (Reply, Vec<String>) {
    let mut jar = Vec::new();
    let page = h.call("GET", &format!("/t/acme/authorize?{query}"), None, &[], &jar).await;
    assert_eq!(page.status, 200, "{}", page.body);
    cookie_pairs(&page, &mut jar);
    let login = h
        .call(
            "POST",
            "/t/acme/login",
            Some(&[
                ("csrf", &page.field("csrf")),
                ("authz", &page.field("authz")),
                ("username", username),
                ("password", password),
            ]),
            &[("origin", ORIGIN)],
            &jar,
        )
        .await;
    cookie_pairs(&login, &mut jar);
    if login.status != 200 || !login.body.contains("decision") {
        return (login, jar);
    }
    let done = h
        .call(
            "POST",
            "/t/acme/consent",
            Some(&[("csrf", &login.field("csrf")), ("authz", &login.field("authz")), ("decision", "allow")]),
            &[("origin", ORIGIN)],
            &jar,
        )
        .await;
    cookie_pairs(&done, &mut jar);
    (done, jar)
}

async fn public_keys(h: &Harness) -> PublicKeys {
    let jwks: Jwks = serde_json::from_str(&h.call("GET", "/t/acme/jwks.json", None, &[], &[]).await.body).unwrap();
    PublicKeys::from_jwks(&jwks).unwrap()
}

#[tokio::test]
async fn discovery_names_every_endpoint_under_the_tenant_issuer() {
    let h = Harness::new().await;
    let doc = h.call("GET", "/t/acme/.well-known/openid-configuration", None, &[], &[]).await.json();
    assert_eq!(doc["issuer"], ISSUER);
    assert_eq!(doc["token_endpoint"], format!("{ISSUER}/token"));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    let rfc8414 = h.call("GET", "/.well-known/oauth-authorization-server/t/acme", None, &[], &[]).await.json();
    assert_eq!(rfc8414["issuer"], ISSUER);
    assert_eq!(h.call("GET", "/t/nosuch/.well-known/openid-configuration", None, &[], &[]).await.status, 404);
    let jwks = h.call("GET", "/t/acme/jwks.json", None, &[], &[]).await.json();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "the active key and the next one");
    assert!(jwks["keys"].as_array().unwrap().iter().all(|k| k["kid"].is_string() && k.get("d").is_none()));
}

#[tokio::test]
async fn authorization_code_with_pkce_from_login_to_refresh() {
    let h = Harness::new().await;
    let (verifier, challenge) = pkce_pair();
    let query = format!(
        "response_type=code&client_id=cli&redirect_uri={}&scope=openid%20profile%20email%20data:read%20data:write%20offline_access&state=s1&nonce=n1&code_challenge={challenge}&code_challenge_method=S256",
        "http://127.0.0.1:53123/callback"
    );
    let (done, jar) = browser_flow(&h, &query, "ada", "correct horse battery").await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.location().as_str().starts_with("http://127.0.0.1:53123/callback?"), "loopback port may vary");
    assert_eq!(done.location_param("state").as_deref(), Some("s1"));
    assert_eq!(done.location_param("iss").as_deref(), Some(ISSUER));
    assert!(jar.iter().any(|c| c.starts_with("hw_session=")));
    let code = done.location_param("code").unwrap();

    let tokens = h
        .form(
            "/t/acme/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "cli"),
                ("redirect_uri", "http://127.0.0.1:53123/callback"),
                ("code_verifier", &verifier),
            ],
            &[],
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.headers["cache-control"], "no-store");
    let t = tokens.json();
    assert_eq!(t["token_type"], "Bearer");
    // data:write was asked for but the user only holds data:read: the token carries what the user can give.
    assert_eq!(t["scope"], "openid profile email data:read offline_access");
    let keys = public_keys(&h).await;
    let id = jwt::verify_id_token(
        &keys,
        t["id_token"].as_str().unwrap(),
        &Expected { issuer: ISSUER, audience: "cli", now: now(), leeway_secs: 5 },
    )
    .unwrap();
    assert_eq!(id.nonce.as_deref(), Some("n1"));
    assert_eq!(id.at_hash.as_deref(), Some(jwt::at_hash(t["access_token"].as_str().unwrap()).as_str()));
    assert_eq!(id.sub, "u1");
    let at = jwt::verify_access_token(
        &keys,
        t["access_token"].as_str().unwrap(),
        &Expected { issuer: ISSUER, audience: ORIGIN, now: now(), leeway_secs: 5 },
    )
    .unwrap();
    assert_eq!((at.sub.as_str(), at.client_id.as_str()), ("u1", "cli"));

    let bearer = format!("Bearer {}", t["access_token"].as_str().unwrap());
    let info = h.call("GET", "/t/acme/userinfo", None, &[("authorization", &bearer)], &[]).await.json();
    assert_eq!(
        info,
        json!({"sub": "u1", "name": "ada Lovelace", "preferred_username": "ada", "email": "ada@example.com", "email_verified": false})
    );

    let first_refresh = t["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = h
        .form(
            "/t/acme/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &first_refresh), ("client_id", "cli")],
            &[],
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let second_refresh = refreshed.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first_refresh, second_refresh);

    // Reuse of the rotated token revokes the family: the newest token dies too, and so do its access tokens.
    let reuse = h
        .form(
            "/t/acme/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &first_refresh), ("client_id", "cli")],
            &[],
        )
        .await;
    assert_eq!((reuse.status, reuse.json()["error"].as_str()), (400, Some("invalid_grant")));
    let after = h
        .form(
            "/t/acme/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &second_refresh), ("client_id", "cli")],
            &[],
        )
        .await;
    assert_eq!(after.json()["error"], "invalid_grant");
    let info = h.call("GET", "/t/acme/userinfo", None, &[("authorization", &bearer)], &[]).await;
    assert_eq!(info.status, 401);
    assert!(info.headers["www-authenticate"].contains("invalid_token"));

    // The browser is signed in: the next authorization needs neither form.
    let (verifier2, challenge2) = pkce_pair();
    let again = h
        .call("GET", &format!("/t/acme/authorize?response_type=code&client_id=cli&scope=openid%20data:read&code_challenge={challenge2}&code_challenge_method=S256&prompt=none"), None, &[], &jar)
        .await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert!(again.location_param("code").is_some());
    let _ = verifier2;
}

#[tokio::test]
async fn codes_are_single_use_even_when_redeemed_concurrently() {
    let h = Harness::new().await;
    let (done, _) = browser_flow(
        &h,
        "response_type=code&client_id=web&scope=openid%20data:read%20offline_access&state=x",
        "ada",
        "correct horse battery",
    )
    .await;
    let code = done.location_param("code").unwrap();
    let auth = basic("web", SECRET);
    let form = [("grant_type", "authorization_code"), ("code", code.as_str())];
    let headers = [("authorization", auth.as_str())];
    let (a, b) = tokio::join!(h.form("/t/acme/token", &form, &headers), h.form("/t/acme/token", &form, &headers));
    let statuses = [a.status, b.status];
    assert!(statuses.contains(&200) && statuses.contains(&400), "{statuses:?}");
    let winner = if a.status == 200 { a.json() } else { b.json() };
    // The second use revoked the first use's refresh token.
    let refresh = h
        .form(
            "/t/acme/token",
            &[("grant_type", "refresh_token"), ("refresh_token", winner["refresh_token"].as_str().unwrap())],
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(refresh.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn authorization_requests_that_cannot_be_trusted_are_refused() {
    let h = Harness::new().await;
    // Unregistered redirect URI: a page, never a redirect.
    let r = h
        .call(
            "GET",
            "/t/acme/authorize?response_type=code&client_id=web&redirect_uri=https://evil.example/cb",
            None,
            &[],
            &[],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(!r.headers.contains_key("location"));
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert!(r.headers["content-security-policy"].contains("frame-ancestors 'none'"));
    let r = h
        .call(
            "GET",
            "/t/acme/authorize?response_type=code&client_id=nosuch&redirect_uri=https://evil.example/cb",
            None,
            &[],
            &[],
        )
        .await;
    assert_eq!((r.status, r.headers.contains_key("location")), (400, false));
    // Public clients need PKCE; `plain` is refused; errors go back with state and iss.
    let r = h
        .call(
            "GET",
            &format!("/t/acme/authorize?response_type=code&client_id=cli&redirect_uri={CLI_REDIRECT}&state=z"),
            None,
            &[],
            &[],
        )
        .await;
    assert_eq!(r.location_param("error").as_deref(), Some("invalid_request"));
    assert_eq!(r.location_param("state").as_deref(), Some("z"));
    assert_eq!(r.location_param("iss").as_deref(), Some(ISSUER));
    let r = h.call("GET", &format!("/t/acme/authorize?response_type=code&client_id=cli&redirect_uri={CLI_REDIRECT}&code_challenge=abcdefghijabcdefghijabcdefghijabcdefghij123&code_challenge_method=plain"), None, &[], &[]).await;
    assert_eq!(r.location_param("error").as_deref(), Some("invalid_request"));
    let r = h.call("GET", "/t/acme/authorize?response_type=token&client_id=web", None, &[], &[]).await;
    assert_eq!(r.location_param("error").as_deref(), Some("unsupported_response_type"));
    let r = h.call("GET", "/t/acme/authorize?response_type=code&client_id=web&scope=admin", None, &[], &[]).await;
    assert_eq!(r.location_param("error").as_deref(), Some("invalid_scope"));
    let r = h.call("GET", "/t/acme/authorize?response_type=code&client_id=web&prompt=none", None, &[], &[]).await;
    assert_eq!(r.location_param("error").as_deref(), Some("login_required"));
    let r = h.call("GET", "/t/acme/authorize?response_type=code&client_id=web&client_id=cli", None, &[], &[]).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn forms_need_their_csrf_token_and_wrong_passwords_say_nothing_more() {
    let h = Harness::new().await;
    let page = h.call("GET", "/t/acme/authorize?response_type=code&client_id=web", None, &[], &[]).await;
    let authz = page.field("authz");
    let forged = h
        .form("/t/acme/login", &[("authz", &authz), ("username", "ada"), ("password", "correct horse battery")], &[])
        .await;
    assert_eq!(forged.status, 403);
    let csrf = page.field("csrf");
    let jar = vec![format!("hw_csrf={csrf}")];
    let cross_site = h
        .call(
            "POST",
            "/t/acme/login",
            Some(&[("csrf", &csrf), ("authz", &authz), ("username", "ada"), ("password", "x")]),
            &[("origin", "https://evil.example")],
            &jar,
        )
        .await;
    assert_eq!(cross_site.status, 403);
    let wrong = h
        .call(
            "POST",
            "/t/acme/login",
            Some(&[("csrf", &csrf), ("authz", &authz), ("username", "ada"), ("password", "nope")]),
            &[],
            &jar,
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("The username or password is incorrect."));
    let unknown = h
        .call(
            "POST",
            "/t/acme/login",
            Some(&[("csrf", &csrf), ("authz", &authz), ("username", "nobody"), ("password", "nope")]),
            &[],
            &jar,
        )
        .await;
    assert_eq!(unknown.status, 401);
    let throttled = h
        .call(
            "POST",
            "/t/acme/login",
            Some(&[("csrf", &csrf), ("authz", &authz), ("username", "ada"), ("password", "throttle-me")]),
            &[],
            &jar,
        )
        .await;
    assert_eq!((throttled.status, throttled.headers.get("retry-after").map(String::as_str)), (429, Some("60")));
    // Deny goes back to the client as access_denied.
    let (_, jar) = browser_flow(&h, "response_type=code&client_id=web&state=q", "ada", "wrong").await;
    assert!(!jar.iter().any(|c| c.starts_with("hw_session=")));
}

#[tokio::test]
async fn token_endpoint_errors_carry_the_right_codes() {
    let h = Harness::new().await;
    let (verifier, challenge) = pkce_pair();
    let q =
        format!("response_type=code&client_id=cli&scope=openid&code_challenge={challenge}&code_challenge_method=S256");
    let (done, _) = browser_flow(&h, &q, "ada", "correct horse battery").await;
    let code = done.location_param("code").unwrap();
    // Wrong client for the code (and the code is burned by the attempt).
    let wrong_client = h
        .form(
            "/t/acme/token",
            &[("grant_type", "authorization_code"), ("code", &code), ("code_verifier", &verifier)],
            &[("authorization", &basic("web", SECRET))],
        )
        .await;
    assert_eq!(wrong_client.json()["error"], "invalid_grant");
    let reuse = h
        .form(
            "/t/acme/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "cli"),
                ("code_verifier", &verifier),
            ],
            &[],
        )
        .await;
    assert_eq!(reuse.json()["error"], "invalid_grant");

    // PKCE downgrade: a code issued with a challenge, redeemed without a verifier.
    let (done, _) = browser_flow(&h, &q, "ada", "correct horse battery").await;
    let no_verifier = h
        .form(
            "/t/acme/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &done.location_param("code").unwrap()),
                ("client_id", "cli"),
            ],
            &[],
        )
        .await;
    assert_eq!(no_verifier.json()["error"], "invalid_grant");
    // A verifier without a challenge.
    let (done, _) =
        browser_flow(&h, "response_type=code&client_id=web&scope=openid", "ada", "correct horse battery").await;
    let stray = h
        .form(
            "/t/acme/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &done.location_param("code").unwrap()),
                ("code_verifier", &verifier),
            ],
            &[("authorization", &basic("web", SECRET))],
        )
        .await;
    assert_eq!(stray.json()["error"], "invalid_grant");

    let bad_secret = h
        .form("/t/acme/token", &[("grant_type", "client_credentials")], &[("authorization", &basic("web", "nope"))])
        .await;
    assert_eq!(bad_secret.status, 401);
    assert_eq!(bad_secret.json()["error"], "invalid_client");
    assert!(bad_secret.headers["www-authenticate"].starts_with("Basic"));
    let wrong_method = h
        .form("/t/acme/token", &[("grant_type", "client_credentials")], &[("authorization", &basic("svc", SECRET))])
        .await;
    assert_eq!(wrong_method.json()["error"], "invalid_client");
    let public_cc = h.form("/t/acme/token", &[("grant_type", "client_credentials"), ("client_id", "cli")], &[]).await;
    assert_eq!(public_cc.json()["error"], "unauthorized_client");
    let unknown_grant = h.form("/t/acme/token", &[("grant_type", "password"), ("client_id", "cli")], &[]).await;
    assert_eq!(unknown_grant.json()["error"], "unsupported_grant_type");
    let no_grant = h.form("/t/acme/token", &[("client_id", "cli")], &[]).await;
    assert_eq!(no_grant.json()["error"], "invalid_request");
    let garbage_code = h
        .form("/t/acme/token", &[("grant_type", "authorization_code"), ("code", "x"), ("client_id", "cli")], &[])
        .await;
    assert_eq!(garbage_code.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn client_credentials_introspection_and_revocation() {
    let h = Harness::new().await;
    let svc = [("client_id", "svc"), ("client_secret", SECRET)];
    let mut form = svc.to_vec();
    form.push(("grant_type", "client_credentials"));
    let t = h.form("/t/acme/token", &form, &[]).await;
    assert_eq!(t.status, 200, "{}", t.body);
    let t = t.json();
    assert_eq!(t["scope"], "data:read data:write", "OIDC scopes are not for clients alone");
    assert!(t.get("refresh_token").is_none() && t.get("id_token").is_none());
    let token = t["access_token"].as_str().unwrap();

    let introspect = |token: String| {
        let h = &h;
        async move {
            h.form("/t/acme/introspect", &[("token", &token)], &[("authorization", &basic("web", SECRET))]).await.json()
        }
    };
    let active = introspect(token.to_owned()).await;
    assert_eq!(
        (active["active"].as_bool(), active["client_id"].as_str(), active["sub"].as_str()),
        (Some(true), Some("svc"), Some("svc"))
    );

    // alg none, tampered payload, garbage: inactive, never an error.
    let parts: Vec<&str> = token.split('.').collect();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    assert_eq!(introspect(format!("{none_header}.{}.", parts[1])).await["active"], false);
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["scope"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    assert_eq!(introspect(tampered).await["active"], false);
    assert_eq!(introspect("garbage".into()).await["active"], false);

    // Only confidential clients introspect.
    let public = h.form("/t/acme/introspect", &[("token", token), ("client_id", "cli")], &[]).await;
    assert_eq!(public.status, 401);

    // Another client cannot revoke it; its own client can.
    let other = h.form("/t/acme/revoke", &[("token", token)], &[("authorization", &basic("web", SECRET))]).await;
    assert_eq!(other.status, 400);
    let mut revoke = svc.to_vec();
    revoke.push(("token", token));
    assert_eq!(h.form("/t/acme/revoke", &revoke, &[]).await.status, 200);
    assert_eq!(introspect(token.to_owned()).await["active"], false);
    let mut unknown = svc.to_vec();
    unknown.push(("token", "not-a-token"));
    assert_eq!(h.form("/t/acme/revoke", &unknown, &[]).await.status, 200, "RFC 7009: unknown tokens are no error");
}

#[tokio::test]
async fn private_key_jwt_assertions_are_single_use() {
    let h = Harness::new().await;
    let key = hw_oauth::keys::SigningKey::generate("ck1", hw_oauth::keys::SigningAlg::ES256).unwrap();
    let mut input = client_input("confidential", "private_key_jwt", &["client_credentials"], &[]);
    input.jwks = Some(Jwks { keys: vec![key.jwk().clone()] });
    h.register("pkj", input).await;
    let set = hw_oauth::keys::KeySet::new(vec![
        hw_oauth::keys::SigningKey::from_pkcs8_pem(
            "ck1",
            hw_oauth::keys::SigningAlg::ES256,
            hw_oauth::keys::KeyState::Active,
            key.private_pkcs8_pem(),
        )
        .unwrap(),
    ])
    .unwrap();
    let now = now();
    let claims = hw_oauth::jwt::AccessTokenClaims {
        iss: "pkj".into(),
        sub: "pkj".into(),
        aud: format!("{ISSUER}/token"),
        exp: now + 60,
        iat: now,
        jti: "assertion-1".into(),
        client_id: "pkj".into(),
        scope: String::new(),
        gid: None,
    };
    // Any JWT signed with the client's key serves as an assertion; the access-token shape has the claims needed.
    let assertion = jwt::sign_access_token(&set, &claims).unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", client_auth::ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
    ];
    let first = h.form("/t/acme/token", &form, &[]).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let replay = h.form("/t/acme/token", &form, &[]).await;
    assert_eq!((replay.status, replay.json()["error"].as_str()), (401, Some("invalid_client")));
}

#[tokio::test]
async fn logout_ends_the_session_and_returns_only_to_registered_addresses() {
    let h = Harness::new().await;
    let (done, mut jar) =
        browser_flow(&h, "response_type=code&client_id=web&scope=openid", "ada", "correct horse battery").await;
    assert_eq!(done.status, 303);
    let bad = h
        .call("GET", "/t/acme/logout?client_id=web&post_logout_redirect_uri=https://evil.example/", None, &[], &jar)
        .await;
    assert_eq!((bad.status, bad.headers.contains_key("location")), (400, false));
    let confirm = h
        .call(
            "GET",
            "/t/acme/logout?client_id=web&post_logout_redirect_uri=https://app.example/bye&state=k",
            None,
            &[],
            &jar,
        )
        .await;
    assert_eq!(confirm.status, 200);
    cookie_pairs(&confirm, &mut jar);
    let out = h
        .call(
            "POST",
            "/t/acme/logout",
            Some(&[
                ("csrf", &confirm.field("csrf")),
                ("client_id", "web"),
                ("post_logout_redirect_uri", "https://app.example/bye"),
                ("state", "k"),
                ("decision", "logout"),
            ]),
            &[],
            &jar,
        )
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location().as_str(), "https://app.example/bye?state=k");
    cookie_pairs(&out, &mut jar);
    let r = h.call("GET", "/t/acme/authorize?response_type=code&client_id=web&prompt=none", None, &[], &jar).await;
    assert_eq!(r.location_param("error").as_deref(), Some("login_required"));
}

#[tokio::test]
async fn expired_codes_are_refused() {
    let h = Harness::new().await;
    let code = secrets::mint(secrets::CODE_PREFIX);
    let grant = hw_oauth_store::CodeGrant {
        code_hash: secrets::hash(&code),
        client_id: "web".into(),
        user_id: "u1".into(),
        redirect_uri: String::new(),
        scope: "openid".into(),
        code_challenge: None,
        nonce: None,
        auth_time: now() - 120,
        sid: "s".into(),
        expires_at: now() - 1,
    };
    h.store.put_code(TENANT, &grant).await.unwrap();
    let r = h
        .form(
            "/t/acme/token",
            &[("grant_type", "authorization_code"), ("code", &code)],
            &[("authorization", &basic("web", SECRET))],
        )
        .await;
    assert_eq!((r.status, r.json()["error"].as_str()), (400, Some("invalid_grant")));
    assert!(r.json()["error_description"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn tokens_of_one_tenant_are_worthless_at_another() {
    let h = Harness::new().await;
    h.deps
        .control
        .create_tenant(&hw_domain::tenant::Tenant {
            id: "globex".into(),
            name: "Globex".into(),
            created_at: "x".into(),
            rate_limit_per_minute: None,
            graphql: None,
        })
        .await
        .unwrap();
    let t = h
        .form(
            "/t/acme/token",
            &[("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", SECRET)],
            &[],
        )
        .await
        .json();
    // The client does not exist at globex, and acme's token does not introspect there.
    let there = h
        .form(
            "/t/globex/token",
            &[("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", SECRET)],
            &[],
        )
        .await;
    assert_eq!(there.status, 401);
    let verifier = hw_oauth_store::verifier::AccessTokenVerifier::new(h.store.clone());
    let ok = verifier.verify(t["access_token"].as_str().unwrap(), ORIGIN, now()).await.unwrap();
    assert_eq!(ok.principal.tenant, "acme");
    let globex_keys =
        hw_oauth_store::keys::load(h.store.as_ref(), h.deps.keyring.as_ref(), "globex", now()).await.unwrap();
    let mut claims = jwt::verify_access_token(
        &public_keys(&h).await,
        t["access_token"].as_str().unwrap(),
        &Expected { issuer: ISSUER, audience: ORIGIN, now: now(), leeway_secs: 5 },
    )
    .unwrap();
    claims.iss = format!("{ORIGIN}/t/globex");
    let minted_at_globex = jwt::sign_access_token(&globex_keys, &claims).unwrap();
    assert_eq!(
        verifier.verify(&minted_at_globex, ORIGIN, now()).await.unwrap().principal.tenant,
        "globex",
        "a globex token acts at globex only"
    );
    claims.iss = ISSUER.into();
    let globex_claiming_acme = jwt::sign_access_token(&globex_keys, &claims).unwrap();
    assert!(verifier.verify(&globex_claiming_acme, ORIGIN, now()).await.is_err());
}

#[tokio::test]
async fn api_gateway_payloads_are_served_as_sent() {
    let h = Harness::new().await;
    let doc = h.send(fixture("discovery")).await;
    assert_eq!((doc.status, doc.json()["issuer"].as_str()), (200, Some(ISSUER)));
    // HTTP APIs hand form bodies over base64-encoded.
    let token = h.send(fixture("token-client-credentials")).await;
    assert_eq!(token.status, 200, "{}", token.body);
    assert_eq!(token.json()["scope"], "data:read");
    let json_body = h.send(fixture("token-json-body")).await;
    assert_eq!((json_body.status, json_body.json()["error"].as_str()), (400, Some("invalid_request")));
}
