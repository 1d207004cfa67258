//! Schemas that do not depend on a tenant's models: error bodies, management resources, generic JSON:API documents.

use hw_domain::model::{MAX_FIELDS, STRING_HARD_MAX, TEXT_HARD_MAX};
use hw_domain::validate::NUMBER_MAX_MAGNITUDE;
use serde_json::{Value, json};

pub fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// Lowercase identifiers: model and field names.
pub const NAME_PATTERN: &str = "^[a-z][a-z0-9_]{0,62}$";
/// Record ids, generated (ULIDs) or supplied by clients.
pub const RECORD_ID_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$";
/// Scopes a key may hold.
// The `data:sensitive` alternative is appended (`old|new`), so the pattern provably only widens.
pub const SCOPE_PATTERN: &str = "^(admin|models:write|data:read|data:write|data:(read|write):[a-z][a-z0-9_]{0,62})$|^data:sensitive(:[a-z][a-z0-9_]{0,62})?$";

fn date_time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

pub fn shared() -> Value {
    let mut s = json!({
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details.",
            "required": ["type", "title", "status"],
            "properties": {
                "type": {"type": "string", "format": "uri", "description": "Stable problem type, `https://docs.hubblewave.dev/problems/<slug>`."},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "instance": {"type": "string", "description": "The path of the request."},
                "request_id": {"type": "string"},
                "parameter": {"type": "string", "description": "The query parameter at fault."},
                "errors": {"type": "array", "items": schema_ref("ProblemFieldError")}
            }
        },
        "ProblemFieldError": {
            "type": "object",
            "required": ["pointer", "code", "detail"],
            "properties": {
                "pointer": {"type": "string", "description": "JSON pointer into the request body."},
                "code": {"type": "string"},
                "detail": {"type": "string"}
            }
        },
        "JsonApiVersion": {
            "type": "object", "required": ["version"],
            "properties": {"version": {"type": "string", "enum": ["1.1"]}}
        },
        "JsonApiErrors": {
            "type": "object",
            "description": "A JSON:API error document: one error per problem, each pointing at its source.",
            "required": ["errors"],
            "properties": {
                "jsonapi": schema_ref("JsonApiVersion"),
                "errors": {"type": "array", "minItems": 1, "items": schema_ref("JsonApiError")}
            }
        },
        "JsonApiError": {
            "type": "object",
            "required": ["status", "code", "title"],
            "properties": {
                "id": {"type": "string", "description": "The request id."},
                "status": {"type": "string", "pattern": "^[45][0-9]{2}$"},
                "code": {"type": "string"},
                "title": {"type": "string"},
                "detail": {"type": "string"},
                "source": {"type": "object", "properties": {
                    "pointer": {"type": "string", "description": "JSON pointer into the request document."},
                    "parameter": {"type": "string", "description": "The query parameter at fault."}}},
                "links": {"type": "object", "properties": {"type": {"type": "string", "format": "uri"}}}
            }
        },
        "Health": {
            "type": "object", "required": ["status", "checks"],
            "properties": {
                "status": {"type": "string", "enum": ["up", "down"]},
                "checks": {"type": "object", "additionalProperties": {
                    "type": "object", "required": ["status", "latency_ms"],
                    "properties": {"status": {"type": "string", "enum": ["up", "down"]},
                                   "latency_ms": {"type": "number", "minimum": 0},
                                   "error": {"type": "string"}}}}
            }
        },
        "FieldType": {
            "type": "string",
            "enum": ["string", "text", "integer", "decimal", "boolean", "date", "datetime", "email", "url", "enum", "reference", "json"]
        },
        "FieldDef": {
            "type": "object",
            "description": "One field. Options apply to some types only (`values` to enum, `target` to reference, `min`/`max` to numbers, `max_length`/`pattern` to textual types); others are refused with 422.",
            "required": ["name", "type"],
            "additionalProperties": false,
            "properties": {
                "name": {"type": "string", "pattern": NAME_PATTERN},
                "type": schema_ref("FieldType"),
                "label": {"type": ["string", "null"]},
                "description": {"type": ["string", "null"]},
                "required": {"type": "boolean"},
                "unique": {"type": "boolean"},
                "default": {"description": "Validated against the field; not on unique fields or references."},
                "min": {"type": ["number", "null"], "minimum": -NUMBER_MAX_MAGNITUDE, "maximum": NUMBER_MAX_MAGNITUDE},
                "max": {"type": ["number", "null"], "minimum": -NUMBER_MAX_MAGNITUDE, "maximum": NUMBER_MAX_MAGNITUDE},
                "max_length": {"type": ["integer", "null"], "minimum": 1, "maximum": TEXT_HARD_MAX,
                               "description": format!("At most {STRING_HARD_MAX} for string, email and url; {TEXT_HARD_MAX} for text.")},
                "pattern": {"type": ["string", "null"], "maxLength": 512, "description": "A regular expression the whole value must match."},
                "sensitive": {"type": "boolean", "description": "Encrypted at rest; never in events."},
                "values": {"type": ["array", "null"], "minItems": 1, "maxItems": 500, "uniqueItems": true,
                           "items": {"type": "string", "minLength": 1, "maxLength": 200}},
                "target": {"type": ["string", "null"], "pattern": NAME_PATTERN}
            }
        },
        "ModelDeprecation": {
            "type": "object", "required": ["since"],
            "properties": {
                "since": date_time(),
                "sunset": date_time(),
                "link": {"type": "string", "format": "uri"}
            }
        },
        "ModelDeprecationInput": {
            "type": ["object", "null"], "required": ["since"],
            "description": "Set to retire the entity; `null` or absent: not deprecated.",
            "properties": {
                "since": date_time(),
                "sunset": {"type": ["string", "null"], "format": "date-time"},
                "link": {"type": ["string", "null"], "format": "uri"}
            }
        },
        "ModelInput": {
            "type": "object",
            "required": ["name", "fields"],
            "additionalProperties": false,
            "properties": {
                "name": {"type": "string", "pattern": NAME_PATTERN},
                "label": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
                "description": {"type": ["string", "null"]},
                "fields": {"type": "array", "minItems": 1, "maxItems": MAX_FIELDS, "items": schema_ref("FieldDef")},
                "deprecation": schema_ref("ModelDeprecationInput")
            }
        },
        "Model": {
            "type": "object",
            "required": ["name", "label", "fields", "version", "created_at", "updated_at"],
            "properties": {
                "name": {"type": "string", "pattern": NAME_PATTERN},
                "label": {"type": "string"},
                "description": {"type": "string"},
                "fields": {"type": "array", "items": schema_ref("FieldDef")},
                "version": {"type": "integer", "minimum": 1},
                "created_at": date_time(),
                "updated_at": date_time(),
                "deprecation": schema_ref("ModelDeprecation")
            }
        },
        "ModelList": {
            "type": "object", "required": ["data"],
            "properties": {"data": {"type": "array", "items": schema_ref("Model")}}
        },
        "ApiKey": {
            "type": "object",
            "required": ["id", "tenant", "name", "scopes", "created_at", "revoked"],
            "properties": {
                "id": {"type": "string"},
                "tenant": {"type": "string"},
                "name": {"type": "string"},
                "scopes": {"type": "array", "items": {"type": "string"}},
                "created_at": date_time(),
                "expires_at": date_time(),
                "revoked": {"type": "boolean"},
                "last_used_at": date_time(),
                "rate_limit_per_minute": {"type": "integer", "minimum": 1, "maximum": 100_000},
                "rotated_from": {"type": "string"},
                "rotated_to": {"type": "string"}
            }
        },
        "ApiKeyWithSecret": {
            "description": "A key and, this once, its secret.",
            "allOf": [schema_ref("ApiKey"), {"type": "object", "required": ["secret"],
                      "properties": {"secret": {"type": "string", "pattern": "^hw_[A-Za-z0-9_-]{43}$"}}}]
        },
        "ApiKeyList": {
            "type": "object", "required": ["data"],
            "properties": {"data": {"type": "array", "items": schema_ref("ApiKey")}}
        },
        "NewApiKey": {
            "type": "object",
            "required": ["name", "scopes"],
            "additionalProperties": false,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
                "scopes": {"type": "array", "items": {"type": "string", "pattern": SCOPE_PATTERN}},
                "expires_at": {"type": ["string", "null"], "format": "date-time", "description": "Must be in the future; null or absent: never expires."},
                "rate_limit_per_minute": {"type": "integer", "minimum": 1, "maximum": 100_000}
            }
        },
        "RotateApiKey": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "overlap_seconds": {"type": ["integer", "null"], "minimum": 0, "maximum": 604_800, "default": 3600,
                                    "description": "How long the old key keeps working; `null` (or leaving it out) takes the default."}
            }
        },
        "AuditEvent": {
            "type": "object",
            "required": ["id", "time", "actor", "action", "method", "route", "path", "status", "outcome", "request_id"],
            "properties": {
                "id": {"type": "string"},
                "time": date_time(),
                "actor": {"type": "string"},
                "action": {"type": "string"},
                "method": {"type": "string"},
                "route": {"type": "string"},
                "path": {"type": "string"},
                "target": {"type": "object", "required": ["type", "id"],
                           "properties": {"type": {"type": "string"}, "id": {"type": "string"}}},
                "status": {"type": "integer"},
                "outcome": {"type": "string", "enum": ["success", "failure"]},
                "request_id": {"type": "string"}
            }
        },
        "AuditPage": {
            "type": "object", "required": ["data", "links"],
            "properties": {"data": {"type": "array", "items": schema_ref("AuditEvent")},
                           "links": schema_ref("PageLinks")}
        },
        "UsageFigures": {
            "type": "object",
            "required": ["requests", "errors_4xx", "errors_5xx", "error_rate", "rate_limited", "auth_failures", "latency_ms"],
            "properties": {
                "requests": {"type": "integer", "minimum": 0},
                "errors_4xx": {"type": "integer", "minimum": 0},
                "errors_5xx": {"type": "integer", "minimum": 0},
                "error_rate": {"type": "number", "minimum": 0, "maximum": 1},
                "rate_limited": {"type": "integer", "minimum": 0},
                "auth_failures": {"type": "integer", "minimum": 0},
                "latency_ms": {"type": "object", "required": ["p50", "p95", "p99"],
                    "description": "Percentiles from a histogram with 10 % buckets (within 5 %); all 0 when there were no requests.",
                    "properties": {
                    "p50": {"type": "number", "minimum": 0}, "p95": {"type": "number", "minimum": 0},
                    "p99": {"type": "number", "minimum": 0}}}
            }
        },
        "UsageRow": {
            "allOf": [schema_ref("UsageFigures"),
                      {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}}}]
        },
        "UsageReport": {
            "type": "object", "required": ["from", "to", "group_by", "data", "totals"],
            "properties": {
                "from": date_time(), "to": date_time(),
                "group_by": {"type": "string", "enum": ["route", "client", "status"]},
                "data": {"type": "array", "items": schema_ref("UsageRow")},
                "totals": schema_ref("UsageFigures")
            }
        },
        "PageLinks": {
            "type": "object", "required": ["self"],
            "properties": {"self": {"type": "string", "format": "uri"},
                           "next": {"type": "string", "format": "uri", "description": "The next page; absent on the last."}}
        },
        "OpenApiDocument": {
            "type": "object", "required": ["openapi", "info", "paths"],
            "properties": {"openapi": {"type": "string"}, "info": {"type": "object"}, "paths": {"type": "object"}}
        }
    });
    for (name, schema) in super::data::generic_schemas() {
        s[name] = schema;
    }
    for (name, schema) in super::webhooks::schemas() {
        s[name] = schema;
    }
    for (name, schema) in super::imports::schemas() {
        s[name] = schema;
    }
    for (name, schema) in super::exports::schemas() {
        s[name] = schema;
    }
    for (name, schema) in super::users::schemas() {
        s[name] = schema;
    }
    for (name, schema) in super::graphql::schemas() {
        s[name] = schema;
    }
    for (name, schema) in super::oauth::schemas() {
        s[name] = schema;
    }
    s
}
