//! The OAuth administration routes (clients, signing keys) and consents on the in-memory stores. Every answer is
//! checked against the static OpenAPI document.

use serde_json::{Value, json};

use super::{assert_conforms, call_checked, deps, header, request};

const BASE: &str = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";

fn pointers(problem: &Value) -> Vec<(&str, &str)> {
    problem["errors"]
        .as_array()
        .map_or(vec![], |a| a.iter().map(|e| (e["pointer"].as_str().unwrap(), e["code"].as_str().unwrap())).collect())
}

fn confidential() -> Value {
    json!({"name": "Reporting service", "kind": "confidential", "grant_types": ["client_credentials"],
           "scopes": ["data:read"], "token_endpoint_auth_method": "client_secret_basic",
           "access_token_lifetime_secs": 600, "id_token_lifetime_secs": 600})
}

fn public() -> Value {
    json!({"name": "Mobile app", "kind": "public", "redirect_uris": ["https://app.example.com/callback"],
           "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "offline_access", "data:read"],
           "token_endpoint_auth_method": "none", "access_token_lifetime_secs": 300,
           "refresh_token_lifetime_secs": 86400, "id_token_lifetime_secs": 300})
}

/// No answer holds a stored secret hash (hex SHA-256) or a `hash` member.
fn no_hashes(v: &Value) {
    let text = v.to_string();
    assert!(!text.contains("hash"), "{text}");
    let hex64 = text.split(|c: char| !c.is_ascii_hexdigit()).any(|w| w.len() == 64);
    assert!(!hex64, "a hash leaked: {text}");
}

#[tokio::test]
async fn a_confidential_client_gets_its_secret_once() {
    let (deps, _) = deps(&["admin"]).await;
    let (status, v, r) = call_checked(&deps, "POST", "/v1/oauth-clients", Some(confidential())).await;
    assert_eq!(status, 201, "{v}");
    no_hashes(&v);
    let id = v["client"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("cl_"), "{id}");
    let secret = v["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("hwcs_"), "{secret}");
    assert_eq!(header(&r, "location"), format!("{BASE}/v1/oauth-clients/{id}"));
    assert_eq!(header(&r, "etag"), "\"1\"");
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert_eq!(v["client"]["secrets"].as_array().unwrap().len(), 1);
    assert_eq!(v["client"]["secrets"][0]["expires_at"], Value::Null);

    // read back: the registration, never the secret
    let (status, got, r) = call_checked(&deps, "GET", &format!("/v1/oauth-clients/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(got, v["client"]);
    assert_eq!(header(&r, "etag"), "\"1\"");
    assert!(!got.to_string().contains(secret));
    no_hashes(&got);
    let (status, list, _) = call_checked(&deps, "GET", "/v1/oauth-clients", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"], json!([got]));
    assert!(!list.to_string().contains(secret));
    no_hashes(&list);
    let (status, _, _) = call_checked(&deps, "GET", "/v1/oauth-clients/cl_nosuchclient", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_public_client_has_no_secret_and_none_to_rotate() {
    let (deps, _) = deps(&["admin"]).await;
    let (status, v, _) = call_checked(&deps, "POST", "/v1/oauth-clients", Some(public())).await;
    assert_eq!(status, 201, "{v}");
    assert!(v.get("client_secret").is_none(), "{v}");
    assert_eq!(v["client"]["secrets"], json!([]));
    assert_eq!(v["client"]["refresh_token_lifetime_secs"], 86400);
    let id = v["client"]["id"].as_str().unwrap();
    let (status, v, _) = call_checked(&deps, "POST", &format!("/v1/oauth-clients/{id}/secret"), None).await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["type"], "https://docs.hubblewave.dev/problems/no-client-secret");
}

#[tokio::test]
async fn a_bad_registration_is_refused_with_pointers() {
    let (deps, _) = deps(&["admin"]).await;
    let mut body = public();
    body["grant_types"] = json!(["client_credentials"]);
    body["redirect_uris"] = json!([]);
    body["scopes"] = json!(["data:read"]);
    body.as_object_mut().unwrap().remove("refresh_token_lifetime_secs");
    let (status, v, _) = call_checked(&deps, "POST", "/v1/oauth-clients", Some(body)).await;
    assert_eq!(status, 422, "{v}");
    assert!(pointers(&v).contains(&("/grant_types/0", "public-client-credentials")), "{v}");

    let mut body = confidential();
    body["colour"] = json!("blue");
    let (status, v, _) = call_checked(&deps, "POST", "/v1/oauth-clients", Some(body)).await;
    assert_eq!((status, pointers(&v)), (422, vec![("/colour", "unknown-member")]), "{v}");

    let mut body = confidential();
    body.as_object_mut().unwrap().remove("scopes");
    let (status, v, _) = call_checked(&deps, "POST", "/v1/oauth-clients", Some(body)).await;
    assert_eq!((status, pointers(&v)), (422, vec![("/scopes", "required")]), "{v}");

    let mut body = confidential();
    body["access_token_lifetime_secs"] = json!(7200);
    let (status, v, _) = call_checked(&deps, "POST", "/v1/oauth-clients", Some(body)).await;
    assert_eq!((status, pointers(&v)), (422, vec![("/access_token_lifetime_secs", "invalid-lifetime")]), "{v}");

    let (status, list, _) = call_checked(&deps, "GET", "/v1/oauth-clients", None).await;
    assert_eq!((status, list), (200, json!({"data": []})));
}

#[tokio::test]
async fn a_client_is_replaced_under_if_match_rotated_and_deleted() {
    let (deps, _) = deps(&["admin"]).await;
    let (_, v, _) = call_checked(&deps, "POST", "/v1/oauth-clients", Some(confidential())).await;
    let id = v["client"]["id"].as_str().unwrap().to_owned();
    let first = v["client_secret"].as_str().unwrap().to_owned();
    let path = format!("/v1/oauth-clients/{id}");

    let mut renamed = confidential();
    renamed["name"] = json!("Reporting service v2");
    let r = request(&deps, "PUT", &path, Some(renamed.clone()), &[("if-match", "\"1\"")]).await;
    assert_conforms("PUT", &path, &r);
    assert_eq!(r.status_code, 200);
    assert_eq!(header(&r, "etag"), "\"2\"");
    let v = super::body(&r);
    assert_eq!(v["client"]["name"], "Reporting service v2");
    assert!(v.get("client_secret").is_none(), "the client keeps its secret: {v}");
    no_hashes(&v);
    // a stale version
    let r = request(&deps, "PUT", &path, Some(renamed), &[("if-match", "\"1\"")]).await;
    assert_conforms("PUT", &path, &r);
    assert_eq!(r.status_code, 412);
    assert_eq!(header(&r, "etag"), "\"2\"");

    // a new secret; the first keeps working for the grace period
    let secret_path = format!("{path}/secret");
    let (status, v, r) = call_checked(&deps, "POST", &secret_path, Some(json!({"grace_period_secs": 3600}))).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(header(&r, "cache-control"), "no-store");
    let second = v["client_secret"].as_str().unwrap();
    assert_ne!(second, first);
    no_hashes(&v);
    let secrets = v["client"]["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 2, "{v}");
    assert_eq!(secrets[0]["expires_at"], Value::Null);
    assert!(secrets[1]["expires_at"].is_string(), "{v}");
    let (status, v, _) = call_checked(&deps, "POST", &secret_path, Some(json!({"grace_period_secs": 604801}))).await;
    assert_eq!((status, pointers(&v)), (422, vec![("/grace_period_secs", "invalid-value")]));
    let (status, v, _) = call_checked(&deps, "POST", &secret_path, Some(json!({"grace": 1}))).await;
    assert_eq!((status, pointers(&v)), (422, vec![("", "invalid-body")]));

    // delete: a stale If-Match is refused, then it goes
    let r = request(&deps, "DELETE", &path, None, &[("if-match", "\"1\"")]).await;
    assert_conforms("DELETE", &path, &r);
    assert_eq!(r.status_code, 412);
    let (status, v, _) = call_checked(&deps, "DELETE", &path, None).await;
    assert_eq!((status, v), (204, Value::Null));
    let (status, _, _) = call_checked(&deps, "DELETE", &path, None).await;
    assert_eq!(status, 404);
    let (status, _, _) = call_checked(&deps, "GET", &path, None).await;
    assert_eq!(status, 404);
    let (status, _, _) = call_checked(&deps, "POST", &secret_path, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn signing_keys_are_made_on_first_use_and_rotate() {
    let (deps, _) = deps(&["admin"]).await;
    let (status, v, _) = call_checked(&deps, "GET", "/v1/oauth-signing-keys", None).await;
    assert_eq!(status, 200, "{v}");
    let keys = v["data"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let state = |v: &Value, s: &str| {
        v["data"].as_array().unwrap().iter().filter(|k| k["state"] == s).cloned().collect::<Vec<_>>()
    };
    let active = state(&v, "active");
    let pending = state(&v, "pending");
    assert_eq!((active.len(), pending.len()), (1, 1));
    assert!(!v.to_string().contains("PRIVATE") && !v.to_string().contains("sealed"), "{v}");

    let (status, v, _) = call_checked(&deps, "POST", "/v1/oauth-signing-keys/rotate", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 3);
    let retired = state(&v, "retired");
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0]["kid"], active[0]["kid"]);
    assert!(retired[0]["retired_at"].is_i64());
    assert_eq!(state(&v, "active")[0]["kid"], pending[0]["kid"]);
    assert_eq!(state(&v, "pending").len(), 1);

    // a bad body is refused and rotates nothing
    for body in [json!({"alg": "HS256"}), json!({"alg": 5}), json!({"alg": null}), json!({"other": 1})] {
        let (status, v, _) = call_checked(&deps, "POST", "/v1/oauth-signing-keys/rotate", Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {v}");
    }
    let (_, v, _) = call_checked(&deps, "GET", "/v1/oauth-signing-keys", None).await;
    assert_eq!(v["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn an_admin_key_reads_and_withdraws_a_users_consents() {
    let (deps, _) = deps(&["admin"]).await;
    let (status, v, _) = call_checked(&deps, "GET", "/v1/consents", None).await;
    assert_eq!(status, 400, "an API key names the user: {v}");
    let (status, v, _) = call_checked(&deps, "GET", "/v1/consents?user_id=usr_1", None).await;
    assert_eq!((status, v), (200, json!({"user_id": "usr_1", "data": []})));
    let (status, _, _) = call_checked(&deps, "DELETE", "/v1/consents/cl_unknown?user_id=usr_1", None).await;
    assert_eq!(status, 404);
    let (status, _, _) = call_checked(&deps, "GET", "/v1/consents?user_id=usr_1&colour=blue", None).await;
    assert_eq!(status, 400);

    // a consent given at the provider
    let (_, client, _) = call_checked(&deps, "POST", "/v1/oauth-clients", Some(public())).await;
    let client_id = client["client"]["id"].as_str().unwrap().to_owned();
    let stamp = "2026-11-26T10:00:00.000Z".to_owned();
    let consent = hw_oauth_store::Consent {
        user_id: "usr_1".into(),
        client_id: client_id.clone(),
        scope: "openid data:read".into(),
        granted_at: stamp.clone(),
        updated_at: stamp.clone(),
    };
    deps.oauth.store.put_consent("acme", &consent).await.unwrap();
    let (status, v, _) = call_checked(&deps, "GET", "/v1/consents?user_id=usr_1", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["data"],
        json!([{"client_id": client_id, "client_name": "Mobile app", "scope": "openid data:read",
                "granted_at": stamp, "updated_at": stamp}])
    );
    let (status, v, _) = call_checked(&deps, "GET", "/v1/consents?user_id=usr_2", None).await;
    assert_eq!((status, v["data"].clone()), (200, json!([])));

    let path = format!("/v1/consents/{client_id}?user_id=usr_1");
    let (status, v, _) = call_checked(&deps, "DELETE", &path, None).await;
    assert_eq!((status, v), (204, Value::Null));
    let (status, _, _) = call_checked(&deps, "DELETE", &path, None).await;
    assert_eq!(status, 404);
    let (_, v, _) = call_checked(&deps, "GET", "/v1/consents?user_id=usr_1", None).await;
    assert_eq!(v["data"], json!([]));
}

#[tokio::test]
async fn a_key_without_admin_is_refused() {
    let (deps, _) = deps(&["data:read", "data:write", "models:write"]).await;
    for (method, path, body) in [
        ("GET", "/v1/oauth-clients", None),
        ("POST", "/v1/oauth-clients", Some(confidential())),
        ("GET", "/v1/oauth-clients/cl_x", None),
        ("DELETE", "/v1/oauth-clients/cl_x", None),
        ("POST", "/v1/oauth-clients/cl_x/secret", None),
        ("GET", "/v1/oauth-signing-keys", None),
        ("POST", "/v1/oauth-signing-keys/rotate", None),
        ("GET", "/v1/consents?user_id=usr_1", None),
        ("DELETE", "/v1/consents/cl_x?user_id=usr_1", None),
    ] {
        let (status, v, _) = call_checked(&deps, method, path, body).await;
        assert_eq!(status, 403, "{method} {path}: {v}");
    }
    assert!(deps.oauth.store.list_clients("acme").await.unwrap().is_empty());
}

#[tokio::test]
async fn key_rotation_is_idempotent_but_client_secrets_are_never_replayed() {
    let (deps, _) = deps(&["admin"]).await;
    let path = "/v1/oauth-signing-keys/rotate";
    let first = request(&deps, "POST", path, None, &[("idempotency-key", "rotate-1")]).await;
    assert_conforms("POST", path, &first);
    let again = request(&deps, "POST", path, None, &[("idempotency-key", "rotate-1")]).await;
    assert_conforms("POST", path, &again);
    assert_eq!(header(&again, "idempotent-replayed"), "true");
    assert_eq!(super::body(&again), super::body(&first));
    let (_, v, _) = call_checked(&deps, "GET", "/v1/oauth-signing-keys", None).await;
    assert_eq!(v["data"].as_array().unwrap().len(), 3, "one rotation: {v}");

    // an answer holding a secret is not kept: the same key registers a second client
    let a = request(&deps, "POST", "/v1/oauth-clients", Some(confidential()), &[("idempotency-key", "c-1")]).await;
    let b = request(&deps, "POST", "/v1/oauth-clients", Some(confidential()), &[("idempotency-key", "c-1")]).await;
    assert_eq!((a.status_code, b.status_code), (201, 201));
    assert_eq!(header(&b, "idempotent-replayed"), "");
    assert_ne!(super::body(&a)["client"]["id"], super::body(&b)["client"]["id"]);
}
