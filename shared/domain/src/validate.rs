//! Validation of record attributes against a model: one error per offending field, values normalised
//! (datetimes to UTC, emails trimmed) so that what is stored is canonical.

use serde_json::{Map, Value};

use crate::FieldError;
use crate::model::{FieldDef, FieldType, Model};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// All required fields must be present; defaults fill absent fields.
    Create,
    /// Only the given fields change; `null` clears an optional field.
    Patch,
}

/// The outcome of a successful validation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Validated {
    /// Normalised values to store.
    pub set: Map<String, Value>,
    /// Fields to remove (patch with `null`).
    pub cleared: Vec<String>,
}

/// Validates `input` (field name → value) against `model`. `pointer` says where a field lives in the request
/// body, so that errors point at what the client sent.
pub fn validate_attributes(
    model: &Model,
    input: &Map<String, Value>,
    mode: Mode,
    pointer: &dyn Fn(&str) -> String,
) -> Result<Validated, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = Validated::default();
    for (name, value) in input {
        let Some(field) = model.field(name) else {
            errors.push(FieldError::new(
                pointer(name),
                "unknown-field",
                format!("`{name}` is not a field of model `{}`", model.name),
            ));
            continue;
        };
        if value.is_null() {
            if field.required {
                errors.push(FieldError::new(
                    pointer(name),
                    "required",
                    format!("`{name}` is required and cannot be null"),
                ));
            } else if mode == Mode::Patch {
                out.cleared.push(name.clone());
            }
            continue;
        }
        match check_value(field, value, &pointer(name)) {
            Ok(v) => {
                out.set.insert(name.clone(), v);
            }
            Err(e) => errors.push(e),
        }
    }
    if mode == Mode::Create {
        for field in &model.fields {
            let given = input.get(&field.name).is_some_and(|v| !v.is_null());
            if given {
                continue;
            }
            match &field.default {
                Some(d) if !d.is_null() => {
                    out.set.insert(field.name.clone(), d.clone());
                }
                _ if field.required && !input.contains_key(&field.name) => errors.push(FieldError::new(
                    pointer(&field.name),
                    "required",
                    format!("`{}` is required", field.name),
                )),
                _ => {}
            }
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Checks one non-null value against its field and returns the normalised value.
pub fn check_value(field: &FieldDef, value: &Value, pointer: &str) -> Result<Value, FieldError> {
    let bad = |code: &'static str, detail: String| FieldError::new(pointer, code, detail);
    let expect = |what: &str| bad("invalid-type", format!("`{}` must be {what}", field.name));
    let normalised = match field.field_type {
        FieldType::String | FieldType::Text => {
            Value::String(value.as_str().ok_or_else(|| expect("a string"))?.to_owned())
        }
        FieldType::Email => {
            let s = value.as_str().ok_or_else(|| expect("an email address (string)"))?.trim();
            if !is_email(s) {
                return Err(bad("invalid-format", format!("`{s}` is not a valid email address")));
            }
            Value::String(s.to_owned())
        }
        FieldType::Url => {
            let s = value.as_str().ok_or_else(|| expect("a URL (string)"))?.trim();
            match url::Url::parse(s) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Value::String(s.to_owned()),
                _ => {
                    return Err(bad("invalid-format", format!("`{s}` is not an absolute http(s) URL")));
                }
            }
        }
        FieldType::Integer => {
            let n = value.as_i64().ok_or_else(|| expect("an integer"))?;
            check_range(field, n as f64, pointer)?;
            Value::from(n)
        }
        FieldType::Decimal => {
            let n = value.as_f64().filter(|_| value.is_number()).ok_or_else(|| expect("a number"))?;
            if !is_storable_number(n) {
                return Err(unstorable(field, pointer));
            }
            check_range(field, n, pointer)?;
            value.clone()
        }
        FieldType::Boolean => Value::Bool(value.as_bool().ok_or_else(|| expect("true or false"))?),
        FieldType::Date => {
            let s = value.as_str().ok_or_else(|| expect("a date string (YYYY-MM-DD)"))?;
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .filter(|_| s.len() == 10)
                .ok_or_else(|| bad("invalid-format", format!("`{s}` is not a date in the form YYYY-MM-DD")))?;
            Value::String(s.to_owned())
        }
        FieldType::Datetime => {
            let s = value.as_str().ok_or_else(|| expect("an RFC 3339 date-time string"))?;
            let t = chrono::DateTime::parse_from_rfc3339(s).map_err(|_| {
                bad("invalid-format", format!("`{s}` is not an RFC 3339 date-time (e.g. 2026-01-31T09:30:00Z)"))
            })?;
            Value::String(t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        }
        FieldType::Enum => {
            let s = value.as_str().ok_or_else(|| expect("one of the enum's values (string)"))?;
            let values = field.values.as_deref().unwrap_or_default();
            if !values.iter().any(|v| v == s) {
                return Err(bad("invalid-value", format!("`{s}` is not one of: {}", values.join(", "))));
            }
            Value::String(s.to_owned())
        }
        FieldType::Reference => {
            let s = value.as_str().ok_or_else(|| expect("the id (string) of a record"))?;
            if !crate::ids::is_valid_record_id(s) {
                return Err(bad("invalid-format", format!("`{s}` is not a record id")));
            }
            Value::String(s.to_owned())
        }
        FieldType::Json => {
            if !numbers_storable(value) {
                return Err(unstorable(field, pointer));
            }
            if let Some(problem) = json_shape_problem(value, 0) {
                return Err(bad("unstorable-json", format!("`{}` {problem}", field.name)));
            }
            value.clone()
        }
    };
    if let (Some(s), Some(max)) = (normalised.as_str(), field.effective_max_length()) {
        let len = s.chars().count();
        if len > max as usize {
            return Err(bad("too-long", format!("`{}` has {len} characters; at most {max} are allowed", field.name)));
        }
        if let Some(re) = field.compiled_pattern()
            && !re.is_match(s)
        {
            return Err(bad(
                "pattern-mismatch",
                format!("`{}` does not match the pattern {}", field.name, field.pattern.as_deref().unwrap_or_default()),
            ));
        }
    }
    Ok(normalised)
}

/// Largest magnitude of a stored number (DynamoDB's limit; finer than any `f64` precision concern).
pub const NUMBER_MAX_MAGNITUDE: f64 = 9.999_999_999_999_99e125;
/// Smallest non-zero magnitude of a stored number (DynamoDB's limit).
pub const NUMBER_MIN_MAGNITUDE: f64 = 1e-130;

/// True when `n` can be stored: zero, or a magnitude within DynamoDB's number range.
pub fn is_storable_number(n: f64) -> bool {
    n == 0.0 || (NUMBER_MIN_MAGNITUDE..=NUMBER_MAX_MAGNITUDE).contains(&n.abs())
}

/// True when every number in `v`, at any depth, can be stored.
pub fn numbers_storable(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64().is_some_and(is_storable_number),
        Value::Array(a) => a.iter().all(numbers_storable),
        Value::Object(m) => m.values().all(numbers_storable),
        _ => true,
    }
}

/// Deepest nesting of a `json` value. DynamoDB stores at most 32 levels, and the record and its attribute map take
/// two of them.
pub const JSON_MAX_DEPTH: usize = 30;

/// Why a `json` value cannot be stored as it is, if it cannot: DynamoDB refuses empty member names and nesting
/// beyond its depth limit.
fn json_shape_problem(v: &Value, depth: usize) -> Option<String> {
    if depth > JSON_MAX_DEPTH {
        return Some(format!("is nested deeper than {JSON_MAX_DEPTH} levels"));
    }
    match v {
        Value::Array(a) => a.iter().find_map(|x| json_shape_problem(x, depth + 1)),
        Value::Object(m) => {
            if m.contains_key("") {
                return Some(
                    "has an object member with an empty name; member names need at least one character".into(),
                );
            }
            m.values().find_map(|x| json_shape_problem(x, depth + 1))
        }
        _ => None,
    }
}

fn unstorable(field: &FieldDef, pointer: &str) -> FieldError {
    FieldError::new(
        pointer,
        "out-of-range",
        format!(
            "`{}` holds a number that cannot be stored: numbers are 0 or between 1e-130 and 9.99e125 in magnitude",
            field.name
        ),
    )
}

fn check_range(field: &FieldDef, n: f64, pointer: &str) -> Result<(), FieldError> {
    if let Some(min) = field.min.filter(|min| n < *min) {
        return Err(FieldError::new(pointer, "out-of-range", format!("`{}` must be at least {min}", field.name)));
    }
    if let Some(max) = field.max.filter(|max| n > *max) {
        return Err(FieldError::new(pointer, "out-of-range", format!("`{}` must be at most {max}", field.name)));
    }
    Ok(())
}

fn is_email(s: &str) -> bool {
    // The crate implements RFC 5322's addr-spec; we also want a dotted domain, as mail actually needs.
    email_address::EmailAddress::parse_with_options(s, email_address::Options::default().without_display_text())
        .is_ok_and(|e| e.domain().contains('.') && !e.domain().starts_with('['))
}

/// The canonical form of a unique value: two values that must not coexist map to the same key
/// (emails compare case-insensitively, everything else exactly).
pub fn unique_key(field: &FieldDef, value: &Value) -> String {
    match (field.field_type, value) {
        (FieldType::Email, Value::String(s)) => s.to_lowercase(),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// The key a unique value is claimed under: a SHA-256 of its canonical form, so claims never store the value
/// itself (it may be sensitive) and keys stay short whatever the value's length.
pub fn unique_claim(field: &FieldDef, value: &Value) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(unique_key(field, value).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> Model {
        serde_json::from_value(json!({
            "name": "contact", "label": "Contact", "version": 1, "created_at": "", "updated_at": "",
            "fields": [
                {"name": "email", "type": "email", "required": true, "unique": true},
                {"name": "age", "type": "integer", "min": 0, "max": 150},
                {"name": "score", "type": "decimal"},
                {"name": "active", "type": "boolean", "default": true},
                {"name": "born", "type": "date"},
                {"name": "seen_at", "type": "datetime"},
                {"name": "site", "type": "url"},
                {"name": "status", "type": "enum", "values": ["lead", "customer"]},
                {"name": "code", "type": "string", "max_length": 4, "pattern": "[A-Z]+"},
                {"name": "company", "type": "reference", "target": "company"},
                {"name": "extra", "type": "json"}
            ]
        }))
        .unwrap()
    }

    fn ptr(name: &str) -> String {
        format!("/data/attributes/{name}")
    }

    fn attrs(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn numbers_beyond_what_storage_holds_are_refused() {
        let m = model();
        for (field, value) in [
            ("score", json!(1.0e308)),
            ("score", json!(-1.0e126)),
            ("score", json!(5e-324)),
            ("extra", json!({"deep": [1, 2.5e200]})),
        ] {
            let e =
                validate_attributes(&m, &attrs(json!({"email": "a@example.com", field: value})), Mode::Create, &ptr)
                    .unwrap_err();
            assert_eq!((e[0].pointer.as_str(), e[0].code), (ptr(field).as_str(), "out-of-range"), "{value}");
        }
        for ok in [json!(0), json!(0.0), json!(9.9e125), json!(-1e-130), json!(12.5)] {
            let input = attrs(json!({"email": "a@example.com", "score": ok.clone(), "extra": {"n": ok}}));
            assert!(validate_attributes(&m, &input, Mode::Create, &ptr).is_ok());
        }
    }

    #[test]
    fn valid_create_is_normalised_and_defaults_apply() {
        let v = validate_attributes(
            &model(),
            &attrs(json!({
                "email": " Ann@Example.com ", "age": 30, "score": 1.5, "born": "1990-02-28",
                "seen_at": "2026-01-01T10:00:00+02:00", "site": "https://example.com/x", "status": "lead",
                "code": "AB", "company": "01JH3Q0W9ZK7M8T3V7X6B2N4PQ", "extra": {"a": [1]}
            })),
            Mode::Create,
            &ptr,
        )
        .unwrap();
        assert_eq!(v.set["email"], "Ann@Example.com");
        assert_eq!(v.set["seen_at"], "2026-01-01T08:00:00Z");
        assert_eq!(v.set["active"], true);
        assert!(v.cleared.is_empty());
    }

    #[test]
    fn one_error_per_offending_field() {
        let errs = validate_attributes(
            &model(),
            &attrs(json!({
                "age": -1, "score": "x", "active": "yes", "born": "1990-02-30", "seen_at": "yesterday",
                "site": "ftp://x", "status": "vip", "code": "abc", "company": "a/b", "nope": 1
            })),
            Mode::Create,
            &ptr,
        )
        .unwrap_err();
        let got: Vec<_> = errs.iter().map(|e| (e.pointer.as_str(), e.code)).collect();
        for expected in [
            ("/data/attributes/email", "required"),
            ("/data/attributes/age", "out-of-range"),
            ("/data/attributes/score", "invalid-type"),
            ("/data/attributes/active", "invalid-type"),
            ("/data/attributes/born", "invalid-format"),
            ("/data/attributes/seen_at", "invalid-format"),
            ("/data/attributes/site", "invalid-format"),
            ("/data/attributes/status", "invalid-value"),
            ("/data/attributes/code", "pattern-mismatch"),
            ("/data/attributes/company", "invalid-format"),
            ("/data/attributes/nope", "unknown-field"),
        ] {
            assert!(got.contains(&expected), "missing {expected:?} in {got:?}");
        }
        assert_eq!(errs.len(), 11);
    }

    #[test]
    fn patch_validates_only_given_fields_and_null_clears() {
        let v = validate_attributes(&model(), &attrs(json!({"age": 5, "site": null})), Mode::Patch, &ptr).unwrap();
        assert_eq!(v.set.len(), 1);
        assert_eq!(v.cleared, vec!["site".to_string()]);
        let errs = validate_attributes(&model(), &attrs(json!({"email": null})), Mode::Patch, &ptr).unwrap_err();
        assert_eq!(errs[0].code, "required");
    }

    #[test]
    fn integers_reject_fractions_and_lengths_count_characters() {
        let m = model();
        assert!(check_value(m.field("age").unwrap(), &json!(1.5), "").is_err());
        assert!(check_value(m.field("code").unwrap(), &json!("ABCDE"), "").is_err());
        assert_eq!(unique_key(m.field("email").unwrap(), &json!("A@B.co")), "a@b.co");
    }

    #[test]
    fn json_values_must_be_storable() {
        let m = model();
        let field = m.fields.iter().find(|f| f.field_type == FieldType::Json).expect("the fixture has a json field");
        let check = |v: Value| check_value(field, &v, "/p").map_err(|e| e.code);
        assert!(check(json!({"a": [1, {"b": null}]})).is_ok());
        assert_eq!(check(json!({"": 1})), Err("unstorable-json"));
        assert_eq!(check(json!([{"ok": {"": true}}])), Err("unstorable-json"));
        let mut deep = json!(1);
        for _ in 0..=JSON_MAX_DEPTH {
            deep = json!([deep]);
        }
        assert_eq!(check(deep), Err("unstorable-json"));
    }
}
