//! The operator command, run as an operator would, against the emulator.

use std::process::Command;

use serde_json::Value;

use crate::stack;

fn admin(args: &[&str]) -> (i32, String, String) {
    let bin = std::env::var("HUBBLE_E2E_ADMIN_BIN").expect("HUBBLE_E2E_ADMIN_BIN is set by make test");
    let endpoint = std::env::var("HUBBLE_E2E_ENDPOINT").unwrap();
    let prefix = std::env::var("HUBBLE_E2E_PREFIX").unwrap();
    let out = Command::new(bin)
        .args(["--prefix", &prefix])
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("hubble-admin runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test]
async fn operators_create_tenants_and_keys_with_hubble_admin() {
    let s = stack().await;
    let tenant = format!("op-{}", ulid::Ulid::new().to_string().to_lowercase());
    let (code, out, err) = admin(&["tenant", "create", &tenant, "--name", "Operator Test"]);
    assert_eq!(code, 0, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["tenant"]["id"], tenant.as_str());
    let admin_key = created["api_key"]["secret"].as_str().unwrap().to_owned();
    let r = s.http.get(format!("{}/v1/models", s.base_url)).bearer_auth(&admin_key).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let (code, _, err) = admin(&["tenant", "create", &tenant]);
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = admin(&["tenant", "create", "Not Valid"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a valid tenant id"), "{err}");

    let (code, out, err) = admin(&["key", "create", &tenant, "--name", "reader", "--scope", "data:read"]);
    assert_eq!(code, 0, "{err}");
    let key: Value = serde_json::from_str(&out).unwrap();
    let reader = key["api_key"]["secret"].as_str().unwrap();
    let r = s
        .http
        .post(format!("{}/v1/models", s.base_url))
        .bearer_auth(reader)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a data:read key cannot change models");
}

#[tokio::test]
async fn operators_set_a_tenants_own_rate_limit_across_its_keys() {
    let s = stack().await;
    let t = s.tenant().await;
    let (code, out, err) = admin(&["tenant", "limit", &t.id, "3"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["rate_limit_per_minute"], 3);
    let second = t.post_json("/v1/api-keys", &serde_json::json!({"name": "b", "scopes": ["admin"]})).await;
    assert_eq!(second.status, 201);
    assert_eq!(second.header("ratelimit-limit"), "3", "the tenant's limit binds before the key's default");
    let other = t.with_key(second.body["secret"].as_str().unwrap());
    let mut statuses = vec![];
    for _ in 0..4 {
        statuses.push(other.get("/v1/models").await.status);
        statuses.push(t.get("/v1/models").await.status);
    }
    // three requests per window for the whole tenant; the window may start over once during the loop
    let served = statuses.iter().filter(|s| **s == 200).count();
    assert!((2..=5).contains(&served), "{statuses:?}");
    let limited = t.get("/v1/models").await;
    if limited.status == 429 {
        assert!(limited.body["detail"].as_str().unwrap().contains("across all its clients"));
    }

    let (code, _, err) = admin(&["tenant", "limit", &t.id, "0"]);
    assert_eq!(code, 1);
    assert!(err.contains("from 1 to"), "{err}");
    let (code, _, err) = admin(&["tenant", "limit", "no-such-tenant", "10"]);
    assert_eq!(code, 1);
    assert!(err.contains("no tenant"), "{err}");
    let (code, _, err) = admin(&["tenant", "limit", &t.id, "default"]);
    assert_eq!(code, 0, "{err}");
}
