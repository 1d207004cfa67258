//! RFC 9457 problem details (`application/problem+json`).
//!
//! `type` is a stable URI per kind of problem, so clients can branch on it; `title` is the same for every
//! occurrence of a type and `detail` explains this occurrence. Extension members go into `extensions`.

use serde::Serialize;
use serde_json::{Map, Value};

pub const CONTENT_TYPE: &str = "application/problem+json";
/// Problem type URIs are relative to this base.
pub const TYPE_BASE: &str = "https://docs.hubblewave.dev/problems/";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

impl Problem {
    /// A problem of type `{TYPE_BASE}{slug}`.
    pub fn new(status: u16, slug: &str, title: &str) -> Self {
        Self {
            type_uri: format!("{TYPE_BASE}{slug}"),
            title: title.to_owned(),
            status,
            detail: None,
            instance: None,
            extensions: Map::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    pub fn with_extension(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    /// The slug part of `type` (`validation-failed`).
    pub fn slug(&self) -> &str {
        self.type_uri.strip_prefix(TYPE_BASE).unwrap_or(&self.type_uri)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("problem serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_extensions_flattened() {
        let p =
            Problem::new(404, "not-found", "Not found").with_detail("no model named `x`").with_extension("model", "x");
        let v: Value = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(v["type"], "https://docs.hubblewave.dev/problems/not-found");
        assert_eq!(v["status"], 404);
        assert_eq!(v["model"], "x");
        assert!(v.get("instance").is_none());
        assert_eq!(p.slug(), "not-found");
    }
}
