use super::*;

fn server() -> ClientInput {
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
        ..Default::default()
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
        ..Default::default()
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
    let c = validate("c1", &server()).unwrap();
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
        ..Default::default()
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
    let mut input = server();
    input.token_endpoint_auth_method = "none".into();
    assert_eq!(problems(&input), vec![p("/token_endpoint_auth_method", "confidential-auth-method")]);
    input.token_endpoint_auth_method = "client_secret_post".into();
    assert_eq!(validate("c", &input).unwrap().auth_method, AuthMethod::ClientSecretPost);
    let key = crate::keys::SigningKey::generate("k1", crate::keys::SigningAlg::ES256).unwrap();
    input.token_endpoint_auth_method = "private_key_jwt".into();
    input.jwks = Some(crate::keys::Jwks { keys: vec![key.jwk().clone()] });
    assert_eq!(validate("c", &input).unwrap().auth_method, AuthMethod::PrivateKeyJwt);
}

#[test]
fn lifetime_bounds() {
    let mut input = spa();
    input.access_token_lifetime_secs = 1;
    input.id_token_lifetime_secs = 1;
    assert!(validate("c", &input).is_ok());
    input.access_token_lifetime_secs = 3601;
    assert_eq!(problems(&input), vec![p("/access_token_lifetime_secs", "invalid-lifetime")]);

    let mut input = server();
    input.refresh_token_lifetime_secs = None;
    assert_eq!(problems(&input), vec![p("/refresh_token_lifetime_secs", "required")]);
    input.refresh_token_lifetime_secs = Some(MAX_REFRESH_TOKEN_SECS + 1);
    assert_eq!(problems(&input), vec![p("/refresh_token_lifetime_secs", "invalid-lifetime")]);
}

#[test]
fn grant_and_redirect_consistency() {
    let mut input = server();
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

#[test]
fn private_key_jwt_needs_usable_keys_and_only_it_takes_them() {
    let key = crate::keys::SigningKey::generate("k1", crate::keys::SigningAlg::ES256).unwrap();
    let jwks = crate::keys::Jwks { keys: vec![key.jwk().clone()] };
    let mut input = ClientInput { token_endpoint_auth_method: "private_key_jwt".into(), ..server() };
    assert_eq!(problems(&input), vec![p("/jwks", "required")]);
    input.jwks = Some(crate::keys::Jwks { keys: vec![] });
    assert_eq!(problems(&input), vec![p("/jwks", "invalid-jwks")]);
    input.jwks = Some(jwks.clone());
    assert_eq!(validate("c1", &input).unwrap().jwks, Some(jwks.clone()));
    let secret_based = ClientInput { jwks: Some(jwks), ..server() };
    assert_eq!(problems(&secret_based), vec![p("/jwks", "unused")]);
}

#[test]
fn post_logout_redirect_uris_follow_the_redirect_rules() {
    let input = ClientInput {
        post_logout_redirect_uris: vec!["https://app.example/bye".into(), "http://localhost/bye".into()],
        ..server()
    };
    assert_eq!(problems(&input), vec![p("/post_logout_redirect_uris/1", "invalid-redirect-uri")]);
}
