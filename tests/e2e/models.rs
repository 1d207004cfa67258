//! The data model registry over HTTP.

use serde_json::json;

use crate::stack;

#[tokio::test]
async fn the_contract_example_defines_a_model_that_can_be_read_listed_replaced_and_deleted() {
    let t = stack().await.tenant().await;
    t.define_crm().await;
    let got = t.get("/v1/models/contact").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("etag"), "\"1\"");
    assert_eq!(got.body["fields"][0], json!({"name": "email", "type": "email", "required": true, "unique": true}));
    assert_eq!(got.body["fields"][2]["target"], "company");
    let list = t.get("/v1/models").await;
    let names: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["company", "contact"]);

    // adding an optional field is always safe
    let replaced = t
        .put_json(
            "/v1/models/company",
            &json!({"name": "company", "label": "Company", "fields": [
        {"name": "name", "type": "string", "required": true, "unique": true},
        {"name": "website", "type": "url"}]}),
        )
        .await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    assert_eq!(replaced.body["version"], 2);

    // a stale If-Match is refused
    let stale = t.send(reqwest::Method::PUT, "/v1/models/company", Some("application/json"),
        Some(json!({"name": "company", "fields": [{"name": "name", "type": "string", "required": true, "unique": true}]}).to_string()),
        &[("if-match", "\"1\"")]).await;
    assert_eq!(stale.status, 412);

    // company is referenced by contact: it cannot go
    let refused = t.delete("/v1/models/company").await;
    assert_eq!(refused.status, 409);
    assert!(refused.body["detail"].as_str().unwrap().contains("contact"));
    assert_eq!(t.delete("/v1/models/contact").await.status, 204);
    assert_eq!(t.get("/v1/models/contact").await.status, 404);
    assert_eq!(t.delete("/v1/models/company").await.status, 204);
}

#[tokio::test]
async fn changes_that_would_invalidate_stored_records_are_refused_with_reasons() {
    let t = stack().await.tenant().await;
    t.define_crm().await;
    assert_eq!(t.create("contact", json!({"email": "a@example.com", "age": 40}), None).await.status, 201);
    let r = t
        .put_json(
            "/v1/models/contact",
            &json!({"name": "contact", "fields": [
        {"name": "email", "type": "email", "required": true, "unique": true},
        {"name": "age", "type": "integer", "min": 18},
        {"name": "phone", "type": "string", "required": true}]}),
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert_eq!(r.body["type"], "https://docs.hubblewave.dev/problems/unsafe-model-change");
    assert_eq!(r.pointers(), ["/fields", "/fields/1/min", "/fields/2/required"]);
    // nothing changed
    assert_eq!(t.get("/v1/models/contact").await.body["version"], 1);
    assert_eq!(t.delete("/v1/models/contact").await.status, 409, "a model with records cannot be deleted");
    // widening is fine even with records
    let widened = t
        .put_json(
            "/v1/models/contact",
            &json!({"name": "contact", "fields": [
        {"name": "email", "type": "email", "required": true, "unique": true},
        {"name": "age", "type": "decimal"},
        {"name": "company", "type": "reference", "target": "company"},
        {"name": "phone", "type": "string"}]}),
        )
        .await;
    assert_eq!(widened.status, 200, "{:?}", widened.body);
}

#[tokio::test]
async fn invalid_definitions_get_one_error_per_problem() {
    let t = stack().await.tenant().await;
    let r = t
        .post_json(
            "/v1/models",
            &json!({"name": "Order", "fields": [
        {"name": "total", "type": "decimal", "min": 10, "max": 1},
        {"name": "owner", "type": "reference", "target": "user"},
        {"name": "state", "type": "enum", "values": []}]}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(r.pointers(), ["/name", "/fields/0/min", "/fields/2/values", "/fields/1/target"]);
    let unknown_type =
        t.post_json("/v1/models", &json!({"name": "x", "fields": [{"name": "a", "type": "money"}]})).await;
    assert_eq!(unknown_type.status, 422);
    assert!(unknown_type.body["detail"].as_str().unwrap().contains("money"));
    assert_eq!(
        t.post_json("/v1/models", &json!({"name": "dup", "fields": [{"name": "a", "type": "string"}]})).await.status,
        201
    );
    assert_eq!(
        t.post_json("/v1/models", &json!({"name": "dup", "fields": [{"name": "a", "type": "string"}]})).await.status,
        409
    );
}

#[tokio::test]
async fn a_deprecated_entity_says_so_on_every_answer_of_its_routes() {
    let s = stack().await;
    let t = s.tenant().await;
    t.define_crm().await;
    let company = t.get("/v1/models/company").await.body;
    let mut input = json!({"name": "company", "label": company["label"], "fields": company["fields"]});
    let created = t.create("company", json!({"name": "Acme"}), None).await;
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created.header("deprecation"), "", "not deprecated yet");

    input["deprecation"] = json!({"since": "2026-11-01T00:00:00Z", "sunset": "2027-06-30T00:00:00Z",
                                              "link": "https://example.com/use-organisation"});
    let put = t.put_json("/v1/models/company", &input).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.body["deprecation"]["sunset"], "2027-06-30T00:00:00Z");
    for r in [t.get("/v1/data/company").await, t.get(&format!("/v1/data/company/{id}")).await] {
        assert_eq!(r.status, 200);
        assert_eq!(r.header("deprecation"), "@1793491200");
        assert_eq!(r.header("sunset"), "Wed, 30 Jun 2027 00:00:00 GMT");
        assert_eq!(r.header("link"), "<https://example.com/use-organisation>; rel=\"deprecation\"; type=\"text/html\"");
    }
    assert_eq!(t.get("/v1/data/contact").await.header("deprecation"), "", "other entities are not affected");
    let spec = t.get("/v1/openapi.json").await;
    assert_eq!(spec.body["paths"]["/v1/data/company"]["get"]["deprecated"], true);

    input["deprecation"] = json!({"since": "2026-11-01T00:00:00Z", "sunset": "2026-01-01T00:00:00Z"});
    let bad = t.put_json("/v1/models/company", &input).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"][0]["pointer"], "/deprecation/sunset");
    input.as_object_mut().unwrap().remove("deprecation");
    assert_eq!(t.put_json("/v1/models/company", &input).await.status, 200);
    assert_eq!(t.get("/v1/data/company").await.header("deprecation"), "", "cleared by an ordinary PUT");
}
