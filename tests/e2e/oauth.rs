//! The OAuth 2.0 / OpenID Connect provider end to end: a tenant's admin registers clients and a user over the
//! REST API, then an independent client (Authlib, tests/oauth/authlib_e2e.py) runs every flow against the local
//! stack and calls the REST API with the tokens; plus what only the real storage can prove: two concurrent
//! redemptions of one code issue tokens once.

use serde_json::{Value, json};

use crate::stack;

const PASSWORD: &str = "correct horse battery staple";
const LOOPBACK: &str = "http://127.0.0.1/callback";

/// A tenant with a user, a public client (loopback redirect) and a confidential client, all made over the API.
async fn setup(s: &hubble_e2e::Stack) -> (hubble_e2e::Tenant, Value) {
    let t = s.tenant().await;
    let user = t
        .post_json("/v1/users", &json!({"username": "grace", "name": "Grace Hopper", "email": "grace@example.com", "password": PASSWORD, "permissions": ["data:read", "models:write"]}))
        .await;
    assert_eq!(user.status, 201, "{:?}", user.body);
    let public = t
        .post_json(
            "/v1/oauth-clients",
            &json!({"name": "CLI", "kind": "public", "redirect_uris": [LOOPBACK], "grant_types": ["authorization_code", "refresh_token"],
                    "scopes": ["openid", "profile", "email", "offline_access", "data:read"], "token_endpoint_auth_method": "none",
                    "access_token_lifetime_secs": 600, "refresh_token_lifetime_secs": 86400, "id_token_lifetime_secs": 600}),
        )
        .await;
    assert_eq!(public.status, 201, "{:?}", public.body);
    assert!(public.body.get("client_secret").is_none());
    let confidential = t
        .post_json(
            "/v1/oauth-clients",
            &json!({"name": "Server", "kind": "confidential", "redirect_uris": ["https://server.example/cb"],
                    "grant_types": ["authorization_code", "client_credentials"], "scopes": ["openid", "data:read"],
                    "token_endpoint_auth_method": "client_secret_basic", "access_token_lifetime_secs": 600, "id_token_lifetime_secs": 600}),
        )
        .await;
    assert_eq!(confidential.status, 201, "{:?}", confidential.body);
    let config = json!({
        "issuer": format!("{}/t/{}", s.base_url, t.id),
        "api_base": s.base_url,
        "public_client": {"id": public.body["client"]["id"], "redirect_uri": LOOPBACK},
        "confidential_client": {"id": confidential.body["client"]["id"], "secret": confidential.body["client_secret"]},
        "user": {"username": "grace", "password": PASSWORD},
    });
    (t, config)
}

#[tokio::test]
async fn an_independent_client_runs_every_flow() {
    let s = stack().await;
    let (_, config) = setup(&s).await;
    let python = std::env::var("HUBBLE_E2E_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/oauth/authlib_e2e.py");
    let out =
        tokio::process::Command::new(python).arg(script).arg(config.to_string()).output().await.expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "authlib run failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ok: the ID token verifies"), "{stdout}");
}

/// The browser part of a code flow with a confidential client, without PKCE: sign in, allow; returns the code.
async fn code_for(config: &Value) -> String {
    let issuer = config["issuer"].as_str().unwrap();
    let browser =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    let client_id = config["confidential_client"]["id"].as_str().unwrap();
    let page = browser
        .get(format!("{issuer}/authorize?response_type=code&client_id={client_id}&scope=openid%20data:read&state=s"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let field = |html: &str, name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = html.find(&marker).unwrap_or_else(|| panic!("no field {name} in {html}")) + marker.len();
        html[start..start + html[start..].find('"').unwrap()].replace("&amp;", "&")
    };
    let login = browser
        .post(format!("{issuer}/login"))
        .form(&[
            ("csrf", field(&page, "csrf")),
            ("authz", field(&page, "authz")),
            ("username", "grace".into()),
            ("password", PASSWORD.into()),
        ])
        .send()
        .await
        .unwrap();
    let code_in = |r: &reqwest::Response| {
        let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        location.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("a code")
    };
    // The user consented before: the sign-in goes straight back with a code.
    if login.status() == 303 {
        return code_in(&login);
    }
    let login = login.text().await.unwrap();
    let done = browser
        .post(format!("{issuer}/consent"))
        .form(&[("csrf", field(&login, "csrf")), ("authz", field(&login, "authz")), ("decision", "allow".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    code_in(&done)
}

#[tokio::test]
async fn concurrent_redemptions_of_one_code_issue_tokens_once() {
    let s = stack().await;
    let (_, config) = setup(&s).await;
    let issuer = config["issuer"].as_str().unwrap().to_owned();
    let id = config["confidential_client"]["id"].as_str().unwrap().to_owned();
    let secret = config["confidential_client"]["secret"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let code = code_for(&config).await;
        let redeem = || {
            s.http
                .post(format!("{issuer}/token"))
                .basic_auth(&id, Some(&secret))
                .form(&[("grant_type", "authorization_code"), ("code", code.as_str())])
                .send()
        };
        let results = futures::future::join_all((0..4).map(|_| redeem())).await;
        let statuses: Vec<u16> = results.iter().map(|r| r.as_ref().unwrap().status().as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 400), "{statuses:?}");
    }
}

#[tokio::test]
async fn tokens_work_only_at_their_own_tenant() {
    let s = stack().await;
    let (_, config) = setup(&s).await;
    let other = s.tenant().await;
    let token: Value = s
        .http
        .post(format!("{}/token", config["issuer"].as_str().unwrap()))
        .basic_auth(
            config["confidential_client"]["id"].as_str().unwrap(),
            config["confidential_client"]["secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    let ours = s.http.get(format!("{}/v1/models", s.base_url)).bearer_auth(access).send().await.unwrap();
    assert_eq!(ours.status(), 200);
    // The same client id and secret mean nothing at another tenant's issuer.
    let elsewhere = s
        .http
        .post(format!("{}/t/{}/token", s.base_url, other.id))
        .basic_auth(
            config["confidential_client"]["id"].as_str().unwrap(),
            config["confidential_client"]["secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 401);
    // Scopes are permissions: the client holds `data:read`, not `admin`.
    let admin_only = s.http.get(format!("{}/v1/users", s.base_url)).bearer_auth(access).send().await.unwrap();
    assert_eq!(admin_only.status(), 403);
}
