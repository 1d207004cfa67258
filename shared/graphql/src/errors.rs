//! GraphQL errors with a machine-readable `extensions.code` (Apollo's names where one exists), and never an
//! internal message: storage failures are logged and answered as `INTERNAL_SERVER_ERROR`.

use async_graphql::{Error, ErrorExtensions, Value};
use hw_domain::FieldError;
use hw_store::query::QueryError;
use hw_store::records::RecordError;

pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
pub const FORBIDDEN: &str = "FORBIDDEN";
pub const NOT_FOUND: &str = "NOT_FOUND";
pub const CONFLICT: &str = "CONFLICT";
pub const INTERNAL: &str = "INTERNAL_SERVER_ERROR";

pub fn coded(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", code))
}

pub fn forbidden(scope: &str) -> Error {
    let scope = scope.to_owned();
    Error::new(format!("this needs the `{scope}` scope")).extend_with(move |_, e| {
        e.set("code", FORBIDDEN);
        e.set("scope", scope.clone());
    })
}

/// A bad argument value: `argument` is its path inside the arguments (`filter.age.gt`).
pub fn bad_argument(argument: &str, reason: &'static str, message: impl Into<String>) -> Error {
    let argument = argument.to_owned();
    Error::new(message).extend_with(move |_, e| {
        e.set("code", BAD_USER_INPUT);
        e.set("argument", argument.clone());
        e.set("reason", reason);
    })
}

pub fn internal(e: impl std::fmt::Display) -> Error {
    tracing::error!(error = %e, "graphql resolver failed");
    coded(INTERNAL, "internal error; it has been logged")
}

pub fn query(e: QueryError) -> Error {
    match e {
        QueryError::TooManyToSort { .. } => bad_argument("sort", "query-too-broad", e.to_string()),
        QueryError::Store(s) => internal(s),
    }
}

/// `/input/email` → `["input", "email"]`.
fn pointer_path(pointer: &str) -> Vec<Value> {
    pointer.split('/').filter(|s| !s.is_empty()).map(|s| Value::from(s.replace("~1", "/").replace("~0", "~"))).collect()
}

fn field_errors(code: &'static str, summary: &str, errors: Vec<FieldError>) -> Error {
    let message = match errors.as_slice() {
        [one] => one.detail.clone(),
        _ => format!("{summary}: {}", errors.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>().join("; ")),
    };
    Error::new(message).extend_with(move |_, ext| {
        ext.set("code", code);
        if let Some(first) = errors.first() {
            ext.set("field", Value::List(pointer_path(&first.pointer)));
            ext.set("reason", first.code);
        }
        let problems: Vec<Value> = errors
            .iter()
            .map(|e| {
                let mut m = async_graphql::indexmap::IndexMap::new();
                m.insert(async_graphql::Name::new("field"), Value::List(pointer_path(&e.pointer)));
                m.insert(async_graphql::Name::new("reason"), Value::from(e.code));
                m.insert(async_graphql::Name::new("message"), Value::from(e.detail.clone()));
                Value::Object(m)
            })
            .collect();
        ext.set("problems", Value::List(problems));
    })
}

pub fn record(e: RecordError) -> Error {
    match e {
        RecordError::Invalid(errors) => field_errors(BAD_USER_INPUT, "the input is invalid", errors),
        RecordError::Conflict(errors) => field_errors(CONFLICT, "the input conflicts with stored records", errors),
        RecordError::NotFound { .. } | RecordError::UnknownEntity(_) => coded(NOT_FOUND, e.to_string()),
        RecordError::AlreadyExists { .. } => coded(CONFLICT, e.to_string()),
        RecordError::PreconditionFailed { current } => Error::new(e.to_string()).extend_with(move |_, ext| {
            ext.set("code", "PRECONDITION_FAILED");
            ext.set("currentVersion", current);
        }),
        RecordError::Busy => coded(CONFLICT, e.to_string()),
        RecordError::Store(s) => internal(s),
    }
}
