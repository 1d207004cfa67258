//! The generator (field types, structure of both documents), the snapshot of the static document, and the
//! breaking-change checker.

use std::collections::HashSet;

use hw_domain::model::{FieldDef, Model};
use serde_json::{Value, json};

use super::compat::breaking_changes;
use super::fields::value_schema;
use super::{static_document, tenant_document};

fn field(v: Value) -> FieldDef {
    serde_json::from_value(v).expect("a field definition")
}

fn model(name: &str, fields: Value) -> Model {
    Model {
        name: name.into(),
        label: name.to_uppercase(),
        description: None,
        fields: serde_json::from_value(fields).expect("fields"),
        deprecation: None,
        version: 1,
        created_at: "2026-11-25T00:00:00Z".into(),
        updated_at: "2026-11-25T00:00:00Z".into(),
    }
}

fn crm() -> Vec<Model> {
    vec![
        model(
            "company",
            json!([{"name": "name", "type": "string", "required": true, "unique": true, "max_length": 100},
                   {"name": "owner", "type": "reference", "target": "contact"}]),
        ),
        model(
            "contact",
            json!([{"name": "email", "type": "email", "required": true, "unique": true},
                   {"name": "age", "type": "integer", "min": 0, "max": 150},
                   {"name": "tier", "type": "enum", "values": ["free", "pro"], "default": "free"},
                   {"name": "ssn", "type": "string", "sensitive": true, "pattern": "[0-9]{3}-[0-9]{2}-[0-9]{4}"},
                   {"name": "company", "type": "reference", "target": "company", "required": true}]),
        ),
        model("sales_order", json!([{"name": "total", "type": "decimal", "min": 0.5}])),
    ]
}

#[test]
fn every_field_type_maps_to_its_json_schema() {
    let cases = [
        (
            json!({"name": "a", "type": "string", "required": true, "max_length": 10, "pattern": "[a-z]+"}),
            json!({"type": "string", "maxLength": 10, "pattern": "^(?:[a-z]+)$"}),
        ),
        (json!({"name": "a", "type": "string"}), json!({"type": ["string", "null"], "maxLength": 1024})),
        (json!({"name": "a", "type": "text", "required": true}), json!({"type": "string", "maxLength": 65536})),
        (
            json!({"name": "a", "type": "integer", "required": true, "min": 0, "max": 10}),
            json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": 10}),
        ),
        (
            json!({"name": "a", "type": "integer", "required": true}),
            json!({"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX}),
        ),
        (
            json!({"name": "a", "type": "decimal", "required": true, "min": 0.5}),
            json!({"type": "number", "minimum": 0.5}),
        ),
        (json!({"name": "a", "type": "boolean", "required": true}), json!({"type": "boolean"})),
        (json!({"name": "a", "type": "date", "required": true}), json!({"type": "string", "format": "date"})),
        (json!({"name": "a", "type": "datetime", "required": true}), json!({"type": "string", "format": "date-time"})),
        (
            json!({"name": "a", "type": "email", "required": true}),
            json!({"type": "string", "format": "email", "maxLength": 1024}),
        ),
        (
            json!({"name": "a", "type": "url", "required": true, "max_length": 300}),
            json!({"type": "string", "format": "uri", "maxLength": 300}),
        ),
        (
            json!({"name": "a", "type": "enum", "required": true, "values": ["x", "y"]}),
            json!({"type": "string", "enum": ["x", "y"]}),
        ),
        (
            json!({"name": "a", "type": "enum", "values": ["x"]}),
            json!({"type": ["string", "null"], "enum": ["x", null]}),
        ),
        (
            json!({"name": "a", "type": "reference", "target": "b", "required": true}),
            json!({"type": "string", "pattern": super::schemas::RECORD_ID_PATTERN}),
        ),
        (json!({"name": "a", "type": "json"}), json!({})),
    ];
    let mut seen = HashSet::new();
    for (def, expected) in cases {
        let f = field(def.clone());
        seen.insert(f.field_type);
        let got = value_schema(&f);
        for (k, v) in expected.as_object().unwrap() {
            assert_eq!(got.get(k), Some(v), "{def}: `{k}` in {got}");
        }
        if let Some(example) = got.get("examples").and_then(|e| e.get(0)) {
            assert!(hw_domain::validate::check_value(&f, example, "").is_ok(), "{def}: example {example} is invalid");
        }
    }
    assert_eq!(seen.len(), 12, "every field type is covered");
    let labelled = value_schema(&field(
        json!({"name": "a", "type": "string", "label": "A", "unique": true, "sensitive": true, "default": "z"}),
    ));
    assert_eq!(labelled["title"], "A");
    assert_eq!(labelled["default"], "z");
    let description = labelled["description"].as_str().unwrap();
    assert!(description.contains("Unique") && description.contains("Sensitive"), "{description}");
}

/// Every `$ref` in `doc` points at something.
fn assert_refs_resolve(doc: &Value) {
    fn walk(doc: &Value, v: &Value) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    assert!(doc.pointer(r.trim_start_matches('#')).is_some(), "dangling $ref {r}");
                }
                m.values().for_each(|x| walk(doc, x));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(doc, x)),
            _ => {}
        }
    }
    walk(doc, doc);
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method != "parameters" {
                out.push((method.clone(), path.clone(), op));
            }
        }
    }
    out
}

fn assert_well_formed(doc: &Value) {
    assert_eq!(doc["openapi"], "3.1.0");
    assert_refs_resolve(doc);
    let mut ids = HashSet::new();
    let link_targets: Vec<String> = operations(doc)
        .iter()
        .flat_map(|(_, _, op)| op["responses"].as_object().unwrap().values())
        .filter_map(|r| r.get("links").and_then(Value::as_object))
        .flat_map(|l| l.values().map(|x| x["operationId"].as_str().unwrap().to_owned()))
        .collect();
    for (method, path, op) in operations(doc) {
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} has no success answer");
        let data = path.starts_with("/v1/data/");
        for (status, r) in responses {
            if status.starts_with('4') || (status.starts_with('5') && path != "/health") {
                let name = r["$ref"].as_str().unwrap_or_else(|| panic!("{method} {path} {status} is inline"));
                assert_eq!(name.contains("JsonApiError"), data, "{method} {path} {status}: {name}");
            }
        }
        let public = op.get("security").is_some();
        if !public {
            assert!(responses.contains_key("401") && responses.contains_key("429"), "{method} {path}");
        }
        // Four routes make secrets that must not be kept outside their hashes (see `idempotency::applies`): user
        // passwords and invitations, OAuth client secrets.
        let makes_secrets = method == "post"
            && ["/v1/users", "/v1/users/{id}/invitation", "/v1/oauth-clients", "/v1/oauth-clients/{id}/secret"]
                .contains(&path.as_str());
        if ["post", "patch"].contains(&method.as_str()) && !makes_secrets {
            let params = op["parameters"].to_string();
            assert!(params.contains("IdempotencyKey"), "{method} {path} lacks Idempotency-Key");
        }
        // API keys and exports are never changed by clients, and consents are given at the OAuth provider, not
        // here: they have no versions to match.
        let versionless =
            path.contains("api-keys") || path.starts_with("/v1/exports/") || path.starts_with("/v1/consents/");
        if ["patch", "put"].contains(&method.as_str()) || (method == "delete" && !versionless) {
            assert!(op["parameters"].to_string().contains("IfMatch"), "{method} {path} lacks If-Match");
        }
        if let Some(created) = responses.get("201") {
            let headers = created["headers"].as_object().unwrap();
            assert!(headers.contains_key("X-Request-Id"));
            assert!(headers.contains_key("Location"), "{method} {path} 201 has no Location");
        }
    }
    for target in link_targets {
        assert!(ids.contains(&target), "a link points to the unknown operation {target}");
    }
    for status in ["429", "503"] {
        assert!(doc["components"]["responses"][format!("Problem{status}")]["headers"]["Retry-After"].is_object());
    }
    assert_eq!(doc["components"]["securitySchemes"]["apiKey"]["name"], "X-Api-Key");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

#[test]
fn the_static_document_is_well_formed_and_templated() {
    let doc = static_document();
    assert_well_formed(&doc);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/data/{entity}",
        "/v1/data/{entity}/{id}",
        "/v1/data/{entity}/_bulk",
        "/v1/models/{name}",
        "/v1/api-keys/{id}/rotate",
        "/v1/audit",
        "/v1/usage",
        "/health",
        "/v1/openapi.json",
    ] {
        assert!(paths.contains_key(p), "{p} is missing");
    }
    assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([]));
    let links = &doc["paths"]["/v1/data/{entity}"]["post"]["responses"]["201"]["links"];
    assert_eq!(links["GetRecord"]["parameters"]["id"], "$response.body#/data/id");
    assert_eq!(links["GetRecord"]["parameters"]["entity"], "$request.path.entity");
    let model_links = &doc["paths"]["/v1/models"]["post"]["responses"]["201"]["links"];
    for l in ["GetModel", "ReplaceModel", "DeleteModel"] {
        assert_eq!(model_links[l]["parameters"]["name"], "$response.body#/name");
    }
    let key_links = &doc["paths"]["/v1/api-keys"]["post"]["responses"]["201"]["links"];
    for l in ["GetApiKey", "RevokeApiKey", "RotateApiKey"] {
        assert_eq!(key_links[l]["parameters"]["id"], "$response.body#/id");
    }
}

#[test]
fn the_tenant_document_has_concrete_routes_and_schemas_per_model() {
    let models = crm();
    let doc = tenant_document("acme", &models);
    assert_well_formed(&doc);
    let paths = doc["paths"].as_object().unwrap();
    assert!(!paths.contains_key("/v1/data/{entity}"));
    for p in ["/v1/data/contact", "/v1/data/contact/{id}", "/v1/data/contact/_bulk", "/v1/data/sales_order"] {
        assert!(paths.contains_key(p), "{p} is missing");
    }
    let s = &doc["components"]["schemas"];
    assert!(s["SalesOrderAttributes"].is_object());
    let attrs = &s["ContactAttributes"]["properties"];
    assert_eq!(attrs["email"]["format"], "email");
    assert!(attrs.get("company").is_none(), "references are relationships, not attributes");
    assert_eq!(s["ContactCreateAttributes"]["required"], json!(["email"]));
    assert_eq!(s["ContactCreateAttributes"]["additionalProperties"], false);
    assert_eq!(s["ContactCreateRelationships"]["required"], json!(["company"]));
    assert_eq!(
        s["ContactRelationships"]["properties"]["company"]["properties"]["data"]["properties"]["type"]["const"],
        "company"
    );
    assert_eq!(s["ContactResource"]["properties"]["type"]["const"], "contact");
    assert_eq!(s["ContactCreateResource"]["required"], json!(["type", "attributes", "relationships"]));
    assert!(s["ContactDocument"]["properties"]["included"]["items"]["anyOf"].to_string().contains("CompanyResource"));

    let list = &doc["paths"]["/v1/data/contact"]["get"];
    let names: Vec<&str> = list["parameters"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    for n in [
        "filter[email]",
        "filter[email][contains]",
        "filter[age][gte]",
        "filter[tier][in]",
        "filter[age][isNull]",
        "filter[id]",
        "filter[created_at][lt]",
        "filter[company][eq]",
        "sort",
        "fields[contact]",
        "fields[company]",
        "include",
        "page[size]",
        "page[after]",
    ] {
        assert!(names.contains(&n), "{n} is missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("filter[ssn]")), "sensitive fields are not filterable");
    assert!(!names.contains(&"filter[email][isNull]"), "required fields are never null");
    let include = list["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "include").unwrap();
    let pattern = include["schema"]["pattern"].as_str().unwrap();
    assert!(pattern.contains("company\\.owner"), "{pattern}");
    let example =
        &doc["paths"]["/v1/data/company"]["post"]["requestBody"]["content"]["application/vnd.api+json"]["example"];
    assert_eq!(example["data"]["type"], "company");
    assert!(list.get("deprecated").is_none());
    let link = &doc["paths"]["/v1/data/contact"]["post"]["responses"]["201"]["links"]["UpdateRecord"];
    assert_eq!(link["operationId"], "updateContact");
}

#[test]
fn deprecated_models_mark_their_operations_deprecated() {
    let mut models = crm();
    let doc = tenant_document("acme", &models);
    assert!(doc["paths"]["/v1/data/company"]["get"].get("deprecated").is_none());
    models[0].deprecation =
        Some(hw_domain::model::Deprecation { since: "2026-01-01T00:00:00Z".into(), sunset: None, link: None });
    let doc = tenant_document("acme", &models);
    for (path, method) in
        [("/v1/data/company", "get"), ("/v1/data/company", "post"), ("/v1/data/company/{id}", "patch")]
    {
        assert_eq!(doc["paths"][path][method]["deprecated"], true, "{method} {path}");
    }
    assert!(doc["paths"]["/v1/data/contact"]["get"].get("deprecated").is_none());
}

#[test]
fn schema_names_stay_unique_when_model_names_pascal_case_alike() {
    let models = vec![
        model("a_b", json!([{"name": "x", "type": "boolean"}])),
        model("a__b", json!([{"name": "x", "type": "boolean"}])),
    ];
    let doc = tenant_document("acme", &models);
    assert_well_formed(&doc);
    assert!(doc["components"]["schemas"]["AB_a_b"].is_null());
    assert!(doc["components"]["schemas"]["AB_a_bResource"].is_object());
    assert!(doc["components"]["schemas"]["AB_a__bResource"].is_object());
}

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi/v1-static.json");

/// `docs/openapi/v1-static.json` is the static document: a breaking change fails; any other difference asks for a
/// refresh (`UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p api openapi`), so the snapshot always matches.
#[test]
fn openapi_static_document_matches_its_snapshot() {
    let current = static_document();
    let text = format!("{}\n", serde_json::to_string_pretty(&current).unwrap());
    let update = std::env::var("UPDATE_OPENAPI_SNAPSHOT").is_ok_and(|v| v == "1");
    let snapshot: Option<Value> =
        std::fs::read_to_string(SNAPSHOT).ok().map(|t| serde_json::from_str(&t).expect("the snapshot is JSON"));
    if let Some(old) = &snapshot {
        let breaking = breaking_changes(old, &current);
        assert!(
            breaking.is_empty(),
            "breaking changes to the v1 API (they need a new API version, not a snapshot refresh):\n  {}",
            breaking.join("\n  ")
        );
    }
    if update {
        std::fs::write(SNAPSHOT, text).unwrap();
        return;
    }
    let old = snapshot
        .expect("docs/openapi/v1-static.json is missing: run UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p api openapi");
    assert!(
        old == current,
        "the static OpenAPI document changed (compatibly); refresh the snapshot with UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p api openapi and commit docs/openapi/v1-static.json"
    );
}

// ---- the breaking-change checker

fn base() -> Value {
    json!({
        "openapi": "3.1.0",
        "paths": {
            "/things": {
                "get": {"parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 10}}],
                        "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                                      "404": {"description": "no"}}},
                "post": {"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewThing"}}}},
                         "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}
            },
            "/things/{id}": {"delete": {"responses": {"204": {"description": "gone"}}}}
        },
        "components": {"schemas": {
            "Thing": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string"}, "kind": {"type": "string", "enum": ["a", "b"]},
                "size": {"type": "integer"}, "child": {"$ref": "#/components/schemas/Thing"}}},
            "NewThing": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "maxLength": 100, "minLength": 1},
                "count": {"type": ["integer", "null"], "minimum": 0, "maximum": 10},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5}}}
        }}
    })
}

fn changed(f: impl FnOnce(&mut Value)) -> Vec<String> {
    let mut new = base();
    f(&mut new);
    breaking_changes(&base(), &new)
}

fn assert_breaking(what: &str, found: Vec<String>, expect: &str) {
    assert!(found.iter().any(|l| l.contains(expect)), "{what}: expected `{expect}` in {found:?}");
}

#[test]
fn the_checker_detects_every_kind_of_breaking_change() {
    assert_breaking(
        "removed path",
        changed(|v| {
            v["paths"].as_object_mut().unwrap().remove("/things/{id}");
        }),
        "removed path /things/{id}",
    );
    assert_breaking(
        "removed operation",
        changed(|v| {
            v["paths"]["/things"].as_object_mut().unwrap().remove("post");
        }),
        "removed operation POST /things",
    );
    assert_breaking(
        "removed response field",
        changed(|v| {
            v["components"]["schemas"]["Thing"]["properties"].as_object_mut().unwrap().remove("size");
        }),
        "removed response field `size`",
    );
    assert_breaking(
        "removed nested response field",
        changed(|v| {
            v["components"]["schemas"]["Thing"]["properties"].as_object_mut().unwrap().remove("kind");
        }),
        "removed response field `kind`",
    );
    assert_breaking(
        "response field may be missing",
        changed(|v| {
            v["components"]["schemas"]["Thing"]["required"] = json!([]);
        }),
        "may now be missing",
    );
    assert_breaking(
        "removed enum value (response)",
        changed(|v| {
            v["components"]["schemas"]["Thing"]["properties"]["kind"]["enum"] = json!(["a"]);
        }),
        "removed enum value \"b\"",
    );
    assert_breaking(
        "removed enum value (request)",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["properties"]["kind"]["enum"] = json!(["b"]);
        }),
        "removed enum value \"a\"",
    );
    assert_breaking(
        "newly required request field",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["required"] = json!(["name", "count"]);
        }),
        "`count` is newly required",
    );
    assert_breaking(
        "new required parameter",
        changed(|v| {
            v["paths"]["/things"]["get"]["parameters"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "p", "in": "query", "required": true, "schema": {"type": "string"}}));
        }),
        "new required query parameter `p`",
    );
    assert_breaking(
        "parameter newly required",
        changed(|v| {
            v["paths"]["/things"]["get"]["parameters"][0]["required"] = json!(true);
        }),
        "parameter `q` is newly required",
    );
    assert_breaking(
        "removed parameter",
        changed(|v| {
            v["paths"]["/things"]["get"]["parameters"] = json!([]);
        }),
        "removed query parameter `q`",
    );
    assert_breaking(
        "lower maxLength",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["properties"]["name"]["maxLength"] = json!(50);
        }),
        "tightened constraint `maxLength`",
    );
    assert_breaking(
        "parameter maxLength",
        changed(|v| {
            v["paths"]["/things"]["get"]["parameters"][0]["schema"]["maxLength"] = json!(5);
        }),
        "tightened constraint `maxLength`",
    );
    assert_breaking(
        "higher minimum",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["properties"]["count"]["minimum"] = json!(1);
        }),
        "tightened constraint `minimum`",
    );
    assert_breaking(
        "lower maximum",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["properties"]["count"]["maximum"] = json!(9);
        }),
        "tightened constraint `maximum`",
    );
    assert_breaking(
        "higher minLength",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["properties"]["name"]["minLength"] = json!(2);
        }),
        "tightened constraint `minLength`",
    );
    assert_breaking(
        "lower maxItems",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["properties"]["tags"]["maxItems"] = json!(4);
        }),
        "tightened constraint `maxItems`",
    );
    assert_breaking(
        "new pattern",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["properties"]["name"]["pattern"] = json!("^[a-z]+$");
        }),
        "tightened constraint `pattern`",
    );
    assert_breaking(
        "closed object",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["additionalProperties"] = json!(false);
        }),
        "tightened constraint `additionalProperties`",
    );
    assert_breaking(
        "new enum on a request field",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["properties"]["name"]["enum"] = json!(["x"]);
        }),
        "newly restricted to an enum",
    );
    assert_breaking(
        "nullable no more",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["properties"]["count"]["type"] = json!("integer");
        }),
        "type changed",
    );
    assert_breaking(
        "changed response type",
        changed(|v| {
            v["components"]["schemas"]["Thing"]["properties"]["size"]["type"] = json!("string");
        }),
        "type changed from integer to string",
    );
    assert_breaking(
        "changed request type",
        changed(|v| {
            v["components"]["schemas"]["NewThing"]["properties"]["name"]["type"] = json!("integer");
        }),
        "type changed from string to integer",
    );
    assert_breaking(
        "removed success response",
        changed(|v| {
            v["paths"]["/things"]["get"]["responses"].as_object_mut().unwrap().remove("200");
        }),
        "removed the 200 response",
    );
    assert_breaking(
        "removed media type",
        changed(|v| {
            let c = v["paths"]["/things"]["post"]["requestBody"]["content"].as_object_mut().unwrap();
            let s = c.remove("application/json").unwrap();
            c.insert("text/plain".into(), s);
        }),
        "no longer accepted",
    );
    assert_breaking(
        "body newly required",
        changed(|v| {
            v["paths"]["/things/{id}"]["delete"]["requestBody"] = json!({"required": true, "content": {}});
        }),
        "newly required",
    );
}

#[test]
fn the_checker_accepts_additions_and_loosening() {
    let found = changed(|v| {
        v["paths"]["/others"] = json!({"get": {"responses": {"200": {"description": "ok"}}}});
        v["paths"]["/things"]["put"] = json!({"responses": {"200": {"description": "ok"}}});
        v["paths"]["/things"]["get"]["parameters"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "opt", "in": "query", "schema": {"type": "string"}}));
        v["paths"]["/things"]["get"]["parameters"][0]["schema"]["maxLength"] = json!(20);
        v["paths"]["/things"]["get"]["responses"].as_object_mut().unwrap().remove("404");
        v["paths"]["/things"]["get"]["responses"]["429"] = json!({"description": "slow down"});
        let schemas = &mut v["components"]["schemas"];
        schemas["Thing"]["properties"]["extra"] = json!({"type": "string"});
        schemas["Thing"]["required"] = json!(["id", "extra"]);
        schemas["NewThing"]["properties"]["note"] = json!({"type": "string"});
        schemas["NewThing"]["properties"]["name"]["maxLength"] = json!(200);
        schemas["NewThing"]["properties"]["count"]["minimum"] = json!(-5);
        schemas["NewThing"]["properties"]["count"]["type"] = json!(["integer", "null", "string"]);
        schemas["NewThing"]["properties"]["kind"]["enum"] = json!(["a", "b", "c"]);
        schemas["NewThing"]["properties"]["tags"]["maxItems"] = json!(50);
        schemas["NewThing"]["required"] = json!([]);
    });
    assert!(found.is_empty(), "{found:?}");
    assert!(breaking_changes(&static_document(), &static_document()).is_empty());
}

#[test]
fn the_checker_ends_on_recursive_schemas() {
    let mut new = base();
    new["components"]["schemas"]["Thing"]["properties"]["child"]["description"] = json!("recursive");
    assert!(breaking_changes(&base(), &new).is_empty());
}
