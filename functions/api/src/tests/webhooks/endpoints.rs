//! Endpoints: creation, secrets, changes, validation, the catalog and scopes.

use super::*;

#[tokio::test]
async fn an_endpoint_is_created_with_a_secret_that_is_stored_sealed() {
    let w = world().await;
    let input = json!({"url": "http://127.0.0.1:9/hook", "event_types": ["record.created"], "description": "CRM"});
    let (status, v, r) = call(&w, "POST", "/v1/webhooks", Some(input)).await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap();
    assert!(id.starts_with("ep_"));
    assert_eq!(
        header(&r, "location"),
        format!("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1/webhooks/{id}")
    );
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert_eq!(header(&r, "etag"), "\"1\"");
    let secret = v["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(signing::decode_secret(secret).unwrap().len(), signing::SECRET_BYTES);
    assert_eq!((v["enabled"].clone(), v["timeout_seconds"].clone()), (json!(true), json!(15)));
    assert_eq!(v["disable_after_seconds"], 432000);
    assert_eq!(v["retry_policy"], json!({"strategy": "standard", "max_attempts": 8}));
    assert!(v.get("tenant").is_none() && v.get("secrets").is_none(), "{v}");
    assert!(v.get("secret_rotation").is_none());

    let stored = w.store.get_endpoint("acme", id).await.unwrap().unwrap();
    assert_eq!(stored.secrets.len(), 1);
    assert!(!stored.secrets[0].sealed.contains(&secret[6..]), "the secret is not stored in the clear");
    let opened =
        w.deps.webhooks.dispatcher.cipher.open_secret("acme", &secret_context(id), &stored.secrets[0].sealed).await;
    assert_eq!(opened.unwrap(), secret.as_bytes());
    let (status, s, r) = call(&w, "GET", &format!("/v1/webhooks/{id}/secret"), None).await;
    assert_eq!((status, s["secret"].as_str()), (200, Some(secret)));
    assert_eq!(header(&r, "cache-control"), "no-store");

    // a secret of one's own, normalised to `whsec_`
    let own = format!("whsec_{}", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=");
    let (_, mine) = create(&w, json!({"secret": own})).await;
    assert_eq!(mine, own);
    let (status, v, _) = call(
        &w,
        "POST",
        "/v1/webhooks",
        Some(json!({"url": "http://127.0.0.1/", "event_types": ["*"], "secret": "whsec_c2hvcnQ="})),
    )
    .await;
    assert_eq!((status, pointers(&v)), (422, vec!["/secret"]));
}

#[tokio::test]
async fn endpoints_are_listed_read_changed_and_deleted() {
    let w = world().await;
    let (id, _) = create(&w, json!({})).await;
    let (status, list, _) = call(&w, "GET", "/v1/webhooks", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], id.as_str());
    let path = format!("/v1/webhooks/{id}");
    let (status, v, r) = call(&w, "GET", &path, None).await;
    assert_eq!((status, header(&r, "etag")), (200, "\"1\""));
    assert_eq!(v["event_types"], json!(["record.*"]));

    let change = json!({"description": "orders", "rate_limit_per_second": 5, "headers": {"X-Team": "ops"},
                        "transform": {"text": "{{ type }}"}, "payload_filter": {"type": {"eq": "record.created"}},
                        "retry_policy": {"strategy": "exponential", "initial_delay_seconds": 2}});
    let stale = raw(&w, "PATCH", &path, Some(change.clone()), &[("if-match", "\"7\"")]).await;
    assert_conforms("PATCH", &path, &stale);
    assert_eq!((stale.status_code, header(&stale, "etag")), (412, "\"1\""));
    let r = raw(&w, "PATCH", &path, Some(change), &[("if-match", "\"1\"")]).await;
    assert_conforms("PATCH", &path, &r);
    let v = body(&r);
    assert_eq!(r.status_code, 200, "{v}");
    assert_eq!((v["version"].clone(), header(&r, "etag")), (json!(2), "\"2\""));
    assert_eq!(v["description"], "orders");
    assert_eq!(v["retry_policy"]["max_delay_seconds"], 36000);
    assert_eq!(v["url"], "http://127.0.0.1:9/hook", "untouched members keep their value");
    let (_, v, _) = call(&w, "PATCH", &path, Some(json!({"rate_limit_per_second": null, "transform": null}))).await;
    assert_eq!((v["rate_limit_per_second"].clone(), v["transform"].clone()), (Value::Null, Value::Null));
    assert_eq!(v["headers"], json!({"X-Team": "ops"}));
    let (status, v, _) = call(&w, "PATCH", &path, Some(json!({"secret": signing::generate_secret()}))).await;
    assert_eq!((status, pointers(&v)), (422, vec!["/secret"]));

    let r = raw(&w, "DELETE", &path, None, &[("if-match", "\"1\"")]).await;
    assert_eq!(r.status_code, 412);
    assert_eq!(call(&w, "DELETE", &path, None).await.0, 204);
    let (status, problem, r) = call(&w, "GET", &path, None).await;
    assert_eq!((status, header(&r, "content-type")), (404, "application/problem+json"));
    assert_eq!(problem["type"], "https://docs.hubblewave.dev/problems/not-found");
    assert_eq!(call(&w, "PATCH", &path, Some(json!({}))).await.0, 404);
    assert_eq!(call(&w, "GET", "/v1/webhooks/not-an-id/secret", None).await.0, 404);

    let r = raw(&w, "PUT", &path, Some(json!({})), &[]).await;
    assert_eq!((r.status_code, header(&r, "allow")), (405, "GET, PATCH, DELETE"));
    let r = raw(&w, "DELETE", "/v1/webhooks", None, &[]).await;
    assert_eq!((r.status_code, header(&r, "allow")), (405, "GET, POST"));
    let r = raw(&w, "GET", &format!("{path}/deliveries/msg_X/resend"), None, &[]).await;
    assert_eq!((r.status_code, header(&r, "allow")), (405, "POST"));
}

#[tokio::test]
async fn every_invalid_member_is_reported_with_its_pointer() {
    let w = world_with(&["admin"], false).await;
    let input = json!({
        "url": "http://8.8.8.8/hook",
        "event_types": ["record.created", "nope.created", "Bad Pattern"],
        "entities": ["Contact"],
        "payload_filter": {"data.entity": {"bogus": 1}},
        "transform": {"text": "{{ unclosed"},
        "headers": {"Content-Type": "text/plain", "Webhook-Id": "x", "X-Ok": "a\r\nb", "bad name": "v"},
        "retry_policy": {"strategy": "exponential", "initial_delay_seconds": 0},
        "timeout_seconds": 31,
        "rate_limit_per_second": 0,
        "description": "x".repeat(1001),
        "colour": "blue",
    });
    let (status, problem, r) = call(&w, "POST", "/v1/webhooks", Some(input)).await;
    assert_eq!((status, header(&r, "content-type")), (422, "application/problem+json"));
    let mut found = pointers(&problem);
    found.sort();
    let mut expected = vec![
        "/url",
        "/event_types/1",
        "/event_types/2",
        "/entities/0",
        "/payload_filter/data.entity/bogus",
        "/transform/text",
        "/headers/Content-Type",
        "/headers/Webhook-Id",
        "/headers/X-Ok",
        "/headers/bad name",
        "/retry_policy/initial_delay_seconds",
        "/timeout_seconds",
        "/rate_limit_per_second",
        "/description",
        "/colour",
    ];
    expected.sort();
    assert_eq!(found, expected, "{problem}");
    let detail =
        |p: &str| problem["errors"].as_array().unwrap().iter().find(|e| e["pointer"] == p).unwrap()["detail"].clone();
    assert!(detail("/event_types/1").as_str().unwrap().contains("GET /v1/event-types"));
    assert!(detail("/url").as_str().unwrap().contains("https"));

    // outside local mode loopback and private receivers are refused, https or not
    for url in ["https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://localhost/hook", "https://[::1]/hook"] {
        let (status, problem, _) =
            call(&w, "POST", "/v1/webhooks", Some(json!({"url": url, "event_types": ["*"]}))).await;
        assert_eq!((status, pointers(&problem)), (422, vec!["/url"]), "{url}");
    }
    let (status, v, _) =
        call(&w, "POST", "/v1/webhooks", Some(json!({"url": "https://8.8.8.8/hook", "event_types": ["*"]}))).await;
    assert_eq!(status, 201, "{v}");
    let (status, problem, _) = call(&w, "POST", "/v1/webhooks", Some(json!({"event_types": []}))).await;
    assert_eq!((status, pointers(&problem)), (422, vec!["/event_types", "/url"]));
    let (status, problem, _) = call(&w, "POST", "/v1/webhooks", Some(json!(["not", "an", "object"]))).await;
    assert_eq!((status, pointers(&problem)), (422, vec![""]));
    let (status, problem, _) =
        call(&w, "POST", "/v1/webhooks", Some(json!({"url": null, "event_types": ["*"], "enabled": null}))).await;
    assert_eq!((status, pointers(&problem)), (422, vec!["/enabled", "/url"]));

    // in local mode (the local runner) a loopback receiver over plain http is fine
    let local = world().await;
    let (status, _, _) =
        call(&local, "POST", "/v1/webhooks", Some(json!({"url": "http://127.0.0.1:8080/hook", "event_types": ["*"]})))
            .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn a_tenant_has_at_most_a_hundred_endpoints() {
    let w = world().await;
    for _ in 0..100 {
        create(&w, json!({})).await;
    }
    let (status, problem, _) =
        call(&w, "POST", "/v1/webhooks", Some(json!({"url": "http://127.0.0.1/", "event_types": ["*"]}))).await;
    assert_eq!(status, 422);
    assert!(problem["detail"].as_str().unwrap().contains("at most 100"), "{problem}");
}

/// The `v1,` signatures of a request that verify with `secret`.
fn verifies(request: &OutboundRequest, secret: &str) -> bool {
    let key = signing::decode_secret(secret).unwrap();
    let (id, ts) = (&request.headers["webhook-id"], request.headers["webhook-timestamp"].parse().unwrap());
    let expected = signing::sign(&key, id, ts, &request.body);
    request.headers["webhook-signature"].split(' ').any(|s| s == expected)
}

#[tokio::test]
async fn after_a_rotation_both_secrets_sign_until_the_grace_period_ends() {
    let w = world().await;
    let (id, old) = create(&w, json!({})).await;
    let rotate = format!("/v1/webhooks/{id}/rotate-secret");
    let (status, v, r) = call(&w, "POST", &rotate, Some(json!({"grace_period_seconds": 3600}))).await;
    assert_eq!((status, header(&r, "cache-control")), (200, "no-store"), "{v}");
    let new = v["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let expires = v["previous_expires_at"].as_str().unwrap().to_owned();
    let (_, ep, _) = call(&w, "GET", &format!("/v1/webhooks/{id}"), None).await;
    assert_eq!(ep["secret_rotation"]["previous_expires_at"], expires.as_str());
    assert_eq!(ep["version"], 2);
    let (_, current, _) = call(&w, "GET", &format!("/v1/webhooks/{id}/secret"), None).await;
    assert_eq!(current["secret"], new.as_str());

    assert_eq!(call(&w, "POST", &format!("/v1/webhooks/{id}/test"), None).await.0, 200);
    let sent = w.receiver.requests.lock().unwrap().pop().unwrap();
    assert_eq!(sent.headers["webhook-signature"].split(' ').count(), 2);
    assert!(verifies(&sent, &new) && verifies(&sent, &old));

    // the grace period ends: only the new secret signs
    let mut stored = w.store.get_endpoint("acme", &id).await.unwrap().unwrap();
    stored.secrets[1].expires_at = Some("2020-01-01T00:00:00.000Z".into());
    w.store.replace_endpoint(&stored, stored.version).await.unwrap();
    call(&w, "POST", &format!("/v1/webhooks/{id}/test"), None).await;
    let sent = w.receiver.requests.lock().unwrap().pop().unwrap();
    assert!(verifies(&sent, &new) && !verifies(&sent, &old));
    let (_, ep, _) = call(&w, "GET", &format!("/v1/webhooks/{id}"), None).await;
    assert!(ep.get("secret_rotation").is_none());

    // a rotation drops expired secrets; without a grace period the previous one stops at once; an empty body is fine
    let (status, v, _) = call(&w, "POST", &rotate, Some(json!({"grace_period_seconds": 0}))).await;
    assert_eq!(status, 200);
    assert_eq!(w.store.get_endpoint("acme", &id).await.unwrap().unwrap().secrets.len(), 1);
    let newest = v["secret"].as_str().unwrap().to_owned();
    assert_eq!(raw(&w, "POST", &rotate, None, &[]).await.status_code, 200);
    let stored = w.store.get_endpoint("acme", &id).await.unwrap().unwrap();
    assert_eq!(stored.secrets.len(), 2);
    assert!(stored.secrets[1].expires_at.is_some(), "{newest} signs for the default grace period");
    let (status, problem, _) = call(&w, "POST", &rotate, Some(json!({"grace_period_seconds": 604801, "x": 1}))).await;
    assert_eq!((status, pointers(&problem)), (422, vec!["/grace_period_seconds", "/x"]));
}

#[tokio::test]
async fn enabling_a_disabled_endpoint_clears_its_disabled_state() {
    let w = world().await;
    let (id, _) = create(&w, json!({})).await;
    w.store.note_failure("acme", &id, "2026-11-20T00:00:00.000Z").await.unwrap();
    w.store.disable_endpoint("acme", &id, "failing", "2026-11-25T00:00:00.000Z").await.unwrap();
    let path = format!("/v1/webhooks/{id}");
    let (_, v, _) = call(&w, "GET", &path, None).await;
    assert_eq!((v["enabled"].clone(), v["disabled_reason"].clone()), (json!(false), json!("failing")));
    assert_eq!(v["failing_since"], "2026-11-20T00:00:00.000Z");
    let (status, v, _) = call(&w, "PATCH", &path, Some(json!({"enabled": true}))).await;
    assert_eq!(status, 200);
    assert_eq!(v["enabled"], true);
    for cleared in ["disabled_reason", "disabled_at", "failing_since"] {
        assert_eq!(v[cleared], Value::Null, "{cleared}");
    }
    let (_, v, _) = call(&w, "PATCH", &path, Some(json!({"enabled": false}))).await;
    assert_eq!((v["enabled"].clone(), v["disabled_reason"].clone()), (json!(false), json!("manual")));
    assert!(v["disabled_at"].is_string());
    let (status, v, _) = call(
        &w,
        "POST",
        "/v1/webhooks",
        Some(json!({"url": "http://127.0.0.1/", "event_types": ["*"], "enabled": false})),
    )
    .await;
    assert_eq!((status, v["disabled_reason"].clone()), (201, json!("manual")));
}

#[tokio::test]
async fn the_event_type_catalog_is_open_to_any_key_and_the_rest_needs_admin() {
    let w = world_with(&["data:read"], true).await;
    let (status, v, _) = call(&w, "GET", "/v1/event-types", None).await;
    assert_eq!(status, 200);
    let created = v["data"].as_array().unwrap().iter().find(|t| t["name"] == "record.created").unwrap();
    assert_eq!(created["schema"]["type"], "object");
    assert_eq!(created["example"]["type"], "record.created");
    let r = raw(&w, "POST", "/v1/event-types", None, &[]).await;
    assert_eq!((r.status_code, header(&r, "allow")), (405, "GET"));

    for (method, path) in [("GET", "/v1/webhooks"), ("POST", "/v1/webhooks"), ("GET", "/v1/webhooks/ep_X/deliveries")] {
        let (status, problem, r) = call(&w, method, path, Some(json!({}))).await;
        assert_eq!(
            (status, problem["type"].as_str()),
            (403, Some("https://docs.hubblewave.dev/problems/insufficient-scope"))
        );
        assert!(header(&r, "www-authenticate").contains("scope=\"admin\""));
    }
}

#[tokio::test]
async fn the_documented_examples_are_accepted() {
    let w = world().await;
    let example = |path: &str, method: &str| {
        document()["paths"][path][method]["requestBody"]["content"]["application/json"]["example"].clone()
    };
    let (status, v, _) = call(&w, "POST", "/v1/webhooks", Some(example("/v1/webhooks", "post"))).await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap();
    assert_eq!(v["retry_policy"]["strategy"], "exponential");
    let patch = example("/v1/webhooks/{id}", "patch");
    assert_eq!(call(&w, "PATCH", &format!("/v1/webhooks/{id}"), Some(patch)).await.0, 200);
    let rotate = example("/v1/webhooks/{id}/rotate-secret", "post");
    assert_eq!(call(&w, "POST", &format!("/v1/webhooks/{id}/rotate-secret"), Some(rotate)).await.0, 200);
    let replay = example("/v1/webhooks/{id}/replay", "post");
    assert_eq!(call(&w, "POST", &format!("/v1/webhooks/{id}/replay"), Some(replay)).await.0, 202);

    // a retry policy takes only its own strategy's members
    let policy = json!({"retry_policy": {"strategy": "standard", "multiplier": 2}});
    let (status, problem, _) = call(&w, "PATCH", &format!("/v1/webhooks/{id}"), Some(policy)).await;
    assert_eq!((status, pointers(&problem)), (422, vec!["/retry_policy"]));
}
