//! Building blocks shared by every part of the document: the operation builder, reusable headers, parameters and
//! error responses, and the schemas of the envelopes (problem details, JSON:API errors, resource metadata).

use serde_json::{Map, Value, json};

/// How a route family reports errors, and so which error responses its operations list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errors {
    /// RFC 9457 `application/problem+json` (management routes).
    Problem,
    /// JSON:API error documents, `application/vnd.api+json` (data routes).
    JsonApi,
}

/// Status codes with a reusable error response in `components.responses`.
pub const ERROR_STATUSES: &[(u16, &str)] = &[
    (400, "Bad request: malformed JSON, an invalid header (If-Match) or query parameter."),
    (401, "Missing or invalid credentials. The `WWW-Authenticate` header names the scheme."),
    (403, "The key lacks the scope this operation needs."),
    (404, "No such resource (or entity)."),
    (406, "The `Accept` header allows no media type this operation can answer with."),
    (409, "Conflict: the resource already exists, a unique value is taken, or the request contradicts its URL."),
    (412, "`If-Match` names a version other than the current one; the `ETag` header carries the current one."),
    (413, "The body is larger than the configured limit (1 MiB by default)."),
    (415, "The body's media type is not accepted here; the `Accept` header lists what is."),
    (422, "The request is well-formed but invalid; every offending member is listed with a JSON pointer."),
    (429, "Too many requests for this client; retry after `Retry-After` seconds."),
    (503, "A storage dependency did not answer; retry after `Retry-After` seconds."),
];

pub fn error_ref(errors: Errors, status: u16) -> Value {
    let name = match errors {
        Errors::Problem => format!("Problem{status}"),
        Errors::JsonApi => format!("JsonApiError{status}"),
    };
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn header_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/headers/{name}")})
}

/// The headers every answer carries, plus `extra` (names of `components.headers`).
pub fn headers(authenticated: bool, extra: &[&str]) -> Value {
    let mut h = Map::new();
    h.insert("X-Request-Id".into(), header_ref("X-Request-Id"));
    if authenticated {
        for name in ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"] {
            h.insert(name.into(), header_ref(name));
        }
    }
    for name in extra {
        // `Name?`: the header may be absent (its component says so).
        match name.strip_suffix('?') {
            Some(optional) => h.insert(optional.into(), header_ref(&format!("{optional}-Optional"))),
            None => h.insert((*name).into(), header_ref(name)),
        };
    }
    Value::Object(h)
}

/// One operation, built step by step.
pub struct Op {
    v: Map<String, Value>,
    responses: Map<String, Value>,
    authenticated: bool,
}

impl Op {
    pub fn new(operation_id: &str, tag: &str, summary: &str) -> Self {
        let mut v = Map::new();
        v.insert("operationId".into(), json!(operation_id));
        v.insert("tags".into(), json!([tag]));
        v.insert("summary".into(), json!(summary));
        Self { v, responses: Map::new(), authenticated: true }
    }

    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.v.insert("description".into(), json!(text.into()));
        self
    }

    /// No credentials needed (`security: []`).
    pub fn public(mut self) -> Self {
        self.v.insert("security".into(), json!([]));
        self.authenticated = false;
        self
    }

    /// Credentials optional: the answer depends on whether a valid key was sent.
    pub fn optional_auth(mut self) -> Self {
        self.v.insert("security".into(), json!([{}, {"apiKey": []}, {"bearer": []}]));
        self.authenticated = false;
        self
    }

    pub fn deprecated(mut self, yes: bool) -> Self {
        if yes {
            self.v.insert("deprecated".into(), json!(true));
        }
        self
    }

    pub fn param(mut self, p: Value) -> Self {
        self.v.entry("parameters").or_insert_with(|| json!([])).as_array_mut().expect("array").push(p);
        self
    }

    pub fn param_ref(self, name: &str) -> Self {
        self.param(json!({"$ref": format!("#/components/parameters/{name}")}))
    }

    pub fn body(mut self, media_type: &str, schema: Value, example: Option<Value>, required: bool) -> Self {
        let mut content = json!({"schema": schema});
        if let Some(e) = example {
            content["example"] = e;
        }
        self.v.insert("requestBody".into(), json!({"required": required, "content": {media_type: content}}));
        self
    }

    /// A success answer; `extra` names headers beyond the common ones.
    pub fn ok(mut self, status: u16, description: &str, media: Option<(&str, Value)>, extra: &[&str]) -> Self {
        let mut r = json!({"description": description, "headers": headers(self.authenticated, extra)});
        if let Some((media_type, schema)) = media {
            r["content"] = json!({media_type: {"schema": schema}});
        }
        self.responses.insert(status.to_string(), r);
        self
    }

    pub fn errors(mut self, errors: Errors, statuses: &[u16]) -> Self {
        for s in statuses {
            self.responses.insert(s.to_string(), error_ref(errors, *s));
        }
        self
    }

    /// An OpenAPI link on the answer with `status` (used by stateful testing and documentation tools).
    pub fn link(mut self, status: u16, name: &str, operation_id: &str, parameters: Value) -> Self {
        if let Some(r) = self.responses.get_mut(&status.to_string()) {
            let links = r.as_object_mut().expect("object").entry("links").or_insert_with(|| json!({}));
            links[name] = json!({"operationId": operation_id, "parameters": parameters});
        }
        self
    }

    pub fn build(mut self) -> Value {
        self.v.insert("responses".into(), Value::Object(self.responses));
        Value::Object(self.v)
    }
}

/// The `components` every document shares; generated schemas are added next to these.
pub fn components() -> Value {
    let mut responses = Map::new();
    for (status, description) in ERROR_STATUSES {
        let mut extra = vec![];
        match status {
            401 => extra.push("WWW-Authenticate"),
            412 => extra.push("ETag"),
            415 => extra.push("Accept"),
            429 | 503 => extra.push("Retry-After"),
            _ => {}
        }
        let h = headers(*status != 401, &extra);
        responses.insert(
            format!("Problem{status}"),
            json!({"description": description, "headers": h,
                   "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}),
        );
        responses.insert(
            format!("JsonApiError{status}"),
            json!({"description": description, "headers": h,
                   "content": {"application/vnd.api+json": {"schema": {"$ref": "#/components/schemas/JsonApiErrors"}}}}),
        );
    }
    json!({
        "securitySchemes": {
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                       "description": "An API key (`hw_...`). OAuth2 client credentials are planned as a third scheme."},
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "hw_ API key or OAuth access token (JWT)",
                       "description": "The same API key as `Authorization: Bearer hw_...`, or an access token of the tenant's OAuth2/OpenID Connect provider (`{base}/t/{tenant}`), which carries the scopes the user consented to."}
        },
        "headers": header_components(),
        "parameters": {
            "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": false,
                "description": "Makes a retried POST/PATCH safe: a replay answers the first response again with `Idempotent-Replayed: true`; the same key with a different body is refused with 422, and a key whose first request is still running with 409.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]*[!-~][ -~]*$"}},
            "IfMatch": {"name": "If-Match", "in": "header", "required": false,
                "description": "Only change the resource at this version (an ETag this API returned, e.g. `\"3\"`); else 412. `*` or an empty value: no condition.",
                "schema": {"type": "string", "pattern": "^(\\*|(W/)?\"[0-9]{1,19}\")?$"}}
        },
        "responses": responses,
        "schemas": super::schemas::shared(),
    })
}

fn header_components() -> Value {
    let int = |d: &str| json!({"description": d, "schema": {"type": "integer", "minimum": 0}});
    let text = |d: &str| json!({"description": d, "schema": {"type": "string"}});
    json!({
        "X-Request-Id": {"description": "The id of this request in our logs; quote it when reporting a problem.",
                         "required": true, "schema": {"type": "string", "minLength": 1}},
        "RateLimit-Limit": int("Requests this client may make per window."),
        "RateLimit-Remaining": int("Requests left in the current window."),
        "RateLimit-Reset": int("Seconds until the window resets."),
        "Retry-After": int("Seconds to wait before retrying."),
        "ETag": {"description": "The version of the resource, e.g. `\"3\"`; send it back in `If-Match`.",
                 "required": true, "schema": {"type": "string", "pattern": "^\"[0-9]+\"$"}},
        "Location": {"description": "The URL of the created resource.", "required": true,
                     "schema": {"type": "string", "format": "uri-reference"}},
        "Location-Optional": {"description": "The URL of the created resource.",
                              "schema": {"type": "string", "format": "uri-reference"}},
        "Link": text("On deprecated routes: where to read about the replacement (`<url>; rel=\"deprecation\"`)."),
        "Deprecation": text("Present when the resource is deprecated: when it was deprecated (RFC 9745 `@<epoch seconds>`)."),
        "Sunset": text("When the deprecated resource stops answering (RFC 8594, an HTTP date)."),
        "Idempotent-Replayed": {"description": "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
                                "schema": {"type": "string", "enum": ["true"]}},
        "WWW-Authenticate": {"description": "The authentication scheme and, for invalid keys, the error.",
                             "required": true, "schema": {"type": "string"}},
        "Accept": text("The media types this operation accepts."),
    })
}
