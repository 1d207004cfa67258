//! `/v1/graphql-settings` on the in-memory stores, every answer checked against the static OpenAPI document.

use serde_json::json;

use super::{call_checked, deps, request};

#[tokio::test]
async fn settings_start_at_the_defaults_and_change_with_versions() {
    let (deps, _) = deps(&["admin"]).await;
    let tenant = hw_domain::tenant::Tenant {
        id: "acme".into(),
        name: "Acme".into(),
        created_at: "2026-11-25T00:00:00Z".into(),
        rate_limit_per_minute: None,
        graphql: None,
    };
    deps.control.create_tenant(&tenant).await.unwrap();
    let (status, v, _) = call_checked(&deps, "GET", "/v1/graphql-settings", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({"max_depth": 20, "max_complexity": 2000, "introspection": true, "defaults": true, "version": 0})
    );

    let (status, v, r) =
        call_checked(&deps, "PUT", "/v1/graphql-settings", Some(json!({"max_depth": 8, "introspection": false}))).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v,
        json!({"max_depth": 8, "max_complexity": 2000, "introspection": false, "defaults": false, "version": 1})
    );
    assert_eq!(r.headers["etag"], "\"1\"");
    let stored = deps.control.get_tenant("acme").await.unwrap().unwrap().graphql.unwrap();
    assert_eq!((stored.max_depth, stored.introspection, stored.version), (8, false, 1));

    let stale =
        request(&deps, "PUT", "/v1/graphql-settings", Some(json!({"max_depth": 9})), &[("if-match", "\"0\"")]).await;
    assert_eq!(stale.status_code, 412);

    let (status, v, _) = call_checked(
        &deps,
        "PUT",
        "/v1/graphql-settings",
        Some(json!({"max_depth": 1, "max_complexity": "lots", "depth": 3})),
    )
    .await;
    assert_eq!(status, 422);
    let pointers: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/depth", "/max_complexity"], "type and name problems come first: {v}");
    let (status, v, _) = call_checked(&deps, "PUT", "/v1/graphql-settings", Some(json!({"max_depth": 1}))).await;
    assert_eq!((status, v["errors"][0]["pointer"].as_str()), (422, Some("/max_depth")));

    let (status, v, _) = call_checked(&deps, "DELETE", "/v1/graphql-settings", None).await;
    assert_eq!((status, v["defaults"].as_bool()), (200, Some(true)));
    assert!(deps.control.get_tenant("acme").await.unwrap().unwrap().graphql.is_none());
}

#[tokio::test]
async fn only_admins_change_settings() {
    let (deps, _) = deps(&["data:write"]).await;
    let (status, _, _) = call_checked(&deps, "PUT", "/v1/graphql-settings", Some(json!({"max_depth": 8}))).await;
    assert_eq!(status, 403);
}
