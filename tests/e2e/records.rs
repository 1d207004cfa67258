//! The vertical slice: a record created over HTTP lands in DynamoDB and its event on the bus.

use std::time::Duration;

use futures::future::join_all;
use hubble_e2e::BusTap;
use serde_json::{Value, json};

use crate::stack;

#[tokio::test]
async fn a_created_record_is_stored_in_dynamodb_and_announced_on_the_bus() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let tap = BusTap::new(&s, &t.id).await.unwrap();
    let company = t.create("company", json!({"name": "Acme"}), None).await;
    assert_eq!(company.status, 201, "{:?}", company.body);
    let company_id = company.body["data"]["id"].as_str().unwrap().to_owned();
    let created = t
        .create(
            "contact",
            json!({"email": "ada@example.com", "age": 36}),
            Some(json!({"company": {"data": {"type": "company", "id": company_id}}})),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.header("content-type"), "application/vnd.api+json");
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    assert!(created.header("location").ends_with(&format!("/v1/data/contact/{id}")));

    // in DynamoDB, under the tenant's partition
    let item = s.stored_record(&t.id, "contact", &id).await.expect("the record is stored");
    let attrs = item["attrs"].as_m().unwrap();
    assert_eq!(attrs["email"].as_s().unwrap(), "ada@example.com");
    assert_eq!(attrs["age"].as_n().unwrap(), "36");
    assert_eq!(item["version"].as_n().unwrap(), "1");

    // on the bus, with the platform's envelope
    let events = tap.collect(2, Duration::from_secs(15)).await;
    let created_event =
        events.iter().find(|e| e["detail"]["data"]["entity"] == "contact").expect("record.created for the contact");
    assert_eq!(created_event["detail-type"], "record.created");
    assert_eq!(created_event["source"], "hubblewave");
    let envelope = &created_event["detail"];
    assert_eq!(envelope["type"], "record.created");
    assert_eq!(envelope["tenant"], t.id.as_str());
    assert!(envelope["id"].as_str().unwrap().starts_with("evt_"));
    assert!(envelope["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(envelope["data"]["id"], id.as_str());
    assert_eq!(envelope["data"]["record"]["attributes"]["company"], company_id.as_str());

    // update and delete announce themselves too, with what changed
    let patched = t.patch("contact", &id, json!({"age": 37}), Some("\"1\"")).await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["data"]["meta"]["version"], 2);
    assert_eq!(patched.header("etag"), "\"2\"");
    assert_eq!(t.delete(&format!("/v1/data/contact/{id}")).await.status, 204);
    assert_eq!(t.get(&format!("/v1/data/contact/{id}")).await.status, 404);
    let events = tap.collect(2, Duration::from_secs(15)).await;
    let types: Vec<&str> = events.iter().map(|e| e["detail-type"].as_str().unwrap()).collect();
    assert_eq!(types, ["record.updated", "record.deleted"]);
    assert_eq!(events[0]["detail"]["data"]["changes"], json!({"age": {"from": 36, "to": 37}}));
    tap.remove().await;
}

#[tokio::test]
async fn of_concurrent_creates_with_one_unique_value_exactly_one_wins() {
    let t = stack().await.tenant().await;
    t.define_crm().await;
    let attempts = (0..12).map(|i| {
        let t = t.clone();
        let email = if i % 2 == 0 { "same@example.com" } else { "SAME@example.com" };
        async move { t.create("contact", json!({"email": email}), None).await }
    });
    let replies = join_all(attempts).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 11, "{statuses:?}");
    let loser = replies.iter().find(|r| r.status == 409).unwrap();
    assert_eq!(loser.pointers(), ["/data/attributes/email"]);
    assert_eq!(t.get("/v1/data/contact").await.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_patches_without_if_match_lose_no_update() {
    let t = stack().await.tenant().await;
    t.post_json("/v1/models", &json!({"name": "counter", "fields": (0..8).map(|i| json!({"name": format!("f{i}"), "type": "integer"})).collect::<Vec<_>>()})).await;
    let id = t.create("counter", json!({}), None).await.body["data"]["id"].as_str().unwrap().to_owned();
    let patches = (0..8).map(|i| {
        let (t, id) = (t.clone(), id.clone());
        async move { t.patch("counter", &id, json!({format!("f{i}"): i}), None).await.status }
    });
    let statuses = join_all(patches).await;
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    let winners = statuses.iter().filter(|s| **s == 200).count();
    let record = t.get(&format!("/v1/data/counter/{id}")).await.body;
    let attrs = record["data"]["attributes"].as_object().unwrap();
    let set = attrs.values().filter(|v| !v.is_null()).count();
    assert_eq!(set, winners, "every successful patch is in the record: {record}");
    assert_eq!(record["data"]["meta"]["version"], 1 + winners as u64);
}

#[tokio::test]
async fn if_match_guards_updates_and_references_must_exist() {
    let t = stack().await.tenant().await;
    t.define_crm().await;
    let id = t.create("contact", json!({"email": "x@example.com"}), None).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stale = t.patch("contact", &id, json!({"age": 1}), Some("\"7\"")).await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.header("etag"), "\"1\"");
    let dangling = t
        .create(
            "contact",
            json!({"email": "y@example.com"}),
            Some(json!({"company": {"data": {"type": "company", "id": "01JNOSUCHCOMPANY0000000000"}}})),
        )
        .await;
    assert_eq!(dangling.status, 422);
    assert_eq!(dangling.pointers(), ["/data/relationships/company"]);
    assert_eq!(dangling.body["errors"][0]["code"], "missing-reference");
    // the rejected transaction left nothing behind: no record, no claim on the email
    assert_eq!(t.get("/v1/data/contact").await.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(t.create("contact", json!({"email": "y@example.com"}), None).await.status, 201);
}

#[tokio::test]
async fn pages_follow_links_next_to_the_end() {
    let t = stack().await.tenant().await;
    t.define_crm().await;
    for i in 0..5 {
        assert_eq!(t.create("company", json!({"name": format!("Company {i}")}), None).await.status, 201);
    }
    let mut seen = Vec::new();
    let mut next = Some(format!("{}/v1/data/company?page%5Bsize%5D=2", t.base_url));
    while let Some(url) = next {
        let path = url.strip_prefix(&t.base_url).unwrap().to_owned();
        let page = t.get(&path).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        seen.extend(
            page.body["data"].as_array().unwrap().iter().map(|r| r["attributes"]["name"].as_str().unwrap().to_owned()),
        );
        next = page.body["links"]["next"].as_str().map(str::to_owned);
    }
    seen.sort();
    assert_eq!(seen, (0..5).map(|i| format!("Company {i}")).collect::<Vec<_>>());
    let tampered = t.get("/v1/data/company?page%5Bafter%5D=%%%").await;
    assert_eq!(tampered.status, 400);
}

#[tokio::test]
async fn tenants_never_see_each_others_data() {
    let s = stack().await;
    let (a, b) = (s.tenant().await, s.tenant().await);
    a.define_crm().await;
    b.define_crm().await;
    let id =
        a.create("company", json!({"name": "Secret Co"}), None).await.body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(b.get(&format!("/v1/data/company/{id}")).await.status, 404);
    assert_eq!(b.get("/v1/data/company").await.body["data"], json!([]));
    assert_eq!(b.patch("company", &id, json!({"name": "Hijacked"}), None).await.status, 404);
    assert_eq!(b.delete(&format!("/v1/data/company/{id}")).await.status, 404);
    // the same unique value is free in another tenant
    assert_eq!(b.create("company", json!({"name": "Secret Co"}), None).await.status, 201);
    // and a's record is untouched
    let still: Value = a.get(&format!("/v1/data/company/{id}")).await.body;
    assert_eq!(still["data"]["attributes"]["name"], "Secret Co");
    assert_eq!(still["data"]["meta"]["version"], 1);
}

#[tokio::test]
async fn sensitive_fields_are_encrypted_at_rest_and_kept_out_of_events() {
    let s = stack().await;
    let t = s.tenant().await;
    let model = t
        .post_json(
            "/v1/models",
            &json!({"name": "patient", "fields": [
                {"name": "name", "type": "string", "required": true},
                {"name": "diagnosis", "type": "text", "sensitive": true}]}),
        )
        .await;
    assert_eq!(model.status, 201, "{:?}", model.body);
    let tap = BusTap::new(&s, &t.id).await.unwrap();
    let created = t.create("patient", json!({"name": "P1", "diagnosis": "confidential words"}), None).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["data"]["attributes"]["diagnosis"], "confidential words");
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();

    let item = s.stored_record(&t.id, "patient", &id).await.expect("the record is stored");
    let stored = item["attrs"].as_m().unwrap()["diagnosis"].as_s().unwrap().clone();
    assert!(stored.starts_with("hwenc:v1:"), "{stored}");
    assert!(!format!("{item:?}").contains("confidential"), "no plaintext in the item");

    let patched = t.patch("patient", &id, json!({"diagnosis": "revised words"}), None).await;
    assert_eq!(patched.body["data"]["attributes"]["diagnosis"], "revised words");
    assert_eq!(t.get(&format!("/v1/data/patient/{id}")).await.body["data"]["attributes"]["diagnosis"], "revised words");

    let listed = t.get("/v1/data/patient").await.body;
    assert_eq!(listed["data"][0]["attributes"]["diagnosis"], "revised words", "lists open sealed values too");

    let events = tap.collect(2, Duration::from_secs(15)).await;
    assert_eq!(events.len(), 2);
    let all = serde_json::to_string(&events).unwrap();
    assert!(!all.contains("confidential") && !all.contains("revised"), "sensitive values never reach the bus: {all}");
    assert_eq!(events[1]["detail"]["data"]["changes"]["diagnosis"], json!({"redacted": true}));
    tap.remove().await;
}
