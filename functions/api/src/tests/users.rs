//! The user routes on the in-memory store. Every answer is checked against the static OpenAPI document.

use serde_json::{Value, json};

use super::{assert_conforms, call_checked, deps, header, request};

const BASE: &str = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
const PASSWORD: &str = "correct horse battery";

fn pointers(problem: &Value) -> Vec<(&str, &str)> {
    problem["errors"]
        .as_array()
        .map_or(vec![], |a| a.iter().map(|e| (e["pointer"].as_str().unwrap(), e["code"].as_str().unwrap())).collect())
}

fn no_secrets(v: &Value) {
    let text = v.to_string();
    assert!(!text.contains("argon2") && !text.contains("hash") && !text.contains(PASSWORD), "{text}");
}

#[tokio::test]
async fn a_user_is_created_with_a_password_and_signs_in() {
    let (deps, _) = deps(&["admin"]).await;
    let body = json!({"username": "Ada@Example.com", "name": "Ada Lovelace", "email": "ada@example.com",
                      "permissions": ["data:read", "data:write:contact"], "password": PASSWORD});
    let (status, v, r) = call_checked(&deps, "POST", "/v1/users", Some(body)).await;
    assert_eq!(status, 201, "{v}");
    no_secrets(&v);
    let id = v["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(v["user"]["username"], "ada@example.com");
    assert_eq!(v["user"]["status"], "active");
    assert!(v.get("invitation").is_none());
    assert_eq!(header(&r, "location"), format!("{BASE}/v1/users/{id}"));
    assert_eq!(header(&r, "cache-control"), "no-store");
    deps.users.verify_login("acme", "ada@example.com", PASSWORD, None).await.unwrap();

    let (status, got, _) = call_checked(&deps, "GET", &format!("/v1/users/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(got, v["user"]);
    no_secrets(&got);
    let (status, _, _) = call_checked(&deps, "GET", "/v1/users/usr_01JH3Q0W9ZK7M8T3V7X6B2N4PQ", None).await;
    assert_eq!(status, 404);

    // the admin sets another password
    let (status, v, _) =
        call_checked(&deps, "PUT", &format!("/v1/users/{id}/password"), Some(json!({"password": "x"}))).await;
    assert_eq!((status, pointers(&v)), (422, vec![("/password", "too-short")]));
    let (status, v, _) = call_checked(
        &deps,
        "PUT",
        &format!("/v1/users/{id}/password"),
        Some(json!({"password": "another good password"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    deps.users.verify_login("acme", "ada@example.com", "another good password", None).await.unwrap();
}

#[tokio::test]
async fn a_user_is_created_with_an_invitation() {
    let (deps, _) = deps(&["admin"]).await;
    let body = json!({"username": "grace", "name": "Grace Hopper", "invite": true});
    let (status, v, _) = call_checked(&deps, "POST", "/v1/users", Some(body)).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["user"]["status"], "invited");
    assert_eq!(v["user"]["email"], Value::Null);
    let token = v["invitation"]["token"].as_str().unwrap();
    assert_eq!(v["invitation"]["url"], format!("{BASE}/t/acme/invitation?token={token}"));
    let id = v["user"]["id"].as_str().unwrap();

    // invited again: the first token stops working
    let (status, again, r) = call_checked(&deps, "POST", &format!("/v1/users/{id}/invitation"), None).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert!(deps.users.accept_invitation("acme", token, PASSWORD).await.is_err());
    let user = deps.users.accept_invitation("acme", again["token"].as_str().unwrap(), PASSWORD).await.unwrap();
    assert_eq!(user.status, hw_users::UserStatus::Active);
    // an active user is not invited
    let (status, v, _) = call_checked(&deps, "POST", &format!("/v1/users/{id}/invitation"), None).await;
    assert_eq!((status, v["type"].as_str().unwrap()), (409, "https://docs.hubblewave.dev/problems/user-state"));
}

#[tokio::test]
async fn a_duplicate_username_is_a_conflict() {
    let (deps, _) = deps(&["admin"]).await;
    let body = json!({"username": "ada", "name": "Ada", "password": PASSWORD});
    assert_eq!(call_checked(&deps, "POST", "/v1/users", Some(body)).await.0, 201);
    let (status, v, _) =
        call_checked(&deps, "POST", "/v1/users", Some(json!({"username": "ADA", "name": "Other", "invite": true})))
            .await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["type"], "https://docs.hubblewave.dev/problems/username-taken");
    assert_eq!(pointers(&v), [("/username", "taken")]);
}

#[tokio::test]
async fn bad_input_is_refused_with_pointers() {
    let (deps, _) = deps(&["admin"]).await;
    let (status, v, _) = call_checked(
        &deps,
        "POST",
        "/v1/users",
        Some(json!({"username": 7, "permissions": "admin", "invite": "yes", "role": "x"})),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    let mut got = pointers(&v);
    got.sort();
    assert_eq!(
        got,
        [
            ("/invite", "invalid-type"),
            ("/name", "required"),
            ("/permissions", "invalid-type"),
            ("/role", "unknown-member"),
            ("/username", "invalid-type")
        ]
    );
    let (status, v, _) = call_checked(
        &deps,
        "POST",
        "/v1/users",
        Some(json!({"username": "a b", "name": "Ada", "email": "nope", "permissions": ["data:read", "root"],
                    "password": "aaaaaaaaaaaa"})),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        pointers(&v),
        [
            ("/username", "invalid-format"),
            ("/email", "invalid-format"),
            ("/permissions/1", "unknown-permission"),
            ("/password", "too-weak")
        ]
    );
    let (status, v, _) =
        call_checked(&deps, "POST", "/v1/users", Some(json!({"username": "ada", "name": "Ada"}))).await;
    assert_eq!((status, pointers(&v)), (422, vec![("/password", "required")]));
    let (status, _, _) = call_checked(&deps, "GET", "/v1/users?status=gone", None).await;
    assert_eq!(status, 400);
    let (status, _, _) = call_checked(&deps, "GET", "/v1/users?page%5Bsize%5D=0", None).await;
    assert_eq!(status, 400);
    assert_eq!(deps.users.list("acme", None, 10, None).await.unwrap().0.len(), 0, "nothing was created");
}

#[tokio::test]
async fn users_are_listed_in_pages_and_filtered_by_status() {
    let (deps, _) = deps(&["admin"]).await;
    for i in 0..3 {
        let body = json!({"username": format!("user{i}"), "name": "U", "password": PASSWORD});
        assert_eq!(call_checked(&deps, "POST", "/v1/users", Some(body)).await.0, 201);
        // Ids order by creation time to the millisecond: one apart, the pages below are exactly these.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let body = json!({"username": "grace", "name": "Grace", "invite": true});
    assert_eq!(call_checked(&deps, "POST", "/v1/users", Some(body)).await.0, 201);

    let (status, page, _) = call_checked(&deps, "GET", "/v1/users?page%5Bsize%5D=2", None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let next = page["links"]["next"].as_str().unwrap();
    let path = next.strip_prefix(BASE).unwrap();
    let (_, rest, _) = call_checked(&deps, "GET", path, None).await;
    let mut names: Vec<&str> =
        rest["data"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["grace", "user2"]);
    assert!(rest["links"].get("next").is_none());

    let (_, invited, _) = call_checked(&deps, "GET", "/v1/users?status=invited", None).await;
    let names: Vec<&str> =
        invited["data"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["grace"]);
    no_secrets(&invited);
}

#[tokio::test]
async fn a_user_is_disabled_changed_and_deleted() {
    let (deps, _) = deps(&["admin"]).await;
    let body = json!({"username": "ada", "name": "Ada", "email": "ada@example.com", "password": PASSWORD});
    let (_, v, _) = call_checked(&deps, "POST", "/v1/users", Some(body)).await;
    let id = v["user"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/users/{id}");

    let (_, _, r) = call_checked(&deps, "GET", &path, None).await;
    assert_eq!(header(&r, "etag"), "\"1\"");
    let (status, v, r) = call_checked(
        &deps,
        "PATCH",
        &path,
        Some(json!({"status": "disabled", "name": "Ada King", "email": null, "permissions": ["admin"]})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(header(&r, "etag"), "\"2\"");
    // a stale If-Match changes nothing
    let r = request(&deps, "PATCH", &path, Some(json!({"name": "Other"})), &[("if-match", "\"1\"")]).await;
    assert_conforms("PATCH", &path, &r);
    assert_eq!((r.status_code, header(&r, "etag")), (412, "\"2\""));
    let r = request(&deps, "DELETE", &path, None, &[("if-match", "\"1\"")]).await;
    assert_eq!(r.status_code, 412);
    assert_eq!((v["status"].as_str(), v["name"].as_str()), (Some("disabled"), Some("Ada King")));
    assert_eq!(v["email"], Value::Null);
    assert_eq!(v["permissions"], json!(["admin"]));
    assert_eq!(
        deps.users.verify_login("acme", "ada", PASSWORD, None).await,
        Err(hw_users::LoginError::InvalidCredentials)
    );
    let (status, v, _) =
        call_checked(&deps, "PATCH", &path, Some(json!({"status": "invited", "permissions": ["root"]}))).await;
    assert_eq!(status, 422);
    assert_eq!(pointers(&v), [("/status", "invalid-value")]);
    let (status, v, _) = call_checked(&deps, "PATCH", &path, Some(json!({"permissions": ["root"]}))).await;
    assert_eq!((status, pointers(&v)), (422, vec![("/permissions/0", "unknown-permission")]));

    let (status, v, _) = call_checked(&deps, "DELETE", &path, None).await;
    assert_eq!((status, v), (204, Value::Null));
    assert_eq!(call_checked(&deps, "GET", &path, None).await.0, 404);
    assert_eq!(call_checked(&deps, "DELETE", &path, None).await.0, 404);
    // the username is free again
    let body = json!({"username": "ada", "name": "Ada", "invite": true});
    assert_eq!(call_checked(&deps, "POST", "/v1/users", Some(body)).await.0, 201);

    // the audit trail names the actions
    let (entries, _) = deps.ops.audit("acme", "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", 100, None).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    for a in ["user.create", "user.update", "user.delete"] {
        assert!(actions.contains(&a), "{actions:?}");
    }
}

#[tokio::test]
async fn only_admin_keys_manage_users() {
    let (deps, _) = deps(&["data:read", "data:write", "models:write"]).await;
    for (method, path, body) in [
        ("GET", "/v1/users", None),
        ("POST", "/v1/users", Some(json!({"username": "ada", "name": "Ada", "password": PASSWORD}))),
        ("GET", "/v1/users/usr_01JH3Q0W9ZK7M8T3V7X6B2N4PQ", None),
        ("DELETE", "/v1/users/usr_01JH3Q0W9ZK7M8T3V7X6B2N4PQ", None),
    ] {
        let (status, v, _) = call_checked(&deps, method, path, body).await;
        assert_eq!(status, 403, "{method} {path}: {v}");
    }
    assert_eq!(deps.users.list("acme", None, 10, None).await.unwrap().0.len(), 0);
}
