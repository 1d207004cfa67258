//! The catalog of event types an endpoint can subscribe to, each with a JSON Schema (2020-12) of its whole envelope
//! and an example. The API serves it so tenants can see what they will receive, build receivers against the
//! schemas and check subscription patterns, instead of reverse-engineering payloads from the delivery log.

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::{Value, json};

use crate::matching::type_matches;

const SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";
const EVENT_ID: &str = "^evt_[0-9A-HJKMNP-TV-Z]{26}$";
const TENANT_ID: &str = "^[a-z][a-z0-9-]{1,38}[a-z0-9]$";
const RECORD_ID: &str = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$";
const MODEL_NAME: &str = "^[a-z][a-z0-9_]{0,62}$";
const FIELD_TYPES: [&str; 12] = [
    "string",
    "text",
    "integer",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "email",
    "url",
    "enum",
    "reference",
    "json",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventType {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema 2020-12 of the whole envelope.
    pub schema: Value,
    /// A whole envelope of this type.
    pub example: Value,
}

/// Every event type, in a stable order.
pub fn catalog() -> &'static [EventType] {
    static CATALOG: OnceLock<Vec<EventType>> = OnceLock::new();
    CATALOG.get_or_init(build)
}

/// Whether a (valid) subscription pattern matches at least one known event type.
pub fn pattern_matches_any(pattern: &str) -> bool {
    catalog().iter().any(|t| type_matches(pattern, t.name))
}

fn event(name: &'static str, description: &'static str, data: Value, example_data: Value) -> EventType {
    let schema = json!({
        "$schema": SCHEMA_DIALECT,
        "title": name,
        "description": description,
        "type": "object",
        "required": ["id", "type", "tenant", "time", "data"],
        "properties": {
            "id": {"type": "string", "pattern": EVENT_ID, "description": "Stable across retries; use it to deduplicate."},
            "type": {"const": name},
            "tenant": {"type": "string", "pattern": TENANT_ID},
            "time": {"type": "string", "format": "date-time", "description": "When the change happened (UTC)."},
            "data": data
        }
    });
    let example = json!({
        "id": "evt_01JH3Q0W9ZK7M8T3V7X6B2N4PQ",
        "type": name,
        "tenant": "acme",
        "time": "2026-01-15T09:30:00.000Z",
        "data": example_data
    });
    EventType { name, description, schema, example }
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

fn record_schema() -> Value {
    object(
        &["id", "entity", "attributes", "version", "created_at", "updated_at", "created_by", "updated_by"],
        json!({
            "id": {"type": "string", "pattern": RECORD_ID},
            "entity": {"type": "string", "pattern": MODEL_NAME},
            "attributes": {"type": "object", "description": "The tenant-defined fields; sensitive fields are left out."},
            "version": {"type": "integer", "minimum": 1},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "created_by": {"type": "string"},
            "updated_by": {"type": "string"}
        }),
    )
}

fn record_data(extra_required: &[&str], extra: Value) -> Value {
    let mut required = vec!["entity", "id", "record"];
    required.extend_from_slice(extra_required);
    let mut properties = json!({
        "entity": {"type": "string", "pattern": MODEL_NAME},
        "id": {"type": "string", "pattern": RECORD_ID},
        "record": record_schema()
    });
    properties.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
    object(&required, properties)
}

fn example_record(version: u64, status: &str) -> Value {
    json!({
        "id": "01JH3PZK4T8V6X2N9Q5R7M3B1C",
        "entity": "contact",
        "attributes": {"email": "ann@example.com", "name": "Ann Lee", "status": status},
        "version": version,
        "created_at": "2026-01-10T12:00:00.000Z",
        "updated_at": "2026-01-15T09:30:00.000Z",
        "created_by": "apikey:key_01JH0000000000000000000000",
        "updated_by": "user:ann"
    })
}

fn model_schema() -> Value {
    let field = object(
        &["name", "type"],
        json!({
            "name": {"type": "string", "pattern": MODEL_NAME},
            "type": {"enum": FIELD_TYPES},
            "label": {"type": "string"},
            "description": {"type": "string"},
            "required": {"type": "boolean"},
            "unique": {"type": "boolean"},
            "default": {},
            "min": {"type": "number"},
            "max": {"type": "number"},
            "max_length": {"type": "integer", "minimum": 1},
            "pattern": {"type": "string"},
            "sensitive": {"type": "boolean"},
            "values": {"type": "array", "items": {"type": "string"}},
            "target": {"type": "string", "pattern": MODEL_NAME}
        }),
    );
    let deprecation = object(
        &["since"],
        json!({
            "since": {"type": "string", "format": "date-time"},
            "sunset": {"type": "string", "format": "date-time"},
            "link": {"type": "string", "format": "uri"}
        }),
    );
    object(
        &["name", "label", "fields", "version", "created_at", "updated_at"],
        json!({
            "name": {"type": "string", "pattern": MODEL_NAME},
            "label": {"type": "string"},
            "description": {"type": "string"},
            "fields": {"type": "array", "items": field},
            "deprecation": deprecation,
            "version": {"type": "integer", "minimum": 1},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"}
        }),
    )
}

fn model_data() -> Value {
    object(
        &["name", "version", "model"],
        json!({
            "name": {"type": "string", "pattern": MODEL_NAME},
            "version": {"type": "integer", "minimum": 1},
            "model": model_schema()
        }),
    )
}

fn example_model(version: u64) -> Value {
    let mut fields = vec![
        json!({"name": "email", "type": "email", "required": true, "unique": true}),
        json!({"name": "name", "type": "string", "max_length": 200}),
        json!({"name": "ssn", "type": "string", "sensitive": true}),
    ];
    if version > 1 {
        fields.push(json!({"name": "status", "type": "enum", "values": ["lead", "customer"], "default": "lead"}));
    }
    json!({
        "name": "contact",
        "version": version,
        "model": {
            "name": "contact", "label": "Contact", "fields": fields, "version": version,
            "created_at": "2026-01-10T12:00:00.000Z", "updated_at": "2026-01-15T09:30:00.000Z"
        }
    })
}

fn id(prefix: &str) -> Value {
    json!({"type": "string", "pattern": format!("^{prefix}_[0-9A-HJKMNP-TV-Z]{{26}}$")})
}

/// The data of an export's outcome: the export, what it exported, the template it came from, and `extra`.
fn export_data(extra_required: &[&str], extra: Value) -> Value {
    let mut required = vec!["id", "entity", "format", "template_id"];
    required.extend_from_slice(extra_required);
    let mut properties = json!({
        "id": id("exp"),
        "entity": {"type": "string", "pattern": MODEL_NAME},
        "format": {"enum": ["csv", "xlsx", "json", "ndjson", "xml"]},
        "template_id": {"oneOf": [id("tpl"), {"type": "null"}], "description": "The template it was made from, if any."}
    });
    properties.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
    object(&required, properties)
}

fn build() -> Vec<EventType> {
    let change = json!({"oneOf": [
        object(&["from", "to"], json!({"from": {}, "to": {}})),
        object(&["redacted"], json!({"redacted": {"const": true}}))
    ]});
    let changes = json!({
        "type": "object",
        "description": "Changed field → {from, to} (null where absent); sensitive fields show {redacted: true}.",
        "additionalProperties": change
    });
    vec![
        event(
            "record.created",
            "A record was created.",
            record_data(&[], json!({})),
            json!({"entity": "contact", "id": "01JH3PZK4T8V6X2N9Q5R7M3B1C", "record": example_record(1, "lead")}),
        ),
        event(
            "record.updated",
            "A record changed; `changes` lists what changed.",
            record_data(&["changes"], json!({"changes": changes})),
            json!({"entity": "contact", "id": "01JH3PZK4T8V6X2N9Q5R7M3B1C", "record": example_record(2, "customer"),
                "changes": {"status": {"from": "lead", "to": "customer"}, "ssn": {"redacted": true}}}),
        ),
        event(
            "record.deleted",
            "A record was deleted; `record` is its last state.",
            record_data(&["deleted_by"], json!({"deleted_by": {"type": "string"}})),
            json!({"entity": "contact", "id": "01JH3PZK4T8V6X2N9Q5R7M3B1C", "record": example_record(2, "customer"),
                "deleted_by": "user:ann"}),
        ),
        event("model.created", "A model (entity) was defined.", model_data(), example_model(1)),
        event("model.updated", "A model's definition changed.", model_data(), example_model(2)),
        event("model.deleted", "A model was deleted; `model` is its last definition.", model_data(), example_model(2)),
        event(
            "webhook.ping",
            "A test event sent on request to check an endpoint.",
            object(&["endpoint_id", "message"], json!({"endpoint_id": id("ep"), "message": {"type": "string"}})),
            json!({"endpoint_id": "ep_01JH3Q1A2B3C4D5E6F7G8H9J0K", "message": "Test event from HubbleWave"}),
        ),
        event(
            "webhook.delivery.exhausted",
            "A delivery failed on every attempt its retry policy allows and was given up.",
            object(
                &["endpoint_id", "delivery_id", "event_id", "event_type", "attempts", "reason"],
                json!({
                    "endpoint_id": id("ep"), "delivery_id": id("msg"), "event_id": id("evt"),
                    "event_type": {"type": "string"}, "attempts": {"type": "integer", "minimum": 1},
                    "reason": {"type": "string", "description": "The last attempt's error or status."}
                }),
            ),
            json!({"endpoint_id": "ep_01JH3Q1A2B3C4D5E6F7G8H9J0K", "delivery_id": "msg_01JH3Q0W9ZK7M8T3V7X6B2N4PR",
                "event_id": "evt_01JH3Q0W9ZK7M8T3V7X6B2N4PR", "event_type": "record.created", "attempts": 8,
                "reason": "HTTP 503"}),
        ),
        event(
            "webhook.endpoint.disabled",
            "An endpoint was disabled: the receiver answered 410 Gone, or it kept failing for too long.",
            object(
                &["endpoint_id", "url", "reason", "failing_since"],
                json!({
                    "endpoint_id": id("ep"), "url": {"type": "string", "format": "uri"},
                    "reason": {"enum": ["gone", "failing"]},
                    "failing_since": {"type": ["string", "null"], "format": "date-time"}
                }),
            ),
            json!({"endpoint_id": "ep_01JH3Q1A2B3C4D5E6F7G8H9J0K", "url": "https://hooks.example.com/hubble",
                "reason": "failing", "failing_since": "2026-01-10T09:30:00.000Z"}),
        ),
        event(
            "export.completed",
            "An export finished and its file is ready. The event carries no download link (links expire after 15 \
             minutes; events are retried and replayed for longer): `GET /v1/exports/{id}` answers a fresh one.",
            export_data(
                &["rows", "bytes", "file_name"],
                json!({
                    "rows": {"type": "integer", "minimum": 0, "description": "Records in the file."},
                    "bytes": {"type": "integer", "minimum": 0, "description": "Size of the file."},
                    "file_name": {"type": "string"}
                }),
            ),
            json!({"id": "exp_01JH3Q0W9ZK7M8T3V7X6B2N4PQ", "entity": "contact", "format": "csv", "rows": 1250,
                "bytes": 98304, "file_name": "contact-20260115T093000Z.csv", "template_id": null}),
        ),
        event(
            "export.failed",
            "An export failed; `reason` says why (the entity was deleted, the query no longer fits the model, more \
             records than a sorted export can hold, or the platform gave up after repeated errors).",
            export_data(&["reason"], json!({"reason": {"type": "string"}})),
            json!({"id": "exp_01JH3Q0W9ZK7M8T3V7X6B2N4PQ", "entity": "contact", "format": "xlsx",
                "template_id": "tpl_01JH3Q1A2B3C4D5E6F7G8H9J0K", "reason": "the entity `contact` no longer exists"}),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use hw_domain::event::Envelope;
    use hw_domain::model::Model;
    use hw_domain::record::{Record, diff};
    use serde_json::Map;

    use super::*;

    fn validator(t: &EventType) -> jsonschema::Validator {
        jsonschema::meta::validate(&t.schema).unwrap_or_else(|e| panic!("{}: the schema is not 2020-12: {e}", t.name));
        jsonschema::options().should_validate_formats(true).build(&t.schema).unwrap()
    }

    fn problems(t: &EventType, instance: &Value) -> Vec<String> {
        validator(t).iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    fn schema_of(name: &str) -> &'static EventType {
        catalog().iter().find(|t| t.name == name).unwrap_or_else(|| panic!("{name} is not in the catalog"))
    }

    #[test]
    fn every_example_validates_against_its_schema() {
        for t in catalog() {
            assert_eq!(t.schema["$schema"], SCHEMA_DIALECT);
            assert_eq!(t.example["type"], t.name);
            assert_eq!(problems(t, &t.example), Vec::<String>::new(), "{}", t.name);
        }
    }

    #[test]
    fn names_are_unique_valid_and_match_themselves() {
        let names: HashSet<&str> = catalog().iter().map(|t| t.name).collect();
        assert_eq!(names.len(), catalog().len());
        assert_eq!(catalog().len(), 11);
        for t in catalog() {
            assert_eq!(crate::matching::validate_pattern(t.name), Ok(()), "{}", t.name);
            assert!(type_matches(t.name, t.name), "{}", t.name);
            assert!(!t.description.is_empty());
        }
        assert!(std::ptr::eq(catalog(), catalog()), "the catalog is built once");
    }

    #[test]
    fn patterns_are_checked_against_the_catalog() {
        for p in [
            "*",
            "record.*",
            "model.deleted",
            "webhook.*",
            "webhook.delivery.*",
            "webhook.endpoint.disabled",
            "export.*",
        ] {
            assert!(pattern_matches_any(p), "{p}");
        }
        for p in ["order.*", "record.archived", "webhook.delivery", "model"] {
            assert!(!pattern_matches_any(p), "{p}");
        }
    }

    #[test]
    fn schemas_refuse_what_is_not_the_event() {
        let created = schema_of("record.created");
        let mut wrong_type = created.example.clone();
        wrong_type["type"] = json!("record.updated");
        let mut bad_time = created.example.clone();
        bad_time["time"] = json!("yesterday");
        let mut no_record = created.example.clone();
        no_record["data"].as_object_mut().unwrap().remove("record");
        let mut bad_version = created.example.clone();
        bad_version["data"]["record"]["version"] = json!(0);
        for (what, instance) in
            [("type", wrong_type), ("time", bad_time), ("record", no_record), ("version", bad_version)]
        {
            assert!(!problems(created, &instance).is_empty(), "a wrong {what} must be refused");
        }
        let disabled = schema_of("webhook.endpoint.disabled");
        let mut never_failing = disabled.example.clone();
        never_failing["data"]["reason"] = json!("gone");
        never_failing["data"]["failing_since"] = Value::Null;
        assert!(problems(disabled, &never_failing).is_empty());
        never_failing["data"]["reason"] = json!("manual");
        assert!(!problems(disabled, &never_failing).is_empty());
    }

    /// Envelopes built the way the store builds them (`records.rs`, `models.rs`) validate, so the catalog follows
    /// what is really emitted.
    #[test]
    fn events_shaped_like_the_stores_validate() {
        let attributes = |status: &str| {
            Map::from_iter([("email".to_owned(), json!("bo@example.com")), ("status".to_owned(), json!(status))])
        };
        let now = hw_domain::event::now_rfc3339();
        let before = Record {
            id: hw_domain::ids::new_id(),
            entity: "contact".into(),
            attributes: attributes("lead"),
            version: 1,
            created_at: now.clone(),
            updated_at: now.clone(),
            created_by: "apikey:key_1".into(),
            updated_by: "apikey:key_1".into(),
        };
        let after = Record { attributes: attributes("customer"), version: 2, ..before.clone() };
        let mut changes = diff(&before.attributes, &after.attributes);
        changes.insert("ssn".into(), json!({"redacted": true}));
        let (entity, id) = ("contact", before.id.clone());
        let model: Model = serde_json::from_value(json!({"name": "contact", "label": "Contact", "version": 3,
            "created_at": now, "updated_at": now, "fields": [{"name": "email", "type": "email", "required": true},
            {"name": "company", "type": "reference", "target": "company"}]}))
        .unwrap();
        let model_data = json!({"name": model.name, "version": model.version, "model": model});
        let events = [
            Envelope::new("record.created", "acme", json!({"entity": entity, "id": id, "record": before})),
            Envelope::new(
                "record.updated",
                "acme",
                json!({"entity": entity, "id": id, "record": after, "changes": changes}),
            ),
            Envelope::new(
                "record.deleted",
                "acme",
                json!({"entity": entity, "id": id, "record": after, "deleted_by": "user:bo"}),
            ),
            Envelope::new("model.created", "acme", model_data.clone()),
            Envelope::new("model.updated", "acme", model_data.clone()),
            Envelope::new("model.deleted", "acme", model_data),
        ];
        for e in events {
            let instance = serde_json::to_value(&e).unwrap();
            assert_eq!(problems(schema_of(&e.event_type), &instance), Vec::<String>::new(), "{instance}");
        }
    }

    #[test]
    fn the_catalog_serialises_for_the_api() {
        let v = serde_json::to_value(&catalog()[0]).unwrap();
        assert_eq!(v["name"], "record.created");
        assert!(v["schema"].is_object() && v["example"].is_object() && v["description"].is_string());
    }
}
