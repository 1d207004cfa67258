//! Which changes to a model are safe for the records already stored.
//!
//! With no records stored every valid definition is accepted. With records, a change is accepted only when every
//! stored record stays valid and nothing stored is orphaned: adding optional fields, widening limits, adding enum
//! values, widening a type (integer → decimal, string → text, email/url/enum → string or text), dropping
//! `required` or `unique`, editing labels, descriptions and defaults.

use crate::FieldError;
use crate::model::{FieldDef, FieldType, Model, ModelInput};

pub fn check_change(old: &Model, new: &ModelInput, has_records: bool) -> Vec<FieldError> {
    if !has_records {
        return Vec::new();
    }
    let entity = &old.name;
    let mut errors = Vec::new();
    for removed in old.fields.iter().filter(|f| !new.fields.iter().any(|n| n.name == f.name)) {
        errors.push(FieldError::new(
            "/fields",
            "field-removed",
            format!(
                "field `{}` cannot be removed while `{entity}` has records: its stored values would be orphaned",
                removed.name
            ),
        ));
    }
    for (i, new_field) in new.fields.iter().enumerate() {
        let at = |member: &str| format!("/fields/{i}{member}");
        let Some(old_field) = old.field(&new_field.name) else {
            if new_field.required {
                errors.push(FieldError::new(
                    at("/required"),
                    "unsafe-change",
                    format!("new field `{}` cannot be required while `{entity}` has records that lack it: add it as optional, fill it in, then make it required", new_field.name),
                ));
            }
            if new_field.unique {
                errors.push(FieldError::new(
                    at("/unique"),
                    "unsafe-change",
                    format!("new field `{}` cannot be unique while `{entity}` has records", new_field.name),
                ));
            }
            continue;
        };
        for (member, reason) in tightenings(old_field, new_field) {
            errors.push(FieldError::new(
                at(member),
                "unsafe-change",
                format!("field `{}`: {reason} while `{entity}` has records", new_field.name),
            ));
        }
    }
    errors
}

/// Each way `new` is stricter than `old`, as (member, reason).
fn tightenings(old: &FieldDef, new: &FieldDef) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if old.field_type != new.field_type && !is_widening(old.field_type, new.field_type) {
        out.push(("/type", format!("type {} cannot become {}", old.field_type.as_str(), new.field_type.as_str())));
        return out; // other comparisons make no sense across types
    }
    if new.required && !old.required {
        out.push(("/required", "it cannot become required".to_owned()));
    }
    if new.unique && !old.unique {
        out.push(("/unique", "it cannot become unique".to_owned()));
    }
    if new.sensitive != old.sensitive {
        out.push(("/sensitive", "`sensitive` changes how values are stored and cannot be toggled".to_owned()));
    }
    if new.target != old.target {
        out.push(("/target", "a reference cannot change its target".to_owned()));
    }
    if raised(old.min, new.min) {
        out.push(("/min", "`min` cannot be raised or added".to_owned()));
    }
    if lowered(old.max, new.max) {
        out.push(("/max", "`max` cannot be lowered or added".to_owned()));
    }
    if old.field_type == new.field_type
        && let (Some(o), Some(n)) = (old.effective_max_length(), new.effective_max_length())
        && n < o
    {
        out.push(("/max_length", format!("`max_length` cannot shrink from {o} to {n}")));
    }
    if new.pattern.is_some() && new.pattern != old.pattern {
        out.push(("/pattern", "`pattern` cannot be added or changed".to_owned()));
    }
    if let (Some(o), Some(n)) = (&old.values, &new.values) {
        let dropped: Vec<_> = o.iter().filter(|v| !n.contains(v)).map(String::as_str).collect();
        if !dropped.is_empty() {
            out.push(("/values", format!("enum values cannot be removed ({})", dropped.join(", "))));
        }
    }
    out
}

fn is_widening(from: FieldType, to: FieldType) -> bool {
    use FieldType::*;
    matches!((from, to), (Integer, Decimal) | (String, Text) | (Email | Url | Enum, String | Text))
}

fn raised(old: Option<f64>, new: Option<f64>) -> bool {
    match (old, new) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(o), Some(n)) => n > o,
    }
}

fn lowered(old: Option<f64>, new: Option<f64>) -> bool {
    match (old, new) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(o), Some(n)) => n < o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn old() -> Model {
        serde_json::from_value(json!({
            "name": "contact", "label": "Contact", "version": 3, "created_at": "", "updated_at": "",
            "fields": [
                {"name": "email", "type": "email", "required": true, "unique": true},
                {"name": "age", "type": "integer", "min": 0, "max": 150},
                {"name": "status", "type": "enum", "values": ["lead", "customer"]},
                {"name": "note", "type": "string", "max_length": 100}
            ]
        }))
        .unwrap()
    }

    fn change(fields: Value) -> ModelInput {
        serde_json::from_value(json!({"name": "contact", "fields": fields})).unwrap()
    }

    #[test]
    fn safe_changes_pass() {
        let new = change(json!([
            {"name": "email", "type": "email", "required": true},
            {"name": "age", "type": "decimal", "min": -5},
            {"name": "status", "type": "enum", "values": ["lead", "customer", "churned"]},
            {"name": "note", "type": "text"},
            {"name": "phone", "type": "string"}
        ]));
        assert_eq!(check_change(&old(), &new, true), vec![]);
    }

    #[test]
    fn unsafe_changes_are_refused_only_with_records() {
        let new = change(json!([
            {"name": "email", "type": "integer"},
            {"name": "age", "type": "integer", "min": 1, "max": 100},
            {"name": "status", "type": "enum", "values": ["lead"]},
            {"name": "tier", "type": "string", "required": true}
        ]));
        let errs = check_change(&old(), &new, true);
        let got: Vec<_> = errs.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            got,
            vec![
                "/fields",
                "/fields/0/type",
                "/fields/1/min",
                "/fields/1/max",
                "/fields/2/values",
                "/fields/3/required"
            ]
        );
        assert!(check_change(&old(), &new, false).is_empty());
    }
}
