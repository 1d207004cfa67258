use super::*;

fn web_app() -> ClientInput {
    ClientInput {
        name: "Acme CRM sync".into(),
        kind: "confidential".into(),
        redirect_uris: vec!["https://crm.acme.example/oauth/cb".into(), "http://127.0.0.1/cb".into()],
        grant_types: vec!["authorization_code".into(), "refresh_token".into(), "client_credentials".into()],
        scopes: vec!["openid".into(), "email".into(), "offline_access".into(), "data:read:contact".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        access_token_lifetime_secs: 900,
        refresh_token_lifetime_secs: Some(30 * 24 * 3600),
        id_token_lifetime_secs: 300,
    }
}

fn spa() -> ClientInput {
    ClientInput {
        name: "Acme dashboard".into(),
        kind: "public".into(),
        redirect_uris: vec!["https://dash.acme.example/cb".into()],
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into(), "data:read".into()],
        token_endpoint_auth_method: "none".into(),
        access_token_lifetime_secs: 3600,
        refresh_token_lifetime_secs: None,
        id_token_lifetime_secs: 3600,
    }
}

fn problems(input: &ClientInput) -> Vec<(String, &'static str)> {
    validate("c1", input).expect_err("should be refused").into_iter().map(|e| (e.pointer, e.code)).collect()
}

fn p(pointer: &str, code: &'static str) -> (String, &'static str) {
    (pointer.to_owned(), code)
}

#[test]
fn valid_confidential_client() {
    let c = validate("c1", &web_app()).unwrap();
    assert_eq!(c.id, "c1");
    assert_eq!(c.kind, ClientKind::Confidential);
    assert_eq!(c.auth_method, AuthMethod::ClientSecretBasic);
    assert_eq!(c.redirect_uris.len(), 2);
    assert_eq!(c.scopes.to_string(), "openid email offline_access data:read:contact");
    assert_eq!(c.access_token_lifetime, Duration::from_secs(900));
    assert_eq!(c.refresh_token_lifetime, Some(Duration::from_secs(30 * 24 * 3600)));
    assert!(c.allows_grant(GrantType::ClientCredentials));
    assert!(!c.requires_pkce());
}

#[test]
fn valid_public_client() {
    let c = validate("c2", &spa()).unwrap();
    assert_eq!(c.auth_method, AuthMethod::None);
    assert!(c.requires_pkce());
    assert!(!c.allows_grant(GrantType::RefreshToken));
    assert_eq!(c.refresh_token_lifetime, None);
}

#[test]
fn every_problem_is_reported_at_once() {
    let input = ClientInput {
        name: " ".into(),
        kind: "trusted".into(),
        redirect_uris: vec!["https://a.example/cb#frag".into(), "http://localhost/cb".into()],
        grant_types: vec!["password".into(), "authorization_code".into()],
        scopes: vec!["root".into(), "openid".into(), "openid".into()],
        token_endpoint_auth_method: "client_secret_jwt".into(),
        access_token_lifetime_secs: 0,
        refresh_token_lifetime_secs: Some(60),
        id_token_lifetime_secs: 3601,
    };
    assert_eq!(
        problems(&input),
        vec![
            p("/name", "invalid-name"),
            p("/kind", "invalid-kind"),
            p("/grant_types/0", "invalid-grant-type"),
            p("/redirect_uris/0", "invalid-redirect-uri"),
            p("/redirect_uris/1", "invalid-redirect-uri"),
            p("/scopes/0", "invalid-scope"),
            p("/scopes/2", "duplicate"),
            p("/token_endpoint_auth_method", "invalid-auth-method"),
            p("/access_token_lifetime_secs", "invalid-lifetime"),
            p("/id_token_lifetime_secs", "invalid-lifetime"),
            p("/refresh_token_lifetime_secs", "unused"),
        ]
    );
    let errors = validate("c", &input).unwrap_err();
    assert!(errors[4].detail.contains("localhost"), "{}", errors[4].detail);
}

#[test]
fn public_clients_authenticate_with_none_and_cannot_use_client_credentials() {
    let mut input = spa();
    input.token_endpoint_auth_method = "client_secret_post".into();
    input.grant_types.push("client_credentials".into());
    assert_eq!(
        problems(&input),
        vec![p("/grant_types/1", "public-client-credentials"), p("/token_endpoint_auth_method", "public-auth-method")]
    );
}

#[test]
fn confidential_clients_must_authenticate() {
    let mut input = web_app();
    input.token_endpoint_auth_method = "none".into();
    assert_eq!(problems(&input), vec![p("/token_endpoint_auth_method", "confidential-auth-method")]);
    for m in ["client_secret_post", "private_key_jwt"] {
        input.token_endpoint_auth_method = m.into();
        assert_eq!(validate("c", &input).unwrap().auth_method.as_str(), m);
    }
}

#[test]
fn lifetime_bounds() {
    let mut input = spa();
    input.access_token_lifetime_secs = 1;
    input.id_token_lifetime_secs = 1;
    assert!(validate("c", &input).is_ok());
    input.access_token_lifetime_secs = 3601;
    assert_eq!(problems(&input), vec![p("/access_token_lifetime_secs", "invalid-lifetime")]);

    let mut input = web_app();
    input.refresh_token_lifetime_secs = None;
    assert_eq!(problems(&input), vec![p("/refresh_token_lifetime_secs", "required")]);
    input.refresh_token_lifetime_secs = Some(MAX_REFRESH_TOKEN_SECS + 1);
    assert_eq!(problems(&input), vec![p("/refresh_token_lifetime_secs", "invalid-lifetime")]);
}

#[test]
fn grant_and_redirect_consistency() {
    let mut input = web_app();
    input.grant_types = vec!["client_credentials".into(), "refresh_token".into(), "client_credentials".into()];
    input.scopes = vec!["data:read".into()];
    assert_eq!(
        problems(&input),
        vec![
            p("/grant_types/2", "duplicate"),
            p("/grant_types", "refresh-without-code"),
            p("/redirect_uris", "unused"),
        ]
    );

    let mut input = spa();
    input.redirect_uris = vec![];
    input.scopes.push("offline_access".into());
    assert_eq!(problems(&input), vec![p("/redirect_uris", "required"), p("/scopes/2", "offline-without-refresh")]);

    let mut input = spa();
    input.grant_types = vec![];
    input.scopes = vec![];
    input.redirect_uris.push("https://dash.acme.example/cb".into());
    let got = problems(&input);
    assert!(got.contains(&p("/grant_types", "required")));
    assert!(got.contains(&p("/scopes", "required")));
    assert!(got.contains(&p("/redirect_uris/1", "duplicate")));
}

#[test]
fn deserialises_from_json() {
    let input: ClientInput = serde_json::from_value(serde_json::json!({
        "name": "Acme dashboard",
        "kind": "public",
        "redirect_uris": ["https://dash.acme.example/cb"],
        "grant_types": ["authorization_code"],
        "scopes": ["openid", "data:read"],
        "token_endpoint_auth_method": "none",
        "access_token_lifetime_secs": 3600,
        "id_token_lifetime_secs": 3600
    }))
    .unwrap();
    assert_eq!(input, spa());
    assert_eq!(serde_json::to_value(GrantType::ClientCredentials).unwrap(), "client_credentials");
}
