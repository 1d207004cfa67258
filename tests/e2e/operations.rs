//! What the API keeps about its own traffic: rate limits, idempotency keys, the request log, the audit log and
//! usage reports, driven over HTTP and checked in the ops table.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::stack;
use hubble_e2e::{JSON_API, Tenant};

/// Waits for a fresh rate-limit window when the current one ends within `margin` seconds, so a test's requests
/// all fall in one window.
async fn fresh_window(t: &Tenant, margin: i64) {
    let r = t.get("/v1/models").await;
    let reset: i64 = r.header("ratelimit-reset").parse().expect("RateLimit-Reset is a number of seconds");
    if reset <= margin {
        tokio::time::sleep(Duration::from_secs(reset as u64 + 1)).await;
    }
}

#[tokio::test]
async fn a_key_over_its_limit_gets_429_with_retry_after_and_headers_count_down() {
    let s = stack().await;
    let admin = s.tenant().await;
    let created = admin
        .post_json("/v1/api-keys", &json!({"name": "slow", "scopes": ["admin"], "rate_limit_per_minute": 5}))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["rate_limit_per_minute"], 5);
    let slow = admin.with_key(created.body["secret"].as_str().unwrap());
    fresh_window(&admin, 15).await;

    let mut remaining = Vec::new();
    for _ in 0..5 {
        let r = slow.get("/v1/models").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("ratelimit-limit"), "5");
        remaining.push(r.header("ratelimit-remaining").parse::<u32>().unwrap());
    }
    assert_eq!(remaining, [4, 3, 2, 1, 0]);
    let limited = slow.get("/v1/models").await;
    assert_eq!(limited.status, 429, "{:?}", limited.body);
    assert!(limited.header("content-type").starts_with("application/problem+json"));
    assert!(limited.body["type"].as_str().unwrap().ends_with("/rate-limited"));
    let retry: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(limited.header("ratelimit-remaining"), "0");
    // data routes answer in JSON:API, limits included
    let limited_data = slow.get("/v1/data/contact").await;
    assert_eq!(limited_data.status, 429);
    assert_eq!(limited_data.body["errors"][0]["code"], "rate-limited");

    // another key of the same tenant is not affected
    let r = admin.get("/v1/models").await;
    assert_eq!(r.status, 200);
    assert_ne!(r.header("ratelimit-limit"), "5");

    // the count lives in DynamoDB, where every Lambda instance sees it
    let key_id = created.body["id"].as_str().unwrap();
    let windows = s
        .dynamo()
        .query()
        .table_name(s.config().ops_table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :c)")
        .expression_attribute_values(":pk", AttributeValue::S(format!("T#{}#RL", admin.id)))
        .expression_attribute_values(":c", AttributeValue::S(format!("apikey:{key_id}#")))
        .send()
        .await
        .unwrap();
    let hits: u64 = windows.items().iter().map(|i| i["hits"].as_n().unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!(hits, 7);
    assert!(windows.items()[0].contains_key("expires_at"), "windows expire by TTL");
}

fn contact_doc(email: &str) -> String {
    json!({"data": {"type": "contact", "attributes": {"email": email}}}).to_string()
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_response_and_refuse_a_different_request() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let post = |body: String, key: &'static str| {
        let t = t.clone();
        async move {
            t.send(reqwest::Method::POST, "/v1/data/contact", Some(JSON_API), Some(body), &[("idempotency-key", key)])
                .await
        }
    };
    let first = post(contact_doc("idem@example.com"), "order-1").await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.header("idempotent-replayed"), "");
    let again = post(contact_doc("idem@example.com"), "order-1").await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), "true");
    assert_eq!(again.body, first.body, "the very same response");
    assert_eq!(again.header("location"), first.header("location"));
    assert_ne!(again.header("x-request-id"), first.header("x-request-id"));
    let list = t.get("/v1/data/contact").await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1, "created once");

    let other = post(contact_doc("other@example.com"), "order-1").await;
    assert_eq!(other.status, 422);
    assert_eq!(other.body["errors"][0]["code"], "idempotency-key-reused");

    // a kept client error replays too: the same request fails the same way
    let bad = post(contact_doc("not-an-email"), "order-2").await;
    assert_eq!(bad.status, 422);
    let bad_again = post(contact_doc("not-an-email"), "order-2").await;
    assert_eq!((bad_again.status, bad_again.header("idempotent-replayed")), (422, "true"));

    // keys belong to their client: another key may use the same name
    let other_key = t.post_json("/v1/api-keys", &json!({"name": "second", "scopes": ["data:write"]})).await;
    let second = t.with_key(other_key.body["secret"].as_str().unwrap());
    let theirs = second
        .send(
            reqwest::Method::POST,
            "/v1/data/contact",
            Some(JSON_API),
            Some(contact_doc("theirs@example.com")),
            &[("idempotency-key", "order-1")],
        )
        .await;
    assert_eq!((theirs.status, theirs.header("idempotent-replayed")), (201, ""));

    // PATCH too
    let id = first.body["data"]["id"].as_str().unwrap();
    let patch = |age: u32| {
        let body = json!({"data": {"type": "contact", "id": id, "attributes": {"age": age}}}).to_string();
        let t = t.clone();
        let path = format!("/v1/data/contact/{id}");
        async move {
            t.send(reqwest::Method::PATCH, &path, Some(JSON_API), Some(body), &[("idempotency-key", "patch-1")]).await
        }
    };
    let p1 = patch(37).await;
    let p2 = patch(37).await;
    assert_eq!((p1.status, p2.status), (200, 200));
    assert_eq!(p2.header("idempotent-replayed"), "true");
    assert_eq!(p2.body["data"]["meta"]["version"], p1.body["data"]["meta"]["version"], "applied once");

    let long = "k".repeat(256);
    let refused = t
        .send(
            reqwest::Method::POST,
            "/v1/data/contact",
            Some(JSON_API),
            Some(contact_doc("x@example.com")),
            &[("idempotency-key", long.as_str())],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["errors"][0]["code"], "invalid-idempotency-key");
}

#[tokio::test]
async fn concurrent_requests_with_one_idempotency_key_create_one_record() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let attempts = (0..6).map(|_| {
        let t = t.clone();
        async move {
            t.send(
                reqwest::Method::POST,
                "/v1/data/contact",
                Some(JSON_API),
                Some(contact_doc("race@example.com")),
                &[("idempotency-key", "race")],
            )
            .await
        }
    });
    let replies = futures::future::join_all(attempts).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    let ids: std::collections::HashSet<&str> =
        replies.iter().filter(|r| r.status == 201).filter_map(|r| r.body["data"]["id"].as_str()).collect();
    assert_eq!(ids.len(), 1, "every success names the one record");
    for r in replies.iter().filter(|r| r.status == 409) {
        assert_eq!(r.body["errors"][0]["code"], "idempotency-key-in-use");
    }
    assert_eq!(t.get("/v1/data/contact").await.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn every_request_is_logged_with_its_route_template_and_expiry() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let created = t.create("contact", json!({"email": "log@example.com"}), None).await;
    let id = created.body["data"]["id"].as_str().unwrap();
    let r = t.get(&format!("/v1/data/contact/{id}")).await;
    let request_id = r.header("x-request-id").to_owned();
    assert!(!request_id.is_empty());
    let missing = t.get("/v1/data/contact/nope").await;
    assert_eq!(missing.status, 404);

    let day = &chrono::Utc::now().to_rfc3339()[..10];
    let items = s
        .dynamo()
        .query()
        .table_name(s.config().ops_table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("T#{}#REQ#{day}", t.id)))
        .send()
        .await
        .unwrap();
    let entries: Vec<Value> =
        items.items().iter().map(|i| serde_json::from_str(i["entry"].as_s().unwrap()).unwrap()).collect();
    let entry = entries.iter().find(|e| e["request_id"] == request_id.as_str()).expect("the GET is logged");
    assert_eq!(entry["route"], "/v1/data/{entity}/{id}");
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["tenant"], t.id.as_str());
    assert!(entry["client"].as_str().unwrap().starts_with("apikey:"));
    assert!(entry["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(entry["response_bytes"].as_u64().unwrap() > 0);
    assert!(entries.iter().any(|e| e["status"] == 404 && e["path"] == "/v1/data/contact/nope"));
    assert!(entries.iter().any(|e| e["method"] == "POST" && e["request_bytes"].as_u64().unwrap() > 0));
    assert!(items.items().iter().all(|i| i.contains_key("expires_at")), "entries expire by TTL");
}

#[tokio::test]
async fn the_audit_log_tells_who_did_what_and_how_it_ended() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let created = t.create("contact", json!({"email": "audit@example.com"}), None).await;
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(t.create("contact", json!({"email": "bad"}), None).await.status, 422);
    assert_eq!(t.delete(&format!("/v1/data/contact/{id}")).await.status, 204);
    let key = t.post_json("/v1/api-keys", &json!({"name": "auditor", "scopes": ["data:read"]})).await;
    let key_id = key.body["id"].as_str().unwrap().to_owned();
    t.get("/v1/data/contact").await; // reads are not audited

    let log = t.get("/v1/audit").await;
    assert_eq!(log.status, 200, "{:?}", log.body);
    let entries = log.body["data"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    // newest first: the key, the delete, the failed create, the create, and the two models of define_crm
    assert_eq!(
        actions,
        ["api_key.create", "record.delete", "record.create", "record.create", "model.create", "model.create"]
    );
    assert_eq!(entries[0]["target"], json!({"type": "api_key", "id": key_id}));
    assert_eq!(entries[1]["target"], json!({"type": "contact", "id": id}));
    assert_eq!((entries[2]["outcome"].as_str(), entries[2]["status"].as_u64()), (Some("failure"), Some(422)));
    assert_eq!(entries[3]["target"], json!({"type": "contact", "id": id}));
    assert_eq!(entries[3]["outcome"], "success");
    assert_eq!(entries[5]["target"], json!({"type": "model", "id": "company"}));
    assert!(entries.iter().all(|e| e["actor"].as_str().unwrap().starts_with("apikey:") && e["time"].is_string()));

    // pages of two, walked through links.next
    let mut seen = Vec::new();
    let mut next = Some("/v1/audit?page%5Bsize%5D=2".to_owned());
    while let Some(path) = next {
        let page = t.get(&path).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let data = page.body["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|e| e["id"].clone()));
        next = page.body["links"]["next"].as_str().map(|u| u.trim_start_matches(&t.base_url).to_owned());
    }
    assert_eq!(seen, entries.iter().map(|e| e["id"].clone()).collect::<Vec<_>>());

    let reader = t.with_key(key.body["secret"].as_str().unwrap());
    assert_eq!(reader.get("/v1/audit").await.status, 403);
    let bad = t.get("/v1/audit?from=yesterday").await;
    assert_eq!((bad.status, bad.body["parameter"].as_str()), (400, Some("from")));
    assert_eq!(t.get("/v1/audit?page%5Bafter%5D=%21%21").await.status, 400);
}

#[tokio::test]
async fn usage_reports_counts_errors_latency_limits_and_auth_failures() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    for i in 0..3 {
        assert_eq!(t.create("contact", json!({"email": format!("u{i}@example.com")}), None).await.status, 201);
    }
    assert_eq!(t.get("/v1/data/contact/missing").await.status, 404);
    let limited = t
        .post_json("/v1/api-keys", &json!({"name": "tiny", "scopes": ["data:read"], "rate_limit_per_minute": 1}))
        .await;
    let tiny = t.with_key(limited.body["secret"].as_str().unwrap());
    fresh_window(&t, 5).await;
    assert_eq!(tiny.get("/v1/data/contact").await.status, 200);
    assert_eq!(tiny.get("/v1/data/contact").await.status, 429);
    assert_eq!(tiny.get("/v1/api-keys").await.status, 429);
    let expiring = t
        .post_json(
            "/v1/api-keys",
            &json!({"name": "brief", "scopes": ["data:read"],
                    "expires_at": (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339()}),
        )
        .await;
    let brief = t.with_key(expiring.body["secret"].as_str().unwrap());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(brief.get("/v1/data/contact").await.status, 401, "an expired key still names its tenant");

    let by_status = t.get("/v1/usage?group_by=status").await;
    assert_eq!(by_status.status, 200, "{:?}", by_status.body);
    let totals = &by_status.body["totals"];
    let count = |status: &str| {
        by_status.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == status)
            .map_or(0, |g| g["requests"].as_u64().unwrap())
    };
    assert_eq!(count("201"), 2 + 3 + 2, "two models, three contacts, two keys");
    assert_eq!(count("404"), 1);
    assert_eq!(count("429"), 2);
    assert_eq!(count("401"), 1);
    assert_eq!(totals["rate_limited"], 2);
    assert_eq!(totals["auth_failures"], 1);
    assert_eq!(totals["errors_4xx"], 4);
    let p = &totals["latency_ms"];
    let (p50, p95, p99) = (p["p50"].as_f64().unwrap(), p["p95"].as_f64().unwrap(), p["p99"].as_f64().unwrap());
    assert!(0.0 < p50 && p50 <= p95 && p95 <= p99, "{p}");

    let by_route = t.get("/v1/usage?group_by=route").await;
    let routes: Vec<&str> =
        by_route.body["data"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert!(routes.contains(&"/v1/data/{entity}") && routes.contains(&"/v1/data/{entity}/{id}"), "{routes:?}");
    let by_client = t.get("/v1/usage?group_by=client").await;
    assert!(by_client.body["data"].as_array().unwrap().len() >= 2);

    let past = t.get("/v1/usage?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z").await;
    assert_eq!(past.body["totals"]["requests"], 0);
    assert_eq!(t.get("/v1/usage?group_by=day").await.status, 400);
    assert_eq!(t.get("/v1/usage?from=2020-01-01T00:00:00Z&to=2020-03-01T00:00:00Z").await.status, 400);
    assert_eq!(t.get("/v1/usage?bogus=1").await.status, 400);
}
