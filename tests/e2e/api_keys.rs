//! API keys: shown once, stored hashed, scoped, revocable.

use serde_json::json;

use crate::stack;

#[tokio::test]
async fn a_scoped_key_can_do_what_its_scopes_allow_and_nothing_after_revocation() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let created = t.post_json("/v1/api-keys", &json!({"name": "reader", "scopes": ["data:read"]})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("hw_") && secret.len() == 46);
    let key_id = created.body["id"].as_str().unwrap().to_owned();

    // never stored in clear, never listed
    let listed = t.get("/v1/api-keys").await;
    assert!(!listed.body.to_string().contains(&secret));
    let scan = s.dynamo().scan().table_name(s.config().control_table).send().await.unwrap();
    assert!(!format!("{:?}", scan.items()).contains(&secret), "the secret is stored only as a hash");

    let reader = t.with_key(&secret);
    assert_eq!(reader.get("/v1/data/contact").await.status, 200);
    let denied = reader.create("contact", json!({"email": "r@example.com"}), None).await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.body["errors"][0]["code"], "insufficient-scope");
    assert_eq!(
        reader.post_json("/v1/models", &json!({"name": "x", "fields": [{"name": "a", "type": "string"}]})).await.status,
        403
    );
    assert_eq!(reader.get("/v1/api-keys").await.status, 403);

    assert_eq!(t.delete(&format!("/v1/api-keys/{key_id}")).await.status, 204);
    assert_eq!(reader.get("/v1/data/contact").await.status, 401);
    assert_eq!(t.post_json("/v1/api-keys", &json!({"name": "bad", "scopes": ["root"]})).await.status, 422);
}

#[tokio::test]
async fn rotation_keeps_the_old_key_working_for_the_overlap_only() {
    let s = stack().await;
    let t = s.tenant().await;
    let created = t
        .post_json(
            "/v1/api-keys",
            &json!({"name": "ci", "scopes": ["data:read", "models:write"], "rate_limit_per_minute": 900}),
        )
        .await;
    assert_eq!(created.status, 201);
    let old_id = created.body["id"].as_str().unwrap().to_owned();
    let old = t.with_key(created.body["secret"].as_str().unwrap());
    assert_eq!(old.get("/v1/models").await.status, 200);

    let rotated = t.post_json(&format!("/v1/api-keys/{old_id}/rotate"), &json!({"overlap_seconds": 2})).await;
    assert_eq!(rotated.status, 201, "{:?}", rotated.body);
    assert_eq!(rotated.header("cache-control"), "no-store");
    let new_id = rotated.body["id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, old_id);
    assert_eq!(rotated.body["rotated_from"], old_id.as_str());
    assert_eq!(rotated.body["scopes"], json!(["data:read", "models:write"]), "the successor keeps the scopes");
    assert_eq!(rotated.body["rate_limit_per_minute"], 900);
    assert!(rotated.header("location").ends_with(&format!("/v1/api-keys/{new_id}")));
    let new = t.with_key(rotated.body["secret"].as_str().unwrap());

    // both work during the overlap
    assert_eq!(old.get("/v1/models").await.status, 200);
    assert_eq!(new.get("/v1/models").await.status, 200);
    let old_meta = t.get(&format!("/v1/api-keys/{old_id}")).await;
    assert_eq!(old_meta.body["rotated_to"], new_id.as_str());
    assert!(old_meta.body["expires_at"].is_string());
    assert!(old_meta.body["last_used_at"].is_string(), "use is recorded");

    // a key is rotated once; its successor is what rotates next
    let twice = t.post_json(&format!("/v1/api-keys/{old_id}/rotate"), &json!({})).await;
    assert_eq!(twice.status, 409);
    assert!(twice.body["type"].as_str().unwrap().ends_with("/key-not-rotatable"));

    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(old.get("/v1/models").await.status, 401, "the overlap is over");
    assert_eq!(new.get("/v1/models").await.status, 200);

    // overlap 0 ends the old key at once; an empty body means the default overlap
    let immediate = t.post_json(&format!("/v1/api-keys/{new_id}/rotate"), &json!({"overlap_seconds": 0})).await;
    assert_eq!(immediate.status, 201);
    assert_eq!(new.get("/v1/models").await.status, 401);
    let newest_id = immediate.body["id"].as_str().unwrap();
    let default = t.send(reqwest::Method::POST, &format!("/v1/api-keys/{newest_id}/rotate"), None, None, &[]).await;
    assert_eq!(default.status, 201, "{:?}", default.body);

    // bad input
    let too_long = t
        .post_json(
            &format!("/v1/api-keys/{}/rotate", default.body["id"].as_str().unwrap()),
            &json!({"overlap_seconds": 999_999_999u64}),
        )
        .await;
    assert_eq!(too_long.status, 422);
    assert_eq!(t.post_json("/v1/api-keys/key_missing/rotate", &json!({})).await.status, 404);
    assert_eq!(t.get("/v1/api-keys/key_missing").await.status, 404);
    let zero =
        t.post_json("/v1/api-keys", &json!({"name": "z", "scopes": ["admin"], "rate_limit_per_minute": 0})).await;
    assert_eq!(zero.status, 422);
}
