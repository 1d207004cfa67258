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
