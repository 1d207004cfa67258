//! Domain of the platform, free of AWS: identifiers, tenants, data model definitions and their evolution rules,
//! record validation, API keys and the event envelope.

pub mod apikey;
pub mod cursor;
pub mod event;
pub mod ids;
pub mod model;
pub mod model_change;
pub mod principal;
pub mod query;
pub mod record;
pub mod tenant;
pub mod validate;

/// A field-level error: where (`pointer`, an RFC 6901 JSON pointer into the request body), what kind (`code`,
/// stable and machine-readable) and a sentence for people (`detail`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub pointer: String,
    pub code: &'static str,
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), code, detail: detail.into() }
    }
}
