//! Tenant users: the DynamoDB adapter of `hw-users` on the emulator's identity table, and `/v1/users` over HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use hw_users::dynamo::DynamoUsers;
use hw_users::{InvitationError, LoginError, NewUser, UserPatch, UserStatus, Users, UsersError};
use serde_json::json;

use crate::stack;

const PASSWORD: &str = "correct horse battery";

fn tenant() -> String {
    format!("t-{}", ulid::Ulid::new().to_string().to_lowercase())
}

fn new_user(username: &str, invite: bool) -> NewUser {
    NewUser {
        username: username.into(),
        name: "Ada Lovelace".into(),
        email: None,
        permissions: vec!["data:read".into()],
        password: (!invite).then(|| PASSWORD.to_owned()),
        invite,
    }
}

/// Every item of the tenant's users in the identity table.
async fn items(s: &hubble_e2e::Stack, tenant: &str) -> Vec<hw_aws::dynamo::Item> {
    let mut found = Vec::new();
    let mut start = None;
    loop {
        let out = s
            .dynamo()
            .scan()
            .table_name(s.config().identity_table)
            .filter_expression("begins_with(pk, :p)")
            .expression_attribute_values(":p", aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{tenant}")))
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        found.extend(out.items().iter().cloned());
        match out.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => return found,
        }
    }
}

#[tokio::test]
async fn the_dynamo_adapter_keeps_usernames_unique_and_invitations_single_use() {
    let s = stack().await;
    let t = tenant();
    let users = Users::for_tests(Arc::new(DynamoUsers::new(s.dynamo(), s.config().identity_table)));

    let (ada, none) = users.create(&t, new_user("Ada", false)).await.unwrap();
    assert!(none.is_none());
    assert_eq!(users.create(&t, new_user("ada", true)).await, Err(UsersError::UsernameTaken("ada".into())));
    assert_eq!(users.verify_login(&t, "ada", PASSWORD, None).await.unwrap().id, ada.id);
    assert_eq!(users.verify_login(&t, "ada", "wrong password", None).await, Err(LoginError::InvalidCredentials));

    let (grace, first) = users.create(&t, new_user("grace", true)).await.unwrap();
    let second = users.invite(&t, &grace.id).await.unwrap();
    let first = first.unwrap();
    assert_eq!(users.accept_invitation(&t, &first.token, PASSWORD).await, Err(InvitationError::InvalidToken));
    assert_eq!(users.accept_invitation(&t, &second.token, PASSWORD).await.unwrap().status, UserStatus::Active);
    assert_eq!(users.accept_invitation(&t, &second.token, PASSWORD).await, Err(InvitationError::InvalidToken));
    users.verify_login(&t, "grace", PASSWORD, None).await.unwrap();

    for i in 0..3 {
        users.create(&t, new_user(&format!("user{i}"), true)).await.unwrap();
    }
    let (page, next) = users.list(&t, None, 3, None).await.unwrap();
    assert_eq!(page.len(), 3);
    let (rest, end) = users.list(&t, None, 3, next.as_deref()).await.unwrap();
    assert_eq!((rest.len(), end), (2, None));
    let (invited, _) = users.list(&t, Some(UserStatus::Invited), 10, None).await.unwrap();
    assert_eq!(invited.len(), 3);

    let (_, version) = users
        .update(&t, &ada.id, UserPatch { status: Some(UserStatus::Disabled), ..Default::default() }, Some(1))
        .await
        .unwrap();
    assert_eq!(version, 2);
    assert_eq!(users.verify_login(&t, "ada", PASSWORD, None).await, Err(LoginError::InvalidCredentials));
    users.delete(&t, &ada.id, Some(2)).await.unwrap();
    users.create(&t, new_user("ada", false)).await.unwrap();

    let stored = items(&s, &t).await;
    let text = format!("{stored:?}");
    assert!(!text.contains(PASSWORD) && !text.contains(&second.token), "secrets are stored only as hashes");
    assert!(stored.iter().all(|i| i["pk"].as_s().unwrap().starts_with("USER#")));
}

#[tokio::test]
async fn failures_are_counted_atomically_and_lock_the_username() {
    let s = stack().await;
    let t = tenant();
    let clock = Arc::new(AtomicI64::new(chrono::Utc::now().timestamp()));
    let c = clock.clone();
    let users = Users::for_tests(Arc::new(DynamoUsers::new(s.dynamo(), s.config().identity_table)))
        .with_clock(move || c.load(Ordering::SeqCst));
    users.create(&t, new_user("ada", false)).await.unwrap();
    // five concurrent failures: each one counted
    let tries = (0..5).map(|_| users.verify_login(&t, "ada", "wrong password", Some("192.0.2.1")));
    for r in futures::future::join_all(tries).await {
        assert_eq!(r, Err(LoginError::InvalidCredentials));
    }
    assert_eq!(
        users.verify_login(&t, "ada", PASSWORD, None).await,
        Err(LoginError::Throttled { retry_after_secs: 60 })
    );
    clock.fetch_add(60, Ordering::SeqCst);
    users.verify_login(&t, "ada", PASSWORD, None).await.unwrap();
    // the success reset the username's counter
    for _ in 0..4 {
        let _ = users.verify_login(&t, "ada", "wrong password", None).await;
    }
    users.verify_login(&t, "ada", PASSWORD, None).await.unwrap();
}

#[tokio::test]
async fn users_are_managed_over_http_and_no_secret_is_stored() {
    let s = stack().await;
    let t = s.tenant().await;
    let created = t.post_json("/v1/users", &json!({"username": "grace", "name": "Grace Hopper", "invite": true})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let token = created.body["invitation"]["token"].as_str().unwrap().to_owned();
    assert!(
        created.body["invitation"]["url"].as_str().unwrap().ends_with(&format!("/t/{}/invitation?token={token}", t.id))
    );
    let id = created.body["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(t.post_json("/v1/users", &json!({"username": "GRACE", "name": "G", "invite": true})).await.status, 409);
    let listed = t.get("/v1/users?status=invited").await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    let set = t.put_json(&format!("/v1/users/{id}/password"), &json!({"password": PASSWORD})).await;
    assert_eq!((set.status, set.body["status"].as_str()), (200, Some("active")));
    let text = format!("{:?}", items(&s, &t.id).await);
    assert!(!text.contains(&token) && !text.contains(PASSWORD));
    assert_eq!(t.delete(&format!("/v1/users/{id}")).await.status, 204);
    assert_eq!(t.get(&format!("/v1/users/{id}")).await.status, 404);
}
