//! Webhooks end to end: a record change goes over the bus, through fan-out and the dispatcher, to a receiver that
//! verifies every signature with the `standardwebhooks` reference library; receivers that fail in every way a
//! network can fail still see each event end delivered or dead-lettered, never lost and never sent twice.

use std::collections::HashMap;
use std::time::Duration;

use hubble_e2e::{BusTap, Receiver, Reply, Tenant};
use serde_json::{Value, json};

use crate::stack;

/// Fast retries for tests: 1 s, 2 s, 2 s, ...
fn quick_retries(max_attempts: u32) -> Value {
    json!({"strategy": "exponential", "max_attempts": max_attempts, "initial_delay_seconds": 1, "max_delay_seconds": 2})
}

async fn create_endpoint(t: &Tenant, body: &Value) -> (String, String) {
    let r = t.post_json("/v1/webhooks", body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    (r.body["id"].as_str().unwrap().to_owned(), r.body["secret"].as_str().unwrap().to_owned())
}

async fn deliveries(t: &Tenant, endpoint: &str) -> Vec<Value> {
    let r = t.get(&format!("/v1/webhooks/{endpoint}/deliveries?page[size]=100")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["data"].as_array().cloned().unwrap_or_default()
}

/// Waits until the endpoint has `n` deliveries and none is pending.
async fn settled(t: &Tenant, endpoint: &str, n: usize, timeout: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let ds = deliveries(t, endpoint).await;
        if ds.len() >= n && ds.iter().all(|d| d["status"] != "pending") {
            return ds;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("deliveries of {endpoint} did not settle within {timeout:?}: {ds:#?}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn company(t: &Tenant, name: &str) -> String {
    let r = t.create("company", json!({"name": name}), None).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["data"]["id"].as_str().unwrap().to_owned()
}

/// Requests per `webhook-id` in the receiver's log.
fn per_message(log: &[Value]) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for e in log {
        *out.entry(e["webhook_id"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
    }
    out
}

#[tokio::test]
async fn a_record_change_reaches_the_receiver_signed_as_the_reference_library_expects() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let rx = Receiver::new(&[]).await;
    let (all, secret) = create_endpoint(
        &t,
        &json!({"url": rx.url("ok"), "event_types": ["record.*"], "description": "CRM sync",
                "headers": {"X-Team": "crm"}}),
    )
    .await;
    assert!(secret.starts_with("whsec_"));
    // another endpoint that only wants contacts gets nothing from a company
    let (contacts_only, _) = create_endpoint(
        &t,
        &json!({"url": rx.url("status/599"), "event_types": ["record.created"], "entities": ["contact"]}),
    )
    .await;
    rx.verify_with(&[&secret]).await;

    let id = company(&t, "Acme").await;
    let got = rx.wait_for(1, Duration::from_secs(30), |e| e["behaviour"] == "ok").await;
    assert_eq!(got.len(), 1, "the receiver got the event");
    let e = &got[0];
    assert_eq!(e["verified"], true, "standardwebhooks verified the signature: {e:#}");
    assert_eq!(e["body"]["type"], "record.created");
    assert_eq!(e["body"]["tenant"], t.id.as_str());
    assert_eq!(e["body"]["data"]["id"], id.as_str());
    assert_eq!(e["headers"]["x-team"], "crm");
    assert_eq!(e["headers"]["content-type"], "application/json");

    let ds = settled(&t, &all, 1, Duration::from_secs(15)).await;
    assert_eq!(ds[0]["status"], "delivered");
    assert_eq!(ds[0]["attempts"], 1);
    assert_eq!(ds[0]["event_type"], "record.created");
    assert_eq!(ds[0]["id"], e["webhook_id"]);
    let detail = t.get(&format!("/v1/webhooks/{all}/deliveries/{}", ds[0]["id"].as_str().unwrap())).await;
    assert_eq!(detail.status, 200, "{:?}", detail.body);
    assert_eq!(detail.body["payload"]["data"]["id"], id.as_str());
    let attempts = t.get(&format!("/v1/webhooks/{all}/deliveries/{}/attempts", ds[0]["id"].as_str().unwrap())).await;
    assert_eq!(attempts.body["data"][0]["response_status"], 200);
    assert_eq!(attempts.body["data"][0]["request_headers"]["webhook-id"], ds[0]["id"]);

    assert!(deliveries(&t, &contacts_only).await.is_empty());
    assert!(rx.log().await.iter().all(|e| e["behaviour"] != "status/599"));
}

#[tokio::test]
async fn every_event_ends_delivered_or_dead_lettered_whatever_the_receiver_does() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let tap = BusTap::new(&s, &t.id).await.unwrap();
    let rx = Receiver::new(&[]).await;
    // behaviour → (expected status, expected attempts)
    let cases: Vec<(&str, &str, u64)> = vec![
        ("status/500", "failed", 3),
        ("fail-first/2", "delivered", 3),
        ("retry-after/2/1", "delivered", 3),
        ("gone", "failed", 1),
        ("hang/4", "failed", 3),
        ("drop", "failed", 3),
    ];
    let mut endpoints = Vec::new();
    let mut secrets = Vec::new();
    for (behaviour, _, _) in &cases {
        let url = if *behaviour == "gone" { rx.url("status/410") } else { rx.url(behaviour) };
        let (id, secret) = create_endpoint(
            &t,
            &json!({"url": url, "event_types": ["record.created"], "timeout_seconds": 1,
                    "retry_policy": quick_retries(3)}),
        )
        .await;
        endpoints.push(id);
        secrets.push(secret);
    }
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    rx.verify_with(&refs).await;
    company(&t, "Acme").await;

    for ((behaviour, status, attempts), ep) in cases.iter().zip(&endpoints) {
        let ds = settled(&t, ep, 1, Duration::from_secs(90)).await;
        assert_eq!(ds.len(), 1, "{behaviour}: one delivery");
        assert_eq!(ds[0]["status"], *status, "{behaviour}: {:#}", ds[0]);
        assert_eq!(ds[0]["attempts"], *attempts, "{behaviour}: {:#}", ds[0]);
    }
    // Never sent twice for one attempt: the receiver saw exactly as many requests per message as attempts made,
    // and each of them verified.
    let log = rx.log().await;
    assert!(log.iter().all(|e| e["verified"] == true), "{log:#?}");
    let counts = per_message(&log);
    for ((behaviour, _, attempts), ep) in cases.iter().zip(&endpoints) {
        let d = &deliveries(&t, ep).await[0];
        let seen = log.iter().filter(|e| {
            e["webhook_id"] == d["id"]
                && e["behaviour"]
                    .as_str()
                    .is_some_and(|b| b == *behaviour || (*behaviour == "gone" && b == "status/410"))
        });
        assert_eq!(seen.count() as u64, *attempts, "{behaviour}: requests seen vs attempts");
    }
    assert_eq!(counts.len(), 1, "one message id for one event across all endpoints");

    // 410 disabled its endpoint
    let gone = t.get(&format!("/v1/webhooks/{}", endpoints[3])).await;
    assert_eq!((gone.body["enabled"].clone(), gone.body["disabled_reason"].clone()), (json!(false), json!("gone")));

    // the exhausted ones were announced, and the disabled endpoint too
    let events = tap.collect(6, Duration::from_secs(20)).await;
    let exhausted: Vec<&Value> = events.iter().filter(|e| e["detail-type"] == "webhook.delivery.exhausted").collect();
    assert_eq!(exhausted.len(), 4, "500, 410, hang and drop: {events:#?}");
    assert!(events.iter().any(|e| e["detail-type"] == "webhook.endpoint.disabled"
        && e["detail"]["data"]["endpoint_id"] == endpoints[3].as_str()));

    // Each dead letter carries its reason. The receiver of the first endpoint recovers; an operator redrives this
    // tenant's dead letters and that delivery goes through.
    let patched = t.patch_json(&format!("/v1/webhooks/{}", endpoints[0]), &json!({"url": rx.url("ok")})).await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    let out = std::process::Command::new(std::env::var("HUBBLE_E2E_ADMIN_BIN").expect("HUBBLE_E2E_ADMIN_BIN"))
        .args(["--prefix", &s.prefix, "webhooks", "redrive", "--tenant", &t.id])
        .env("AWS_ENDPOINT_URL", std::env::var("HUBBLE_E2E_ENDPOINT").unwrap())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("hubble-admin runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // 500, hang and drop are redriven; the disabled endpoint's letter waits for it to be enabled
    assert_eq!((report["redriven"].clone(), report["endpoint_disabled"].clone()), (json!(3), json!(1)), "{report}");
    let ds = settled(&t, &endpoints[0], 1, Duration::from_secs(30)).await;
    assert_eq!((ds[0]["status"].clone(), ds[0]["attempts"].clone()), (json!("delivered"), json!(4)));
    let ds = settled(&t, &endpoints[3], 1, Duration::from_secs(5)).await;
    assert_eq!((ds[0]["status"].clone(), ds[0]["attempts"].clone()), (json!("failed"), json!(1)));
}

#[tokio::test]
async fn failed_deliveries_can_be_resent_one_by_one_or_replayed_since_a_time() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let rx = Receiver::new(&[]).await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    let (ep, secret) = create_endpoint(
        &t,
        &json!({"url": rx.url("status/500"), "event_types": ["record.created"], "retry_policy": quick_retries(1)}),
    )
    .await;
    rx.verify_with(&[&secret]).await;
    for name in ["A", "B", "C"] {
        company(&t, name).await;
    }
    let ds = settled(&t, &ep, 3, Duration::from_secs(30)).await;
    assert!(ds.iter().all(|d| d["status"] == "failed" && d["attempts"] == 1));
    let failed = t.get(&format!("/v1/webhooks/{ep}/deliveries?status=failed")).await;
    assert_eq!(failed.body["data"].as_array().unwrap().len(), 3);
    assert_eq!(t.get(&format!("/v1/webhooks/{ep}/deliveries?status=delivered")).await.body["data"], json!([]));

    assert_eq!(t.patch_json(&format!("/v1/webhooks/{ep}"), &json!({"url": rx.url("ok")})).await.status, 200);
    let first = ds[0]["id"].as_str().unwrap();
    let resent = t.post_json(&format!("/v1/webhooks/{ep}/deliveries/{first}/resend"), &json!({})).await;
    assert_eq!(resent.status, 202, "{:?}", resent.body);
    rx.wait_for(1, Duration::from_secs(20), |e| e["webhook_id"] == first && e["behaviour"] == "ok").await;

    let since = before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let replay = t.post_json(&format!("/v1/webhooks/{ep}/replay"), &json!({"since": since})).await;
    assert_eq!(replay.status, 202, "{:?}", replay.body);
    assert_eq!(replay.body["replayed"], 2, "{:?}", replay.body);
    let ds = settled(&t, &ep, 3, Duration::from_secs(30)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut ds = ds;
    while ds.iter().any(|d| d["status"] != "delivered") && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        ds = settled(&t, &ep, 3, Duration::from_secs(30)).await;
    }
    assert!(ds.iter().all(|d| d["status"] == "delivered" && d["attempts"] == 2), "{ds:#?}");
    let ok = rx.log().await.into_iter().filter(|e| e["behaviour"] == "ok").count();
    assert_eq!(ok, 3, "each failed delivery was sent once more");
}

#[tokio::test]
async fn the_test_ping_reports_the_receivers_answer() {
    let s = stack().await;
    let t = s.tenant().await;
    let rx = Receiver::new(&[]).await;
    let (ep, secret) = create_endpoint(&t, &json!({"url": rx.url("ok"), "event_types": ["record.*"]})).await;
    rx.verify_with(&[&secret]).await;
    let r = t.post_json(&format!("/v1/webhooks/{ep}/test"), &json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["delivery"]["status"], "delivered");
    assert_eq!(r.body["delivery"]["event_type"], "webhook.ping");
    assert_eq!(r.body["attempt"]["response_status"], 200);
    let log = rx.log().await;
    assert_eq!((log.len(), log[0]["verified"].clone()), (1, json!(true)));
    assert_eq!(log[0]["body"]["type"], "webhook.ping");

    let failing = t.patch_json(&format!("/v1/webhooks/{ep}"), &json!({"url": rx.url("status/503")})).await;
    assert_eq!(failing.status, 200);
    let r = t.post_json(&format!("/v1/webhooks/{ep}/test"), &json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["delivery"]["status"], "failed");
    assert_eq!(r.body["attempt"]["response_status"], 503);
    assert_eq!(deliveries(&t, &ep).await.len(), 2, "pings are in the delivery log");
}

#[tokio::test]
async fn during_a_secret_rotation_both_secrets_verify() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let rx = Receiver::new(&[]).await;
    let (ep, old) = create_endpoint(&t, &json!({"url": rx.url("ok"), "event_types": ["record.created"]})).await;
    let rotated =
        t.post_json(&format!("/v1/webhooks/{ep}/rotate-secret"), &json!({"grace_period_seconds": 3600})).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let new = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(t.get(&format!("/v1/webhooks/{ep}/secret")).await.body["secret"], new.as_str());

    rx.verify_with(&[&old]).await;
    company(&t, "Old").await;
    let got = rx.wait_for(1, Duration::from_secs(30), |_| true).await;
    assert_eq!(got[0]["verified"], true, "the old secret still verifies: {:#}", got[0]);
    assert_eq!(got[0]["signature"].as_str().unwrap().split(' ').count(), 2);
    rx.verify_with(&[&new]).await;
    company(&t, "New").await;
    let got = rx.wait_for(2, Duration::from_secs(30), |_| true).await;
    assert_eq!(got[1]["verified"], true, "the new secret verifies: {:#}", got[1]);
}

#[tokio::test]
async fn a_duplicated_job_message_does_not_send_the_attempt_again() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let rx = Receiver::new(&[]).await;
    let (ep, secret) = create_endpoint(&t, &json!({"url": rx.url("ok"), "event_types": ["record.created"]})).await;
    rx.verify_with(&[&secret]).await;
    company(&t, "Acme").await;
    let ds = settled(&t, &ep, 1, Duration::from_secs(30)).await;
    // The job of attempt 1, as SQS would deliver it a second time.
    let job = json!({"tenant": t.id, "endpoint_id": ep, "delivery_id": ds[0]["id"], "attempt": 1,
                     "not_before": chrono::Utc::now().to_rfc3339()});
    let queue = s
        .sqs()
        .get_queue_url()
        .queue_name(format!("{}-webhook-deliveries", s.prefix))
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        s.sqs().send_message().queue_url(&queue).message_body(job.to_string()).send().await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(rx.log().await.len(), 1);
    assert_eq!(deliveries(&t, &ep).await[0]["attempts"], 1);
}

#[tokio::test]
async fn an_endpoint_failing_past_its_limit_is_disabled_and_can_be_enabled_again() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let tap = BusTap::new(&s, &t.id).await.unwrap();
    let rx = Receiver::new(&[]).await;
    let (ep, _) = create_endpoint(
        &t,
        &json!({"url": rx.url("status/500"), "event_types": ["record.created"], "disable_after_seconds": 0,
                "retry_policy": quick_retries(2)}),
    )
    .await;
    company(&t, "Acme").await;
    settled(&t, &ep, 1, Duration::from_secs(30)).await;
    let e = t.get(&format!("/v1/webhooks/{ep}")).await;
    assert_eq!((e.body["enabled"].clone(), e.body["disabled_reason"].clone()), (json!(false), json!("failing")));
    let events = tap.collect(3, Duration::from_secs(15)).await;
    assert!(events.iter().any(|e| e["detail-type"] == "webhook.endpoint.disabled"), "{events:#?}");
    // while disabled, new events make no deliveries
    company(&t, "Beta").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(deliveries(&t, &ep).await.len(), 1);

    let enabled = t.patch_json(&format!("/v1/webhooks/{ep}"), &json!({"enabled": true, "url": rx.url("ok")})).await;
    assert_eq!(enabled.status, 200, "{:?}", enabled.body);
    assert_eq!(enabled.body["enabled"], true);
    assert_eq!(enabled.body["disabled_reason"], Value::Null);
    assert_eq!(enabled.body["failing_since"], Value::Null);
    company(&t, "Gamma").await;
    let ds = settled(&t, &ep, 2, Duration::from_secs(30)).await;
    assert_eq!(ds[0]["status"], "delivered", "newest first: {ds:#?}");
}

#[tokio::test]
async fn payload_filters_and_transformations_shape_what_is_sent() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let rx = Receiver::new(&[]).await;
    let (_, secret) = create_endpoint(
        &t,
        &json!({"url": rx.url("ok"), "event_types": ["record.created"],
                "payload_filter": {"data.record.attributes.name": {"startsWith": "A"}},
                "transform": {"text": "{{type}}: {{data.record.attributes.name}}", "id": "{{data.id}}"}}),
    )
    .await;
    rx.verify_with(&[&secret]).await;
    let beta = company(&t, "Beta").await;
    let acme = company(&t, "Acme").await;
    let got = rx.wait_for(1, Duration::from_secs(30), |_| true).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rx.log().await.len(), 1, "Beta was filtered out");
    assert_eq!(got[0]["verified"], true);
    assert_eq!(got[0]["body"], json!({"text": "record.created: Acme", "id": acme}));
    assert_ne!(acme, beta);
}

#[tokio::test]
async fn bad_webhook_input_is_refused_with_the_field_that_is_wrong() {
    let s = stack().await;
    let t = s.tenant().await;
    let check = |r: Reply, pointer: &str| {
        assert_eq!(r.status, 422, "{:?}", r.body);
        assert_eq!(r.header("content-type"), "application/problem+json");
        assert!(r.pointers().iter().any(|p| p == pointer), "{pointer} in {:?}", r.body);
    };
    check(
        t.post_json("/v1/webhooks", &json!({"url": "ftp://example.com/x", "event_types": ["record.*"]})).await,
        "/url",
    );
    check(
        t.post_json("/v1/webhooks", &json!({"url": "https://example.com/x", "event_types": ["nothing.*"]})).await,
        "/event_types/0",
    );
    check(
        t.post_json(
            "/v1/webhooks",
            &json!({"url": "https://example.com/x", "event_types": ["record.*"],
            "headers": {"Webhook-Signature": "forged"}}),
        )
        .await,
        "/headers/Webhook-Signature",
    );
    check(
        t.post_json(
            "/v1/webhooks",
            &json!({"url": "https://example.com/x", "event_types": ["record.*"],
            "retry_policy": {"strategy": "exponential", "max_attempts": 11, "initial_delay_seconds": 1}}),
        )
        .await,
        "/retry_policy/max_attempts",
    );
    let (ep, _) = create_endpoint(&t, &json!({"url": "https://example.com/x", "event_types": ["record.*"]})).await;
    let r = t.get(&format!("/v1/webhooks/{ep}/deliveries?status=lost")).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(t.get("/v1/webhooks/ep_nope").await.status, 404);
    let types = t.get("/v1/event-types").await;
    let names: Vec<&str> = types.body["data"].as_array().unwrap().iter().filter_map(|e| e["name"].as_str()).collect();
    assert!(names.contains(&"record.created") && names.contains(&"webhook.delivery.exhausted"), "{names:?}");
}
