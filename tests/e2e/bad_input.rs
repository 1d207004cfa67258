//! Bad input: a clear, machine-readable 4xx, and nothing stored changes.

use reqwest::Method;
use serde_json::json;

use crate::stack;
use hubble_e2e::JSON_API;

#[tokio::test]
async fn each_kind_of_bad_record_input_gets_its_own_error_and_changes_nothing() {
    let t = stack().await.tenant().await;
    t.define_crm().await;
    let id = t.create("contact", json!({"email": "keep@example.com", "age": 30}), None).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/data/contact/{id}");

    let wrong_types = t.create("contact", json!({"email": 5, "age": "old", "nickname": "x"}), None).await;
    assert_eq!(wrong_types.status, 422);
    let mut pointers = wrong_types.pointers();
    pointers.sort();
    assert_eq!(pointers, ["/data/attributes/age", "/data/attributes/email", "/data/attributes/nickname"]);
    let codes: Vec<&str> =
        wrong_types.body["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"unknown-field") && codes.contains(&"invalid-type"), "{codes:?}");

    let malformed = t.send(Method::PATCH, &path, Some(JSON_API), Some("{\"data\": {".into()), &[]).await;
    assert_eq!((malformed.status, malformed.body["errors"][0]["code"].as_str()), (400, Some("malformed-json")));
    let wrong_ct = t.send(Method::PATCH, &path, Some("text/plain"), Some("age=3".into()), &[]).await;
    assert_eq!(wrong_ct.status, 415);
    let bad_param =
        t.send(Method::PATCH, &path, Some("application/vnd.api+json; charset=utf-8"), Some("{}".into()), &[]).await;
    assert_eq!(bad_param.status, 415, "JSON:API forbids media type parameters other than ext and profile");
    let wrong_type = t
        .send(
            Method::PATCH,
            &path,
            Some(JSON_API),
            Some(json!({"data": {"type": "company", "id": id, "attributes": {}}}).to_string()),
            &[],
        )
        .await;
    assert_eq!((wrong_type.status, wrong_type.pointers()), (409, vec!["/data/type".to_owned()]));
    let no_data = t.send(Method::POST, "/v1/data/contact", Some(JSON_API), Some("[1,2]".into()), &[]).await;
    assert_eq!((no_data.status, no_data.pointers()), (400, vec!["/data".to_owned()]));
    let null_required = t.patch("contact", &id, json!({"email": null}), None).await;
    assert_eq!((null_required.status, null_required.pointers()), (422, vec!["/data/attributes/email".to_owned()]));
    let out_of_range = t.patch("contact", &id, json!({"age": -1}), None).await;
    assert_eq!(out_of_range.body["errors"][0]["code"], "out-of-range");
    let huge = t
        .send(
            Method::POST,
            "/v1/data/contact",
            Some(JSON_API),
            Some(format!(
                "{{\"data\":{{\"type\":\"contact\",\"attributes\":{{\"email\":\"{}@x.io\"}}}}}}",
                "a".repeat(2 * 1024 * 1024)
            )),
            &[],
        )
        .await;
    assert_eq!(huge.status, 413);
    assert_eq!(t.get("/v1/data/nothing").await.status, 404);
    assert_eq!(t.get("/v1/data/nothing").await.body["errors"][0]["code"], "unknown-entity");
    assert_eq!(
        t.get("/v2/data/contact").await.body["type"],
        "https://docs.hubblewave.dev/problems/unknown-api-version"
    );
    assert_eq!(t.send(Method::PUT, &path, Some(JSON_API), Some("{}".into()), &[]).await.status, 405);

    // nothing stored changed
    let after = t.get(&path).await.body;
    assert_eq!(after["data"]["attributes"]["email"], "keep@example.com");
    assert_eq!(after["data"]["attributes"]["age"], 30);
    assert_eq!(after["data"]["meta"]["version"], 1);
    assert_eq!(t.get("/v1/data/contact").await.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn requests_without_valid_credentials_are_turned_away() {
    let t = stack().await.tenant().await;
    let anonymous = t.http.get(format!("{}/v1/models", t.base_url)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["content-type"], "application/problem+json");
    assert_eq!(t.with_key("hw_not-a-real-key").get("/v1/models").await.status, 401);
    let forged = format!("hw_{}", "A".repeat(43));
    assert_eq!(t.with_key(&forged).get("/v1/models").await.status, 401);
    let via_header = t.http.get(format!("{}/v1/models", t.base_url)).header("x-api-key", &t.key).send().await.unwrap();
    assert_eq!(via_header.status(), 200);
}
