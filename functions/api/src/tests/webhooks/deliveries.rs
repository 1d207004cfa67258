//! The delivery log, the test ping, resends, replays, and how webhook writes go through the pipeline.

use super::*;

#[tokio::test]
async fn the_test_ping_is_recorded_in_the_delivery_log() {
    let w = world().await;
    let (id, _) = create(&w, json!({})).await;
    let (status, v, _) = call(&w, "POST", &format!("/v1/webhooks/{id}/test"), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["delivery"]["status"].clone(), v["attempt"]["response_status"].clone()),
        (json!("delivered"), json!(200))
    );
    let delivery = v["delivery"]["id"].as_str().unwrap().to_owned();
    let sent = w.receiver.requests.lock().unwrap()[0].clone();
    assert_eq!(sent.headers["webhook-id"], delivery);
    assert!(sent.body.contains("webhook.ping"));

    w.receiver.answers.lock().unwrap().push_back(500);
    // delivery ids order by their event's millisecond
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let (status, v, _) = call(&w, "POST", &format!("/v1/webhooks/{id}/test"), None).await;
    assert_eq!(status, 200, "a failed ping is still an answer");
    assert_eq!(v["delivery"]["status"], "failed");
    assert_eq!(
        (v["attempt"]["response_status"].clone(), v["attempt"]["outcome"].clone()),
        (json!(500), json!("failed"))
    );
    assert!(w.queue.drain().is_empty(), "a ping does not retry");

    let (status, page, _) = call(&w, "GET", &format!("/v1/webhooks/{id}/deliveries"), None).await;
    assert_eq!(status, 200);
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!((data[0]["status"].clone(), data[1]["id"].clone()), (json!("failed"), json!(delivery)));
    assert_eq!(data[1]["event_type"], "webhook.ping");
    assert_eq!(page["links"]["next"], Value::Null);

    let (status, d, _) = call(&w, "GET", &format!("/v1/webhooks/{id}/deliveries/{delivery}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(d["payload"]["type"], "webhook.ping");
    assert_eq!(d["attempts_detail"][0]["response_body"], "thanks");
    let (status, a, _) = call(&w, "GET", &format!("/v1/webhooks/{id}/deliveries/{delivery}/attempts"), None).await;
    assert_eq!((status, a["data"][0]["number"].clone()), (200, json!(1)));
    assert_eq!(call(&w, "GET", &format!("/v1/webhooks/{id}/deliveries/msg_NOPE"), None).await.0, 404);
    assert_eq!(call(&w, "GET", &format!("/v1/webhooks/{id}/deliveries/msg_NOPE/attempts"), None).await.0, 404);
}

#[tokio::test]
async fn the_delivery_log_filters_by_status_and_time_and_pages() {
    let w = world().await;
    let (id, _) = create(&w, json!({})).await;
    let failed = [1, 3, 5];
    for minute in 1..=6 {
        let status = if failed.contains(&minute) { DeliveryStatus::Failed } else { DeliveryStatus::Delivered };
        seed_delivery(&w, &id, minute, status).await;
    }
    let base = format!("/v1/webhooks/{id}/deliveries");
    let (_, page, _) = call(&w, "GET", &format!("{base}?page%5Bsize%5D=4"), None).await;
    let ids = |p: &Value| -> Vec<String> {
        p["data"].as_array().unwrap().iter().map(|d| d["created_at"].as_str().unwrap()[14..16].to_owned()).collect()
    };
    assert_eq!(ids(&page), ["06", "05", "04", "03"], "newest first");
    let next = page["links"]["next"].as_str().unwrap();
    let relative = next.split_once(".amazonaws.com").unwrap().1.to_owned();
    let (_, page, _) = call(&w, "GET", &relative, None).await;
    assert_eq!(ids(&page), ["02", "01"]);
    assert_eq!(page["links"]["next"], Value::Null);

    let (_, page, _) = call(&w, "GET", &format!("{base}?status=failed&page%5Bsize%5D=2"), None).await;
    assert_eq!(ids(&page), ["05", "03"]);
    let next = page["links"]["next"].as_str().unwrap();
    assert!(next.contains("status=failed") && next.contains("page%5Bcursor%5D="), "{next}");
    let (_, page, _) = call(&w, "GET", next.split_once(".amazonaws.com").unwrap().1, None).await;
    assert_eq!(ids(&page), ["01"]);

    let (_, page, _) = call(&w, "GET", &format!("{base}?since=2026-11-25T10:03:00Z&status=failed"), None).await;
    assert_eq!(ids(&page), ["05", "03"]);
    assert_eq!(page["data"][0]["attempts"], 1);

    for (query, parameter) in [
        ("status=lost", "status"),
        ("since=yesterday", "since"),
        ("page%5Bsize%5D=0", "page[size]"),
        ("page%5Bsize%5D=101", "page[size]"),
        ("page%5Bcursor%5D=%21%21", "page[cursor]"),
        ("sort=id", "sort"),
    ] {
        let (status, problem, _) = call(&w, "GET", &format!("{base}?{query}"), None).await;
        assert_eq!((status, problem["parameter"].as_str()), (400, Some(parameter)), "{query}");
    }
    assert_eq!(call(&w, "GET", "/v1/webhooks/ep_GONE/deliveries", None).await.0, 404);
}

#[tokio::test]
async fn a_failed_delivery_is_resent_and_a_pending_one_is_not() {
    let w = world().await;
    let (id, _) = create(&w, json!({})).await;
    let failed = seed_delivery(&w, &id, 1, DeliveryStatus::Failed).await;
    let path = format!("/v1/webhooks/{id}/deliveries/{failed}/resend");
    let (status, v, _) = call(&w, "POST", &path, None).await;
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["status"], "pending");
    let jobs = w.queue.drain();
    assert_eq!(jobs.len(), 1);
    let (job, delay) = &jobs[0];
    assert_eq!((job.delivery_id.as_str(), job.attempt, job.endpoint_id.as_str()), (failed.as_str(), 2, id.as_str()));
    assert_eq!(*delay, std::time::Duration::ZERO);

    let (status, problem, _) = call(&w, "POST", &path, None).await;
    assert_eq!(status, 409);
    assert_eq!(problem["type"], "https://docs.hubblewave.dev/problems/delivery-pending");
    assert!(w.queue.drain().is_empty());
    assert_eq!(call(&w, "POST", &format!("/v1/webhooks/{id}/deliveries/msg_MISSING/resend"), None).await.0, 404);

    // nothing is resent to a disabled endpoint
    w.store.disable_endpoint("acme", &id, "gone", "2026-11-25T11:00:00.000Z").await.unwrap();
    let other = seed_delivery(&w, &id, 2, DeliveryStatus::Failed).await;
    let (status, problem, _) = call(&w, "POST", &format!("/v1/webhooks/{id}/deliveries/{other}/resend"), None).await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (409, Some("https://docs.hubblewave.dev/problems/endpoint-disabled"))
    );
}

#[tokio::test]
async fn a_replay_reopens_the_failed_deliveries_of_its_window_only() {
    let w = world().await;
    let (id, _) = create(&w, json!({})).await;
    let before = seed_delivery(&w, &id, 1, DeliveryStatus::Failed).await;
    let a = seed_delivery(&w, &id, 2, DeliveryStatus::Failed).await;
    let delivered = seed_delivery(&w, &id, 3, DeliveryStatus::Delivered).await;
    let b = seed_delivery(&w, &id, 4, DeliveryStatus::Failed).await;
    let after = seed_delivery(&w, &id, 5, DeliveryStatus::Failed).await;
    let path = format!("/v1/webhooks/{id}/replay");
    let window = json!({"since": "2026-11-25T10:02:00Z", "until": "2026-11-25T10:05:00Z"});
    let (status, v, _) = call(&w, "POST", &path, Some(window)).await;
    assert_eq!((status, v), (202, json!({"replayed": 2, "more": false})));
    let mut queued: Vec<String> = w.queue.drain().into_iter().map(|(j, _)| j.delivery_id).collect();
    queued.sort();
    assert_eq!(queued, [a.clone(), b.clone()]);
    let status_of = async |d: &str| w.store.get_delivery("acme", &id, d).await.unwrap().unwrap().status;
    assert_eq!(status_of(&a).await, DeliveryStatus::Pending);
    assert_eq!(status_of(&before).await, DeliveryStatus::Failed);
    assert_eq!(status_of(&after).await, DeliveryStatus::Failed);
    assert_eq!(status_of(&delivered).await, DeliveryStatus::Delivered);

    let (status, v, _) = call(&w, "POST", &path, Some(json!({"since": "2026-11-25T10:00:00Z"}))).await;
    assert_eq!((status, v["replayed"].clone()), (202, json!(2)), "{v}");
    let (status, problem, _) =
        call(&w, "POST", &path, Some(json!({"since": "2026-11-25T10:05:00Z", "until": "2026-11-25T10:00:00Z"}))).await;
    assert_eq!((status, pointers(&problem)), (422, vec!["/until"]));
    let (status, problem, _) = call(&w, "POST", &path, Some(json!({"until": "soon"}))).await;
    assert_eq!((status, pointers(&problem)), (422, vec!["/until", "/since"]));
}

#[tokio::test]
async fn webhook_writes_are_audited_logged_by_template_and_idempotent() {
    let w = world().await;
    let key = [("idempotency-key", "k-1")];
    let input = json!({"url": "http://127.0.0.1:9/hook", "event_types": ["*"]});
    let first = raw(&w, "POST", "/v1/webhooks", Some(input.clone()), &key).await;
    let again = raw(&w, "POST", "/v1/webhooks", Some(input), &key).await;
    assert_eq!((first.status_code, again.status_code), (201, 201));
    assert_eq!(header(&again, "idempotent-replayed"), "true");
    assert_eq!(body(&first)["id"], body(&again)["id"]);
    assert_eq!(w.store.list_endpoints("acme").await.unwrap().len(), 1);
    let id = body(&first)["id"].as_str().unwrap().to_owned();

    let failed = seed_delivery(&w, &id, 1, DeliveryStatus::Failed).await;
    call(&w, "PATCH", &format!("/v1/webhooks/{id}"), Some(json!({"description": "x"}))).await;
    call(&w, "POST", &format!("/v1/webhooks/{id}/rotate-secret"), None).await;
    call(&w, "POST", &format!("/v1/webhooks/{id}/test"), None).await;
    call(&w, "POST", &format!("/v1/webhooks/{id}/deliveries/{failed}/resend"), None).await;
    call(&w, "POST", &format!("/v1/webhooks/{id}/replay"), Some(json!({"since": "2026-01-01T00:00:00Z"}))).await;
    call(&w, "DELETE", &format!("/v1/webhooks/{id}"), None).await;

    let (audit, _) = w.ops.audit("acme", "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", 100, None).await.unwrap();
    // the replayed creation is recorded too
    let mut actions: Vec<(String, Option<String>)> =
        audit.iter().map(|a| (a.action.clone(), a.target.as_ref().map(|t| t.id.clone()))).collect();
    actions.sort();
    let mut expected: Vec<(String, Option<String>)> = [
        "webhook.create",
        "webhook.create",
        "webhook.update",
        "webhook.rotate_secret",
        "webhook.test",
        "webhook.resend",
        "webhook.replay",
        "webhook.delete",
    ]
    .iter()
    .map(|a| (a.to_string(), Some(id.clone())))
    .collect();
    expected.sort();
    assert_eq!(actions, expected);
    let routes: Vec<String> = w.ops.log().into_iter().map(|e| e.route).collect();
    assert!(routes.contains(&"/v1/webhooks/{id}/deliveries/{delivery_id}/resend".to_owned()), "{routes:?}");
    assert!(routes.contains(&"/v1/webhooks/{id}/rotate-secret".to_owned()));
}

#[tokio::test]
async fn a_replay_stops_at_a_thousand_and_says_there_is_more() {
    let w = world().await;
    let (id, _) = create(&w, json!({})).await;
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z").unwrap().to_utc();
    for i in 0..1001 {
        let at = start + chrono::Duration::milliseconds(i);
        let d = Delivery {
            id: id_floor(at),
            tenant: "acme".into(),
            endpoint_id: id.clone(),
            event_id: format!("evt_{i}"),
            event_type: "record.created".into(),
            payload: "{}".into(),
            status: DeliveryStatus::Failed,
            attempts: 8,
            next_attempt_at: None,
            cycle_start: 0,
            lease_until: None,
            no_retry: false,
            last_status_code: Some(503),
            last_error: None,
            created_at: "2026-11-25T10:00:00.000Z".into(),
            updated_at: "2026-11-25T10:00:00.000Z".into(),
        };
        w.store.create_delivery(&d).await.unwrap();
    }
    let path = format!("/v1/webhooks/{id}/replay");
    let (status, v, _) = call(&w, "POST", &path, Some(json!({"since": "2026-11-25T00:00:00Z"}))).await;
    assert_eq!((status, v), (202, json!({"replayed": 1000, "more": true})));
    let jobs = w.queue.drain();
    assert_eq!(jobs.len(), 1000);
    assert!(jobs.iter().all(|(j, _)| j.attempt == 9));
    let (_, v, _) = call(&w, "POST", &path, Some(json!({"since": "2026-11-25T00:00:00Z"}))).await;
    assert_eq!(v, json!({"replayed": 1, "more": false}), "the oldest one is left for the second call");
}
