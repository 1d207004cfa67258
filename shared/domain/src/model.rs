//! Data model definitions (entities with typed fields) and the rules a definition must satisfy.

use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::FieldError;

/// Most fields an entity may have; keeps items well under DynamoDB's 400 KB and generated schemas readable.
pub const MAX_FIELDS: usize = 200;
/// Default and hard upper bound of `max_length` for `string` fields (characters).
pub const STRING_DEFAULT_MAX: u32 = 1024;
pub const STRING_HARD_MAX: u32 = 4096;
/// Default and hard upper bound for `text` (characters).
pub const TEXT_DEFAULT_MAX: u32 = 65_536;
pub const TEXT_HARD_MAX: u32 = 131_072;
/// Longest regular expression accepted in `pattern`.
const PATTERN_MAX_LEN: usize = 512;

/// Names that collide with JSON:API members or with the system attributes every record carries.
pub const RESERVED_FIELD_NAMES: &[&str] = &[
    "id",
    "type",
    "links",
    "relationships",
    "meta",
    "included",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
];
/// Names that would collide with generated API paths or GraphQL root fields.
pub const RESERVED_MODEL_NAMES: &[&str] = &["model", "models", "data", "node", "query", "mutation", "subscription"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Text,
    Integer,
    Decimal,
    Boolean,
    Date,
    Datetime,
    Email,
    Url,
    Enum,
    Reference,
    Json,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Text => "text",
            Self::Integer => "integer",
            Self::Decimal => "decimal",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Datetime => "datetime",
            Self::Email => "email",
            Self::Url => "url",
            Self::Enum => "enum",
            Self::Reference => "reference",
            Self::Json => "json",
        }
    }
    fn is_numeric(self) -> bool {
        matches!(self, Self::Integer | Self::Decimal)
    }
    fn is_textual(self) -> bool {
        matches!(self, Self::String | Self::Text | Self::Email | Self::Url)
    }
    fn may_be_unique(self) -> bool {
        matches!(
            self,
            Self::String
                | Self::Email
                | Self::Url
                | Self::Integer
                | Self::Date
                | Self::Datetime
                | Self::Enum
                | Self::Reference
        )
    }
}

/// One field of an entity, exactly as clients send and receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub sensitive: bool,
    /// Allowed values of an `enum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// Target entity of a `reference`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl FieldDef {
    /// The effective maximum length of a textual field.
    pub fn effective_max_length(&self) -> Option<u32> {
        match self.field_type {
            FieldType::String | FieldType::Email | FieldType::Url => {
                Some(self.max_length.unwrap_or(STRING_DEFAULT_MAX))
            }
            FieldType::Text => Some(self.max_length.unwrap_or(TEXT_DEFAULT_MAX)),
            _ => None,
        }
    }

    /// The compiled, anchored `pattern`.
    pub fn compiled_pattern(&self) -> Option<Regex> {
        self.pattern.as_deref().and_then(compile_pattern)
    }
}

pub(crate) fn compile_pattern(p: &str) -> Option<Regex> {
    regex::RegexBuilder::new(&format!("^(?:{p})$")).size_limit(1 << 20).build().ok()
}

/// What clients send to create or replace a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInput {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub fields: Vec<FieldDef>,
    #[serde(default)]
    pub deprecation: Option<Deprecation>,
}

/// An entity being retired (RFC 9745 `Deprecation`, RFC 8594 `Sunset`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deprecation {
    /// When the entity was (or will be) deprecated, RFC 3339.
    pub since: String,
    /// When its routes are expected to stop answering, RFC 3339; after `since`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sunset: Option<String>,
    /// Where clients read about the replacement (http or https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Deprecation {
    /// The response headers of a deprecated entity's routes.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Ok(since) = chrono::DateTime::parse_from_rfc3339(&self.since) {
            out.push(("deprecation", format!("@{}", since.timestamp())));
        }
        if let Some(sunset) = self.sunset.as_deref().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) {
            out.push(("sunset", sunset.with_timezone(&chrono::Utc).format("%a, %d %b %Y %H:%M:%S GMT").to_string()));
        }
        if let Some(link) = &self.link {
            out.push(("link", format!("<{link}>; rel=\"deprecation\"; type=\"text/html\"")));
        }
        out
    }

    fn check(&self, errors: &mut Vec<FieldError>) {
        let since = chrono::DateTime::parse_from_rfc3339(&self.since);
        if since.is_err() {
            errors.push(FieldError::new(
                "/deprecation/since",
                "invalid-date-time",
                "`since` must be an RFC 3339 date-time",
            ));
        }
        if let Some(sunset) = &self.sunset {
            match (chrono::DateTime::parse_from_rfc3339(sunset), since) {
                (Err(_), _) => errors.push(FieldError::new(
                    "/deprecation/sunset",
                    "invalid-date-time",
                    "`sunset` must be an RFC 3339 date-time",
                )),
                (Ok(sunset), Ok(since)) if sunset <= since => errors.push(FieldError::new(
                    "/deprecation/sunset",
                    "sunset-before-deprecation",
                    "`sunset` must come after `since`",
                )),
                _ => {}
            }
        }
        if let Some(link) = &self.link {
            let ok = url_like(link);
            if !ok {
                errors.push(FieldError::new("/deprecation/link", "invalid-url", "`link` must be an http or https URL"));
            }
        }
    }
}

fn url_like(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() <= 2048
        && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>' || c == '"')
}

/// A stored model definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub name: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub fields: Vec<FieldDef>,
    /// Set when the tenant retires the entity: its data routes then carry `Deprecation` and `Sunset` headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    /// Optimistic-concurrency counter, 1 on creation.
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

impl Model {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
    pub fn references(&self) -> impl Iterator<Item = (&FieldDef, &str)> {
        self.fields.iter().filter_map(|f| f.target.as_deref().map(|t| (f, t)))
    }
}

/// Lowercase identifier: a letter, then letters, digits or underscores; at most 63 characters.
pub fn is_valid_name(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[a-z][a-z0-9_]{0,62}$").unwrap()).is_match(s)
}

/// Checks a definition on its own (reference targets are checked against the registry by the caller).
/// Every problem is reported, each with a pointer into the request body.
pub fn check_definition(input: &ModelInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !is_valid_name(&input.name) {
        errors.push(FieldError::new(
            "/name",
            "invalid-name",
            format!("`{}` is not a valid model name: use a lowercase letter followed by lowercase letters, digits or underscores (at most 63 characters)", input.name),
        ));
    } else if RESERVED_MODEL_NAMES.contains(&input.name.as_str()) {
        errors.push(FieldError::new("/name", "reserved-name", format!("`{}` is reserved", input.name)));
    }
    if let Some(label) = &input.label
        && (label.trim().is_empty() || label.chars().count() > 200)
    {
        errors.push(FieldError::new("/label", "invalid-label", "label must be 1 to 200 characters"));
    }
    if let Some(d) = &input.deprecation {
        d.check(&mut errors);
    }
    if input.fields.is_empty() {
        errors.push(FieldError::new("/fields", "no-fields", "a model needs at least one field"));
    }
    if input.fields.len() > MAX_FIELDS {
        errors.push(FieldError::new("/fields", "too-many-fields", format!("a model has at most {MAX_FIELDS} fields")));
    }
    let mut seen = HashSet::new();
    for (i, f) in input.fields.iter().enumerate() {
        let at = |member: &str| format!("/fields/{i}{member}");
        if !is_valid_name(&f.name) {
            errors.push(FieldError::new(at("/name"), "invalid-name", format!("`{}` is not a valid field name: use a lowercase letter followed by lowercase letters, digits or underscores", f.name)));
        } else if RESERVED_FIELD_NAMES.contains(&f.name.as_str()) {
            errors.push(FieldError::new(
                at("/name"),
                "reserved-name",
                format!("`{}` is reserved for system attributes", f.name),
            ));
        } else if !seen.insert(f.name.as_str()) {
            errors.push(FieldError::new(
                at("/name"),
                "duplicate-field",
                format!("field `{}` is defined twice", f.name),
            ));
        }
        check_field_options(f, &at, &mut errors);
    }
    errors
}

fn check_field_options(f: &FieldDef, at: &dyn Fn(&str) -> String, errors: &mut Vec<FieldError>) {
    let t = f.field_type;
    let mut not_for = |member: &str, present: bool| {
        if present {
            errors.push(FieldError::new(
                at(&format!("/{member}")),
                "option-not-allowed",
                format!("`{member}` does not apply to a field of type {}", t.as_str()),
            ));
        }
    };
    not_for("values", t != FieldType::Enum && f.values.is_some());
    not_for("target", t != FieldType::Reference && f.target.is_some());
    not_for("min", !t.is_numeric() && f.min.is_some());
    not_for("max", !t.is_numeric() && f.max.is_some());
    not_for("max_length", !t.is_textual() && f.max_length.is_some());
    not_for("pattern", !t.is_textual() && f.pattern.is_some());
    not_for("unique", !t.may_be_unique() && f.unique);
    not_for("sensitive", t == FieldType::Reference && f.sensitive);

    match t {
        FieldType::Enum => match &f.values {
            None => {
                errors.push(FieldError::new(at("/values"), "missing-values", "an enum needs a non-empty `values` list"))
            }
            Some(v) if v.is_empty() || v.len() > 500 => {
                errors.push(FieldError::new(at("/values"), "invalid-values", "an enum needs 1 to 500 values"))
            }
            Some(v) => {
                let distinct: HashSet<_> = v.iter().collect();
                if distinct.len() != v.len() || v.iter().any(|s| s.is_empty() || s.len() > 200) {
                    errors.push(FieldError::new(
                        at("/values"),
                        "invalid-values",
                        "enum values must be distinct, non-empty strings of at most 200 characters",
                    ));
                }
            }
        },
        FieldType::Reference => match &f.target {
            None => errors.push(FieldError::new(at("/target"), "missing-target", "a reference needs a `target` model")),
            Some(target) if !is_valid_name(target) => errors.push(FieldError::new(
                at("/target"),
                "invalid-target",
                format!("`{target}` is not a valid model name"),
            )),
            Some(_) => {}
        },
        _ => {}
    }
    if t == FieldType::Integer {
        for (member, v) in [("min", f.min), ("max", f.max)] {
            if v.is_some_and(|v| v.fract() != 0.0 || v.abs() > 9.007_199_254_740_991e15) {
                errors.push(FieldError::new(
                    at(&format!("/{member}")),
                    "invalid-limit",
                    format!("`{member}` of an integer field must be a whole number"),
                ));
            }
        }
    }
    for (member, v) in [("min", f.min), ("max", f.max)] {
        if v.is_some_and(|v| !crate::validate::is_storable_number(v)) {
            errors.push(FieldError::new(
                at(&format!("/{member}")),
                "invalid-limit",
                format!("`{member}` must be 0 or between 1e-130 and 9.99e125 in magnitude"),
            ));
        }
    }
    if let (Some(min), Some(max)) = (f.min, f.max)
        && min > max
    {
        errors.push(FieldError::new(at("/min"), "invalid-limit", "`min` is greater than `max`"));
    }
    if let Some(len) = f.max_length {
        let hard = if t == FieldType::Text { TEXT_HARD_MAX } else { STRING_HARD_MAX };
        if len == 0 || len > hard {
            errors.push(FieldError::new(
                at("/max_length"),
                "invalid-limit",
                format!("`max_length` must be between 1 and {hard} for type {}", t.as_str()),
            ));
        }
    }
    if let Some(p) = &f.pattern
        && (p.len() > PATTERN_MAX_LEN || compile_pattern(p).is_none())
    {
        errors.push(FieldError::new(
            at("/pattern"),
            "invalid-pattern",
            format!("`pattern` must be a valid regular expression of at most {PATTERN_MAX_LEN} characters"),
        ));
    }
    if let Some(default) = &f.default {
        if f.unique {
            errors.push(FieldError::new(
                at("/default"),
                "option-not-allowed",
                "a unique field cannot have a default (every record would claim the same value)",
            ));
        } else if t == FieldType::Reference {
            errors.push(FieldError::new(at("/default"), "option-not-allowed", "a reference cannot have a default"));
        } else if !default.is_null()
            && let Err(e) = crate::validate::check_value(f, default, "")
        {
            errors.push(FieldError::new(
                at("/default"),
                "invalid-default",
                format!("default does not fit the field: {}", e.detail),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> Result<ModelInput, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn deprecation_is_checked_and_told_in_standard_headers() {
        let d = Deprecation {
            since: "2026-11-01T00:00:00Z".into(),
            sunset: Some("2027-05-01T12:00:00+02:00".into()),
            link: Some("https://example.com/migrate".into()),
        };
        assert_eq!(
            d.headers(),
            [
                ("deprecation", "@1793491200".to_owned()),
                ("sunset", "Sat, 01 May 2027 10:00:00 GMT".to_owned()),
                ("link", "<https://example.com/migrate>; rel=\"deprecation\"; type=\"text/html\"".to_owned()),
            ]
        );
        let mut errors = Vec::new();
        d.check(&mut errors);
        assert!(errors.is_empty());
        let bad = Deprecation {
            since: "soon".into(),
            sunset: Some("2020-01-01T00:00:00Z".into()),
            link: Some("javascript:alert(1)".into()),
        };
        bad.check(&mut errors);
        let codes: Vec<&str> = errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, ["invalid-date-time", "invalid-url"]);
        let backwards = Deprecation {
            since: "2026-01-02T00:00:00Z".into(),
            sunset: Some("2026-01-01T00:00:00Z".into()),
            link: None,
        };
        let mut errors = Vec::new();
        backwards.check(&mut errors);
        assert_eq!(errors[0].code, "sunset-before-deprecation");
    }

    #[test]
    fn the_contract_example_is_valid() {
        let m = input(json!({"name":"contact","label":"Contact","fields":[
            {"name":"email","type":"email","required":true,"unique":true},
            {"name":"age","type":"integer","min":0},
            {"name":"company","type":"reference","target":"company"}]}))
        .unwrap();
        assert_eq!(check_definition(&m), vec![]);
    }

    #[test]
    fn unknown_options_and_types_do_not_parse() {
        assert!(input(json!({"name":"a","fields":[{"name":"x","type":"money"}]})).is_err());
        assert!(input(json!({"name":"a","fields":[{"name":"x","type":"string","colour":"red"}]})).is_err());
    }

    #[test]
    fn every_problem_is_reported_with_its_pointer() {
        let m = input(json!({"name":"Contact","fields":[
            {"name":"id","type":"string"},
            {"name":"status","type":"enum"},
            {"name":"n","type":"integer","min":5,"max":1,"max_length":3},
            {"name":"n","type":"string","pattern":"("},
            {"name":"r","type":"reference"},
            {"name":"u","type":"string","unique":true,"default":"x"},
            {"name":"d","type":"integer","default":"seven"}]}))
        .unwrap();
        let pointers: Vec<_> = check_definition(&m).into_iter().map(|e| (e.pointer, e.code)).collect();
        for expected in [
            ("/name", "invalid-name"),
            ("/fields/0/name", "reserved-name"),
            ("/fields/1/values", "missing-values"),
            ("/fields/2/min", "invalid-limit"),
            ("/fields/2/max_length", "option-not-allowed"),
            ("/fields/3/name", "duplicate-field"),
            ("/fields/3/pattern", "invalid-pattern"),
            ("/fields/4/target", "missing-target"),
            ("/fields/5/default", "option-not-allowed"),
            ("/fields/6/default", "invalid-default"),
        ] {
            assert!(
                pointers.iter().any(|(p, c)| p == expected.0 && *c == expected.1),
                "missing {expected:?} in {pointers:?}"
            );
        }
    }
}
