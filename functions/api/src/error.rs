//! Every way a request can fail, and how each one is told to the client: RFC 9457 problem details on management
//! routes, JSON:API error documents on data routes (with the problem type as `links.type`).

use hw_domain::FieldError;
use hw_problem::Problem;
use hw_store::StoreError;
use hw_store::models::ModelError;
use hw_store::records::RecordError;
use hw_store::tenants::{AuthError, TenantError};
use serde_json::{Value, json};

use crate::http::{JSON_API, Response};

#[derive(Debug)]
pub struct ApiError {
    pub problem: Problem,
    pub field_errors: Vec<FieldError>,
    pub headers: Vec<(String, String)>,
}

/// How errors are rendered on a route family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Flavour {
    Problem,
    JsonApi,
}

impl ApiError {
    pub fn new(status: u16, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self { problem: Problem::new(status, slug, title).with_detail(detail), field_errors: vec![], headers: vec![] }
    }

    pub fn with_fields(mut self, errors: Vec<FieldError>) -> Self {
        self.field_errors = errors;
        self
    }

    /// Names the query parameter at fault (`source.parameter` in JSON:API errors).
    pub fn with_parameter(mut self, parameter: &str) -> Self {
        self.problem = self.problem.with_extension("parameter", parameter);
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, "bad-request", "Bad request", detail)
    }
    pub fn malformed_json(e: &serde_json::Error) -> Self {
        Self::new(400, "malformed-json", "Malformed JSON", format!("the body is not valid JSON: {e}"))
    }
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let n = errors.len();
        Self::new(
            422,
            "validation-failed",
            "Validation failed",
            format!("{n} field{} failed validation", if n == 1 { "" } else { "s" }),
        )
        .with_fields(errors)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, "not-found", "Not found", detail)
    }
    pub fn forbidden(scope: &str) -> Self {
        Self::new(403, "insufficient-scope", "Insufficient scope", format!("this request needs the `{scope}` scope"))
            .with_header(
                "www-authenticate",
                format!("Bearer realm=\"hubblewave\", error=\"insufficient_scope\", scope=\"{scope}\""),
            )
    }
    pub fn precondition_failed(current: u64) -> Self {
        Self::new(
            412,
            "precondition-failed",
            "Precondition failed",
            format!("the resource is at version {current}; fetch it again and retry with If-Match: \"{current}\""),
        )
        .with_header("etag", format!("\"{current}\""))
    }
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(422, "validation-failed", "Validation failed", detail)
    }
    /// A query parameter that is present but wrong; `code` says how.
    pub fn parameter(parameter: &str, code: &str, detail: impl Into<String>) -> Self {
        Self::new(400, code, "Invalid query parameter", detail).with_parameter(parameter)
    }
    pub fn invalid_parameter(parameter: &str, detail: impl Into<String>) -> Self {
        Self::parameter(parameter, "invalid-parameter", detail)
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            500,
            "internal",
            "Internal error",
            "something went wrong on our side; the request id identifies it in our logs",
        )
    }
    pub fn unavailable(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "dependency unavailable");
        Self::new(503, "unavailable", "Service unavailable", "a storage dependency did not answer; retry shortly")
            .with_header("retry-after", "1")
    }

    pub fn into_response(self, flavour: Flavour, request_id: &str, instance: &str) -> Response {
        let status = self.problem.status;
        let mut response = match flavour {
            Flavour::Problem => {
                let mut problem = self.problem.clone().with_instance(instance).with_extension("request_id", request_id);
                if !self.field_errors.is_empty() {
                    problem =
                        problem.with_extension("errors", serde_json::to_value(&self.field_errors).expect("serialises"));
                }
                Response::new(status).header("content-type", hw_problem::CONTENT_TYPE).body(problem.to_json())
            }
            Flavour::JsonApi => Response::json(status, JSON_API, &self.json_api(request_id)),
        };
        for (k, v) in self.headers {
            response = response.header(&k, v);
        }
        response
    }

    fn json_api(&self, request_id: &str) -> Value {
        json!({"jsonapi": {"version": "1.1"}, "errors": self.error_objects(request_id)})
    }

    /// The JSON:API error objects of this error (one per field error, else one).
    pub fn error_objects(&self, request_id: &str) -> Vec<Value> {
        let p = &self.problem;
        let one = |code: &str, detail: &str, source: Option<Value>| {
            let mut e = json!({
                "id": request_id,
                "status": p.status.to_string(),
                "code": code,
                "title": p.title,
                "detail": detail,
                "links": {"type": p.type_uri},
            });
            if let Some(s) = source {
                e["source"] = s;
            }
            e
        };
        if self.field_errors.is_empty() {
            let source = p.extensions.get("parameter").map(|param| json!({"parameter": param}));
            vec![one(p.slug(), p.detail.as_deref().unwrap_or(""), source)]
        } else {
            self.field_errors.iter().map(|f| one(f.code, &f.detail, Some(json!({"pointer": f.pointer})))).collect()
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Backend(_) => ApiError::unavailable(e),
            other => ApiError::internal(other),
        }
    }
}

impl From<ModelError> for ApiError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::Invalid(errors) => ApiError::invalid(errors),
            ModelError::NotFound(_) => ApiError::not_found(e.to_string()),
            ModelError::AlreadyExists(_) => ApiError::new(409, "already-exists", "Already exists", e.to_string()),
            ModelError::VersionMismatch { current } => ApiError::precondition_failed(current),
            ModelError::Conflict(detail) => ApiError::new(409, "conflict", "Conflict", detail),
            ModelError::Unsafe(errors) => ApiError::new(
                409,
                "unsafe-model-change",
                "Unsafe model change",
                "the change would invalidate or orphan stored records; see `errors`",
            )
            .with_fields(errors),
            ModelError::Store(s) => s.into(),
        }
    }
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::UnknownEntity(_) => ApiError::new(404, "unknown-entity", "Unknown entity", e.to_string()),
            RecordError::NotFound { .. } => ApiError::not_found(e.to_string()),
            RecordError::Invalid(errors) => ApiError::invalid(errors),
            RecordError::Conflict(errors) => ApiError::new(
                409,
                "unique-violation",
                "Unique value already taken",
                "a unique field holds a value another record already has",
            )
            .with_fields(errors),
            RecordError::AlreadyExists { .. } => ApiError::new(409, "already-exists", "Already exists", e.to_string()),
            RecordError::PreconditionFailed { current } => ApiError::precondition_failed(current),
            RecordError::Busy => {
                ApiError::new(409, "concurrent-modification", "Concurrent modification", e.to_string())
            }
            RecordError::Store(s) => s.into(),
        }
    }
}

impl From<TenantError> for ApiError {
    fn from(e: TenantError) -> Self {
        match e {
            TenantError::UnknownScope(_) | TenantError::InvalidKey(_) | TenantError::InvalidId(_) => {
                ApiError::new(422, "validation-failed", "Validation failed", e.to_string())
            }
            TenantError::AlreadyExists(_) => ApiError::new(409, "already-exists", "Already exists", e.to_string()),
            TenantError::KeyNotFound(_) | TenantError::NotFound(_) => ApiError::not_found(e.to_string()),
            TenantError::InvalidLimit(_) => ApiError::validation(e.to_string()),
            TenantError::KeyNotRotatable(_) => {
                ApiError::new(409, "key-not-rotatable", "Key not rotatable", e.to_string())
            }
            TenantError::Store(s) => s.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let challenge = |error: &str| format!("Bearer realm=\"hubblewave\", error=\"{error}\"");
        match e {
            AuthError::Missing => ApiError::new(
                401,
                "unauthenticated",
                "Authentication required",
                "send an API key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`",
            )
            .with_header("www-authenticate", "Bearer realm=\"hubblewave\""),
            AuthError::Invalid | AuthError::Expired { .. } => {
                ApiError::new(401, "invalid-credentials", "Invalid credentials", e.to_string())
                    .with_header("www-authenticate", challenge("invalid_token"))
            }
            AuthError::Unavailable(_) => ApiError::unavailable(e),
        }
    }
}

impl From<hw_webhooks::ports::WebhookStoreError> for ApiError {
    fn from(e: hw_webhooks::ports::WebhookStoreError) -> Self {
        use hw_webhooks::ports::WebhookStoreError as W;
        match e {
            W::NotFound => ApiError::not_found("no such webhook endpoint or delivery"),
            W::AlreadyExists => ApiError::new(409, "already-exists", "Already exists", e.to_string()),
            W::Conflict => ApiError::new(
                409,
                "concurrent-modification",
                "Concurrent modification",
                "the resource changed while this request was being served; retry",
            ),
            W::Backend(_) => ApiError::unavailable(e),
        }
    }
}

impl From<hw_webhooks::dispatch::DispatchError> for ApiError {
    fn from(e: hw_webhooks::dispatch::DispatchError) -> Self {
        use hw_webhooks::dispatch::DispatchError as D;
        match e {
            D::Store(s) => s.into(),
            D::Queue(_) | D::Publish(_) => ApiError::unavailable(e),
            D::Secret(_) => ApiError::internal(e),
        }
    }
}
