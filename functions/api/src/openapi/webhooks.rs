//! Webhook routes (`/v1/webhooks`, `/v1/event-types`) and their schemas: management routes, so `application/json`
//! bodies and problem+json errors, scope `admin` except the catalog.

use serde_json::{Map, Value, json};

use super::common::{Errors::Problem as P, Op};
use super::schemas::{NAME_PATTERN, schema_ref};
use crate::http::JSON;

const TAG: &str = "Webhooks";
/// An event type pattern, as `hw_webhooks::matching::validate_pattern` accepts it.
pub const EVENT_PATTERN: &str = "^(\\*|[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*(\\.\\*)?)$";
/// An HTTP token (RFC 9110 §5.6.2): the grammar of header names.
const TOKEN_PATTERN: &str = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/// A header value: no line breaks or other control characters (tabs are fine).
const HEADER_VALUE_PATTERN: &str = "^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f]*$";
const SECRET_PATTERN: &str = "^whsec_[A-Za-z0-9+/]+={0,2}$";

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn endpoint_example() -> Value {
    json!({"url": "https://example.com/webhooks/hubblewave", "event_types": ["record.created", "record.updated"],
           "description": "CRM sync", "entities": ["contact"],
           "payload_filter": {"data.record.attributes.tier": {"in": ["pro", "enterprise"]}},
           "headers": {"X-Team": "sales"}, "rate_limit_per_second": 20, "timeout_seconds": 10,
           "retry_policy": {"strategy": "exponential", "max_attempts": 6, "initial_delay_seconds": 10,
                            "multiplier": 3, "max_delay_seconds": 3600}})
}

pub fn paths() -> Map<String, Value> {
    let mut p = Map::new();
    let endpoint = || Some((JSON, schema_ref("WebhookEndpoint")));
    let id = path_param("id", "The endpoint's id (`ep_...`).");
    let delivery_id =
        path_param("delivery_id", "The delivery's id (`msg_...`), the `webhook-id` header it was sent with.");
    let by_id = json!({"id": "$response.body#/id"});
    let endpoint_links = |op: Op| {
        op.link(201, "GetWebhook", "getWebhook", by_id.clone())
            .link(201, "UpdateWebhook", "updateWebhook", by_id.clone())
            .link(201, "DeleteWebhook", "deleteWebhook", by_id.clone())
            .link(201, "GetWebhookSecret", "getWebhookSecret", by_id.clone())
            .link(201, "RotateWebhookSecret", "rotateWebhookSecret", by_id.clone())
            .link(201, "TestWebhook", "testWebhook", by_id.clone())
            .link(201, "ListWebhookDeliveries", "listWebhookDeliveries", by_id.clone())
    };
    p.insert("/v1/webhooks".into(), json!({
        "get": Op::new("listWebhooks", TAG, "List the tenant's webhook endpoints")
            .description("Needs `admin`. Oldest first. Signing secrets are not part of an endpoint; see `GET /v1/webhooks/{id}/secret`.")
            .ok(200, "The endpoints.", Some((JSON, schema_ref("WebhookEndpointList"))), &[])
            .errors(P, &[401, 403, 429, 503])
            .build(),
        "post": endpoint_links(Op::new("createWebhook", TAG, "Create a webhook endpoint")
            .description("Needs `admin`. The URL must be https and must not point at a private, loopback or link-local address (a local stack allows both). Every event type pattern must match at least one type of `GET /v1/event-types`. A tenant has at most 100 endpoints. The answer carries the signing secret (`Cache-Control: no-store`); give your own with `secret`, else one is generated. Every invalid member is reported at once (422, with a JSON pointer each).")
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("WebhookEndpointInput"), Some(endpoint_example()), true)
            .ok(201, "The endpoint, at version 1, with its signing secret.", Some((JSON, schema_ref("WebhookEndpointWithSecret"))), &["ETag", "Location", "Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 409, 413, 415, 422, 429, 503]))
            .build(),
    }));
    p.insert("/v1/webhooks/{id}".into(), json!({
        "parameters": [id.clone()],
        "get": Op::new("getWebhook", TAG, "Read a webhook endpoint")
            .ok(200, "The endpoint.", endpoint(), &["ETag"])
            .errors(P, &[401, 403, 404, 429, 503])
            .build(),
        "patch": Op::new("updateWebhook", TAG, "Change a webhook endpoint")
            .description("Needs `admin`. Members left out keep their value; `null` clears `payload_filter`, `transform`, `rate_limit_per_second` and `max_concurrency`. `enabled: true` re-enables a disabled endpoint and clears its disabled state and failure run; `enabled: false` disables it (`disabled_reason: manual`). Rotate the secret with `POST /v1/webhooks/{id}/rotate-secret`.")
            .param_ref("IfMatch")
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("WebhookEndpointUpdate"), Some(json!({"enabled": true, "event_types": ["record.*"]})), true)
            .ok(200, "The endpoint, one version later.", endpoint(), &["ETag"])
            .errors(P, &[400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503])
            .build(),
        "delete": Op::new("deleteWebhook", TAG, "Delete a webhook endpoint")
            .description("Needs `admin`. Deliveries stop at once; the delivery log expires with its retention.")
            .param_ref("IfMatch")
            .ok(204, "Deleted.", None, &[])
            .errors(P, &[400, 401, 403, 404, 412, 429, 503])
            .build(),
    }));
    p.insert("/v1/webhooks/{id}/secret".into(), json!({
        "parameters": [id.clone()],
        "get": Op::new("getWebhookSecret", TAG, "Read the endpoint's signing secret")
            .description("Needs `admin`. The secret that signs first (`Cache-Control: no-store`). During a rotation the previous one signs too, until `secret_rotation.previous_expires_at`.")
            .ok(200, "The current secret.", Some((JSON, schema_ref("WebhookSecret"))), &[])
            .errors(P, &[401, 403, 404, 429, 503])
            .build(),
    }));
    p.insert("/v1/webhooks/{id}/rotate-secret".into(), json!({
        "parameters": [id.clone()],
        "post": Op::new("rotateWebhookSecret", TAG, "Rotate the endpoint's signing secret")
            .description("Needs `admin`. The new secret signs first from now on; the previous one keeps signing until the grace period ends (0: at once), so requests carry both signatures meanwhile. Secrets past their grace period are dropped; at most three are kept. The body is optional.")
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("RotateWebhookSecret"), Some(json!({"grace_period_seconds": 3600})), false)
            .ok(200, "The new secret.", Some((JSON, schema_ref("WebhookSecretRotation"))), &["Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 404, 409, 413, 415, 422, 429, 503])
            .build(),
    }));
    let delivery_links = |op: Op| {
        let params = json!({"id": "$request.path.id", "delivery_id": "$response.body#/delivery/id"});
        op.link(200, "GetWebhookDelivery", "getWebhookDelivery", params.clone())
            .link(200, "ListWebhookDeliveryAttempts", "listWebhookDeliveryAttempts", params.clone())
            .link(200, "ResendWebhookDelivery", "resendWebhookDelivery", params)
    };
    p.insert("/v1/webhooks/{id}/test".into(), json!({
        "parameters": [id.clone()],
        "post": delivery_links(Op::new("testWebhook", TAG, "Send a test event to the endpoint")
            .description("Needs `admin`. Sends one signed `webhook.ping` now (waiting at most 10 s), without retries, and records it in the delivery log. Answers 200 whatever the receiver answered: `delivery.status` and the attempt tell how it went.")
            .param_ref("IdempotencyKey")
            .ok(200, "The test delivery and its attempt.", Some((JSON, schema_ref("WebhookTestResult"))), &["Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 404, 409, 422, 429, 503]))
            .build(),
    }));
    p.insert("/v1/webhooks/{id}/replay".into(), json!({
        "parameters": [id.clone()],
        "post": Op::new("replayWebhookDeliveries", TAG, "Send failed deliveries again")
            .description("Needs `admin`. Every failed delivery of an event at or after `since` (and before `until`) starts a new retry cycle now, at most 1000 per call; `more: true` means call again. Refused with 409 while the endpoint is disabled.")
            .param_ref("IdempotencyKey")
            .body(JSON, schema_ref("WebhookReplay"), Some(json!({"since": "2026-11-24T00:00:00Z"})), true)
            .ok(202, "The deliveries are queued.", Some((JSON, schema_ref("WebhookReplayResult"))), &["Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 404, 409, 413, 415, 422, 429, 503])
            .build(),
    }));
    p.insert("/v1/webhooks/{id}/deliveries".into(), json!({
        "parameters": [id.clone()],
        "get": Op::new("listWebhookDeliveries", TAG, "The endpoint's delivery log")
            .description("Needs `admin`. Newest first, in cursor pages; kept for the delivery log's retention (30 days by default).")
            .param(query("status", "Only deliveries in this state.", json!({"type": "string", "enum": ["pending", "delivered", "failed"]})))
            .param(query("since", "Only deliveries of events at or after this time (RFC 3339).", json!({"type": "string", "format": "date-time"})))
            .param(query("page[size]", "Deliveries per page.", json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20})))
            .param(query("page[cursor]", "The opaque cursor of `links.next`.", json!({"type": "string"})))
            .ok(200, "A page of deliveries.", Some((JSON, schema_ref("WebhookDeliveryPage"))), &[])
            .errors(P, &[400, 401, 403, 404, 429, 503])
            .build(),
    }));
    p.insert(
        "/v1/webhooks/{id}/deliveries/{delivery_id}".into(),
        json!({
            "parameters": [id.clone(), delivery_id.clone()],
            "get": Op::new("getWebhookDelivery", TAG, "Read a delivery with its body and attempts")
                .ok(200, "The delivery.", Some((JSON, schema_ref("WebhookDeliveryDetail"))), &[])
                .errors(P, &[401, 403, 404, 429, 503])
                .build(),
        }),
    );
    p.insert("/v1/webhooks/{id}/deliveries/{delivery_id}/attempts".into(), json!({
        "parameters": [id.clone(), delivery_id.clone()],
        "get": Op::new("listWebhookDeliveryAttempts", TAG, "The attempts of a delivery")
            .description("Needs `admin`. Oldest first: each request made, with the receiver's answer or why there was none.")
            .ok(200, "The attempts.", Some((JSON, schema_ref("WebhookAttemptList"))), &[])
            .errors(P, &[401, 403, 404, 429, 503])
            .build(),
    }));
    p.insert("/v1/webhooks/{id}/deliveries/{delivery_id}/resend".into(), json!({
        "parameters": [id, delivery_id],
        "post": Op::new("resendWebhookDelivery", TAG, "Send a delivery again")
            .description("Needs `admin`. A delivered or failed delivery starts a new retry cycle now. Refused with 409 `delivery-pending` while its retries still run, and with 409 while the endpoint is disabled.")
            .param_ref("IdempotencyKey")
            .ok(202, "The delivery, pending again.", Some((JSON, schema_ref("WebhookDelivery"))), &["Idempotent-Replayed"])
            .errors(P, &[400, 401, 403, 404, 409, 422, 429, 503])
            .build(),
    }));
    p.insert("/v1/event-types".into(), json!({
        "get": Op::new("listEventTypes", "Event types", "Event types webhooks can subscribe to")
            .description("Any valid key may read it. Each type with the JSON Schema (2020-12) of its whole envelope and an example.")
            .ok(200, "The catalog.", Some((JSON, schema_ref("EventTypeList"))), &[])
            .errors(P, &[401, 429, 503])
            .build(),
    }));
    p
}

fn date_time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn nullable_date_time() -> Value {
    json!({"type": ["string", "null"], "format": "date-time"})
}

fn list_of(name: &str) -> Value {
    json!({"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": schema_ref(name)}}})
}

/// The members an endpoint definition takes, for creation (`with_secret`) or a change.
fn endpoint_input(with_secret: bool) -> Value {
    let mut properties = json!({
        "url": {"type": "string", "minLength": 1, "maxLength": 2048,
                "description": "Where to send: an absolute https URL with a public host, without credentials."},
        "event_types": {"type": "array", "minItems": 1, "maxItems": 50,
                        "items": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": EVENT_PATTERN},
                        "description": "Patterns: `*`, an exact type (`record.created`) or a prefix with `.*` (`record.*`)."},
        "description": {"type": "string", "maxLength": 1000},
        "entities": {"type": "array", "maxItems": 100, "items": {"type": "string", "pattern": NAME_PATTERN},
                     "description": "Only record events of these entities (empty: all); other events pass."},
        "payload_filter": {"type": ["object", "null"],
                           "description": "Conditions on the event envelope, e.g. `{\"data.entity\": {\"eq\": \"contact\"}}`; operators eq, ne, gt, gte, lt, lte, in, contains, startsWith, exists; combinators `$or`, `$and`, `$not`."},
        "headers": {"type": "object", "maxProperties": 20,
                    "propertyNames": {"maxLength": 256, "pattern": TOKEN_PATTERN},
                    "additionalProperties": {"type": "string", "maxLength": 1024, "pattern": HEADER_VALUE_PATTERN},
                    "description": "Extra request headers. `Content-Type`, `Content-Length`, `Host`, `User-Agent`, `Connection`, `Transfer-Encoding` and `webhook-*` are the platform's."},
        "transform": {"description": "A JSON template of the body to send instead of the envelope: strings may hold `{{ path }}` placeholders into the event (`{{ . }}` is all of it). `null` or absent: the envelope."},
        "enabled": {"type": "boolean", "default": true},
        "rate_limit_per_second": {"type": ["integer", "null"], "minimum": 1, "maximum": 10000},
        "max_concurrency": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000,
                            "description": "Requests in flight to this endpoint at most."},
        "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 30, "default": 15},
        "disable_after_seconds": {"type": "integer", "minimum": 0, "maximum": 2592000, "default": 432000,
                                  "description": "How long the endpoint may fail without a success before it is disabled; 0: at the first failed attempt."},
        "retry_policy": schema_ref("WebhookRetryPolicy"),
    });
    if with_secret {
        properties["secret"] = json!({"type": "string",
            "description": "Your own signing secret, `whsec_` and the base64 of 24 to 64 random bytes; absent: one is generated."});
    }
    let mut s = json!({"type": "object", "additionalProperties": false, "properties": properties});
    if with_secret {
        s["required"] = json!(["url", "event_types"]);
    }
    s
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    let max_attempts = json!({"type": "integer", "minimum": 1, "maximum": 10, "default": 8});
    let delay = |d: &str| json!({"type": "integer", "minimum": 1, "maximum": 86400, "description": d});
    vec![
        (
            "WebhookRetryPolicy",
            json!({
                "description": "When failed deliveries are tried again. `standard`: after 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h. `exponential`: `initial_delay_seconds * multiplier^(n-1)`, capped at `max_delay_seconds` (not below `initial_delay_seconds`). Each delay has ±10 % jitter; a receiver's `Retry-After` (429, 503) is honoured.",
                "oneOf": [schema_ref("StandardRetryPolicy"), schema_ref("ExponentialRetryPolicy")],
                "discriminator": {"propertyName": "strategy", "mapping": {
                    "standard": "#/components/schemas/StandardRetryPolicy",
                    "exponential": "#/components/schemas/ExponentialRetryPolicy"}}
            }),
        ),
        (
            "StandardRetryPolicy",
            json!({
                "type": "object", "required": ["strategy"], "additionalProperties": false,
                "properties": {"strategy": {"type": "string", "enum": ["standard"]}, "max_attempts": max_attempts}
            }),
        ),
        (
            "ExponentialRetryPolicy",
            json!({
                "type": "object", "required": ["strategy", "initial_delay_seconds"], "additionalProperties": false,
                "properties": {
                    "strategy": {"type": "string", "enum": ["exponential"]},
                    "max_attempts": max_attempts,
                    "initial_delay_seconds": delay("The wait after the first failed attempt."),
                    "multiplier": {"type": "number", "minimum": 1, "maximum": 10, "default": 2},
                    "max_delay_seconds": {"type": "integer", "minimum": 1, "maximum": 86400, "default": 36000}
                }
            }),
        ),
        ("WebhookEndpointInput", endpoint_input(true)),
        ("WebhookEndpointUpdate", endpoint_input(false)),
        (
            "WebhookEndpoint",
            json!({
                "type": "object",
                "required": ["id", "url", "description", "event_types", "entities", "payload_filter", "headers",
                             "transform", "enabled", "disabled_reason", "disabled_at", "failing_since",
                             "rate_limit_per_second", "max_concurrency", "timeout_seconds", "disable_after_seconds",
                             "retry_policy", "version", "created_at", "updated_at"],
                "properties": {
                    "id": {"type": "string", "pattern": "^ep_[0-9A-Za-z]+$"},
                    "url": {"type": "string"},
                    "description": {"type": "string"},
                    "event_types": {"type": "array", "items": {"type": "string"}},
                    "entities": {"type": "array", "items": {"type": "string"}},
                    "payload_filter": {"type": ["object", "null"]},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "transform": {"description": "The body template, or null."},
                    "enabled": {"type": "boolean"},
                    "disabled_reason": {"type": ["string", "null"],
                                        "description": "`manual`, `gone` (the receiver answered 410) or `failing` (no success for `disable_after_seconds`)."},
                    "disabled_at": nullable_date_time(),
                    "failing_since": {"type": ["string", "null"], "format": "date-time",
                                      "description": "Start of the current run of failed attempts."},
                    "rate_limit_per_second": {"type": ["integer", "null"]},
                    "max_concurrency": {"type": ["integer", "null"]},
                    "timeout_seconds": {"type": "integer"},
                    "disable_after_seconds": {"type": "integer"},
                    "retry_policy": schema_ref("WebhookRetryPolicy"),
                    "version": {"type": "integer", "minimum": 1},
                    "created_at": date_time(),
                    "updated_at": date_time(),
                    "secret_rotation": {"type": "object", "required": ["previous_expires_at"],
                                        "description": "Present while an older secret still signs.",
                                        "properties": {"previous_expires_at": date_time()}}
                }
            }),
        ),
        (
            "WebhookEndpointWithSecret",
            json!({
                "description": "An endpoint and its signing secret.",
                "allOf": [schema_ref("WebhookEndpoint"), {"type": "object", "required": ["secret"],
                          "properties": {"secret": {"type": "string", "pattern": SECRET_PATTERN}}}]
            }),
        ),
        ("WebhookEndpointList", list_of("WebhookEndpoint")),
        (
            "WebhookSecret",
            json!({
                "type": "object", "required": ["secret"],
                "properties": {"secret": {"type": "string", "pattern": SECRET_PATTERN,
                                          "description": "Verify signatures with any Standard Webhooks library."}}
            }),
        ),
        (
            "RotateWebhookSecret",
            json!({
                "type": "object", "additionalProperties": false,
                "properties": {
                    "grace_period_seconds": {"type": "integer", "minimum": 0, "maximum": 604800, "default": 86400,
                                             "description": "How long the previous secret keeps signing."},
                    "secret": {"type": "string", "description": "Your own new secret (`whsec_...`); absent: one is generated."}
                }
            }),
        ),
        (
            "WebhookSecretRotation",
            json!({
                "type": "object", "required": ["secret", "previous_expires_at"],
                "properties": {"secret": {"type": "string", "pattern": SECRET_PATTERN},
                               "previous_expires_at": nullable_date_time()}
            }),
        ),
        (
            "WebhookDelivery",
            json!({
                "type": "object",
                "description": "One event sent to one endpoint; its id is the `webhook-id` header of every attempt.",
                "required": ["id", "endpoint_id", "event_id", "event_type", "status", "attempts", "next_attempt_at",
                             "last_status_code", "last_error", "created_at", "updated_at"],
                "properties": {
                    "id": {"type": "string"},
                    "endpoint_id": {"type": "string"},
                    "event_id": {"type": "string"},
                    "event_type": {"type": "string"},
                    "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
                    "attempts": {"type": "integer", "minimum": 0, "description": "Attempts made so far."},
                    "next_attempt_at": nullable_date_time(),
                    "last_status_code": {"type": ["integer", "null"]},
                    "last_error": {"type": ["string", "null"]},
                    "created_at": date_time(),
                    "updated_at": date_time()
                }
            }),
        ),
        (
            "WebhookDeliveryDetail",
            json!({
                "allOf": [schema_ref("WebhookDelivery"), {"type": "object", "required": ["payload", "attempts_detail"],
                    "properties": {
                        "payload": {"description": "The body sent: JSON when it is JSON, else the text."},
                        "attempts_detail": {"type": "array", "items": schema_ref("WebhookAttempt")}}}]
            }),
        ),
        (
            "WebhookDeliveryPage",
            json!({
                "type": "object", "required": ["data", "links"],
                "properties": {
                    "data": {"type": "array", "items": schema_ref("WebhookDelivery")},
                    "links": {"type": "object", "required": ["next"],
                              "properties": {"next": {"type": ["string", "null"], "description": "The next page; null on the last."}}}
                }
            }),
        ),
        (
            "WebhookAttempt",
            json!({
                "type": "object",
                "required": ["number", "started_at", "duration_ms", "url", "request_headers", "response_status",
                             "response_body", "error", "outcome", "next_attempt_at"],
                "properties": {
                    "delivery_id": {"type": "string"},
                    "number": {"type": "integer", "minimum": 1},
                    "started_at": date_time(),
                    "duration_ms": {"type": "integer", "minimum": 0},
                    "url": {"type": "string"},
                    "request_headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "response_status": {"type": ["integer", "null"]},
                    "response_body": {"type": ["string", "null"], "description": "The first 4 KiB of the answer."},
                    "error": {"type": ["string", "null"], "description": "Why there was no usable answer."},
                    "outcome": {"type": "string", "enum": ["delivered", "retrying", "failed"]},
                    "next_attempt_at": nullable_date_time()
                }
            }),
        ),
        ("WebhookAttemptList", list_of("WebhookAttempt")),
        (
            "WebhookTestResult",
            json!({
                "type": "object", "required": ["delivery", "attempt"],
                "properties": {"delivery": schema_ref("WebhookDelivery"), "attempt": schema_ref("WebhookAttempt")}
            }),
        ),
        (
            "WebhookReplay",
            json!({
                "type": "object", "required": ["since"], "additionalProperties": false,
                "properties": {"since": date_time(),
                               "until": {"type": "string", "format": "date-time", "description": "Excluded; after `since`."}}
            }),
        ),
        (
            "WebhookReplayResult",
            json!({
                "type": "object", "required": ["replayed", "more"],
                "properties": {"replayed": {"type": "integer", "minimum": 0},
                               "more": {"type": "boolean", "description": "More failed deliveries are left: call again."}}
            }),
        ),
        (
            "EventType",
            json!({
                "type": "object", "required": ["name", "description", "schema", "example"],
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "schema": {"type": "object", "description": "JSON Schema 2020-12 of the whole envelope."},
                    "example": {"type": "object", "description": "A whole envelope of this type."}
                }
            }),
        ),
        ("EventTypeList", list_of("EventType")),
    ]
}
