//! From a model's fields to JSON Schema: one schema per field type, examples, and the query parameters a field
//! gives a collection (filters, sort keys).

use hw_domain::model::{FieldDef, FieldType, Model};
use hw_domain::validate::NUMBER_MAX_MAGNITUDE;
use serde_json::{Map, Value, json};

use super::schemas::RECORD_ID_PATTERN;

/// The JSON Schema of a field's value in attributes. Optional fields accept `null` (type arrays, OpenAPI 3.1).
pub fn value_schema(f: &FieldDef) -> Value {
    let mut s = match f.field_type {
        FieldType::String | FieldType::Text => {
            let mut s = json!({"type": "string", "maxLength": f.effective_max_length()});
            if let Some(p) = &f.pattern {
                s["pattern"] = json!(format!("^(?:{p})$"));
            }
            s
        }
        FieldType::Email | FieldType::Url => {
            let format = if f.field_type == FieldType::Email { "email" } else { "uri" };
            let mut s = json!({"type": "string", "format": format, "maxLength": f.effective_max_length()});
            if let Some(p) = &f.pattern {
                s["pattern"] = json!(format!("^(?:{p})$"));
            }
            if f.field_type == FieldType::Url {
                s["description"] = json!("An absolute http(s) URL.");
            }
            s
        }
        FieldType::Integer => {
            json!({"type": "integer", "format": "int64",
                   "minimum": limit(f.min).unwrap_or(json!(i64::MIN)),
                   "maximum": limit(f.max).unwrap_or(json!(i64::MAX))})
        }
        FieldType::Decimal => json!({"type": "number",
            "minimum": limit(f.min).unwrap_or(json!(-NUMBER_MAX_MAGNITUDE)),
            "maximum": limit(f.max).unwrap_or(json!(NUMBER_MAX_MAGNITUDE)),
            "description": "Zero or a magnitude from 1e-130 to 9.99e125."}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Datetime => {
            json!({"type": "string", "format": "date-time", "description": "Stored normalised to UTC (`Z`)."})
        }
        FieldType::Enum => json!({"type": "string", "enum": f.values.clone().unwrap_or_default()}),
        FieldType::Reference => json!({"type": "string", "pattern": RECORD_ID_PATTERN}),
        FieldType::Json => {
            if f.required {
                json!({"type": ["object", "array", "string", "number", "boolean"]})
            } else {
                json!({})
            }
        }
    };
    if !f.required {
        nullable(&mut s);
    }
    annotate(&mut s, f);
    s
}

/// A limit as a JSON number: whole numbers as integers, so `minimum: 0` rather than `0.0`.
fn limit(v: Option<f64>) -> Option<Value> {
    v.map(|x| if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 { json!(x as i64) } else { json!(x) })
}

fn nullable(s: &mut Value) {
    if let Some(t) = s.get("type").and_then(Value::as_str).map(str::to_owned) {
        s["type"] = json!([t, "null"]);
    }
    if let Some(values) = s.get_mut("enum").and_then(Value::as_array_mut) {
        values.push(Value::Null);
    }
}

fn annotate(s: &mut Value, f: &FieldDef) {
    if let Some(label) = &f.label {
        s["title"] = json!(label);
    }
    let mut notes: Vec<String> = f.description.iter().cloned().collect();
    if f.unique {
        notes.push("Unique: no two records hold the same value (409 otherwise).".into());
    }
    if f.sensitive {
        notes.push("Sensitive: encrypted at rest and never carried in events.".into());
    }
    if !notes.is_empty() {
        let prior = s.get("description").and_then(Value::as_str).map(str::to_owned);
        notes.extend(prior);
        s["description"] = json!(notes.join(" "));
    }
    if let Some(d) = f.default.as_ref().filter(|d| !d.is_null()) {
        s["default"] = d.clone();
    }
    if let Some(e) = example(f) {
        s["examples"] = json!([e]);
    }
}

/// A value that satisfies the field, or `None` when none can be made up safely (a custom pattern).
pub fn example(f: &FieldDef) -> Option<Value> {
    if f.pattern.is_some() {
        return None;
    }
    let fit = |s: &str| {
        let max = f.effective_max_length().unwrap_or(u32::MAX) as usize;
        json!(s.chars().take(max).collect::<String>())
    };
    Some(match f.field_type {
        FieldType::String => fit("example"),
        FieldType::Text => fit("Some longer text."),
        FieldType::Email => json!("ada@example.com"),
        FieldType::Url => json!("https://example.com/"),
        FieldType::Integer => {
            let lo = f.min.map_or(i64::MIN, |m| m.ceil() as i64);
            let hi = f.max.map_or(i64::MAX, |m| m.floor() as i64);
            json!(1i64.clamp(lo, hi.max(lo)))
        }
        FieldType::Decimal => {
            let (lo, hi) = (f.min.unwrap_or(f64::MIN), f.max.unwrap_or(f64::MAX));
            json!(1.5f64.clamp(lo, hi.max(lo)))
        }
        FieldType::Boolean => json!(true),
        FieldType::Date => json!("2026-01-31"),
        FieldType::Datetime => json!("2026-01-31T09:30:00Z"),
        FieldType::Enum => json!(f.values.as_ref()?.first()?),
        FieldType::Reference => json!("01JH3Q0W9ZK7M8T3V7X6B2N4PQ"),
        FieldType::Json => json!({"key": "value"}),
    })
}

/// Filter operators a field type supports, with the schema of the operand.
fn operators(f: &FieldDef) -> Vec<(&'static str, Value)> {
    let plain = |f: &FieldDef| {
        let mut s =
            value_schema(&FieldDef { required: true, default: None, label: None, description: None, ..f.clone() });
        // A filter value is compared, never stored: the field's length, range and pattern do not apply (a value out
        // of range simply matches nothing). What the API does check is its type (numbers, dates, booleans, enum
        // values), so only that is described.
        if let Some(o) = s.as_object_mut() {
            for k in ["examples", "minimum", "maximum", "maxLength", "minLength", "pattern"] {
                o.remove(k);
            }
            if matches!(f.field_type, FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url) {
                o.remove("format");
            }
        }
        s
    };
    let list = json!({"type": "string", "minLength": 1, "description": "Comma-separated values."});
    let text = json!({"type": "string", "minLength": 1});
    let is_null = json!({"type": "boolean"});
    let v = plain(f);
    let ordered = || {
        vec![
            ("eq", v.clone()),
            ("ne", v.clone()),
            ("gt", v.clone()),
            ("gte", v.clone()),
            ("lt", v.clone()),
            ("lte", v.clone()),
            ("in", list.clone()),
        ]
    };
    let mut ops = match f.field_type {
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url => vec![
            ("eq", v.clone()),
            ("ne", v.clone()),
            ("in", list.clone()),
            ("contains", text.clone()),
            ("startsWith", text.clone()),
        ],
        FieldType::Integer | FieldType::Decimal | FieldType::Date | FieldType::Datetime => ordered(),
        FieldType::Boolean => vec![("eq", v.clone()), ("ne", v.clone())],
        FieldType::Enum | FieldType::Reference => vec![("eq", v.clone()), ("ne", v.clone()), ("in", list.clone())],
        FieldType::Json => vec![],
    };
    if !f.required {
        ops.push(("isNull", is_null));
    }
    ops
}

/// The system attributes every record has, as pseudo-fields for filters and sort keys.
fn system_fields() -> Vec<FieldDef> {
    let def = |name: &str, field_type| FieldDef {
        name: name.into(),
        field_type,
        label: None,
        description: None,
        required: true,
        unique: false,
        default: None,
        min: None,
        max: None,
        max_length: None,
        pattern: None,
        sensitive: false,
        values: None,
        target: None,
    };
    vec![def("created_at", FieldType::Datetime), def("updated_at", FieldType::Datetime)]
}

/// `filter[field]` (equality) and `filter[field][op]` for every filterable field, `id` and the timestamps.
/// Sensitive fields are stored encrypted and cannot be filtered; `json` fields only by `isNull`.
pub fn filter_params(model: &Model) -> Vec<Value> {
    let mut out = Vec::new();
    let id = json!({"type": "string", "pattern": RECORD_ID_PATTERN});
    let list = json!({"type": "string", "minLength": 1, "description": "Comma-separated values."});
    for (op, schema) in [("eq", id.clone()), ("ne", id.clone()), ("in", list)] {
        out.push(filter_param("id", Some(op), schema));
    }
    out.insert(0, filter_param("id", None, id));
    for f in model.fields.iter().filter(|f| !f.sensitive).chain(system_fields().iter()) {
        let ops = operators(f);
        if let Some((_, eq)) = ops.iter().find(|(op, _)| *op == "eq") {
            out.push(filter_param(&f.name, None, eq.clone()));
        }
        for (op, schema) in ops {
            out.push(filter_param(&f.name, Some(op), schema));
        }
    }
    out
}

fn filter_param(field: &str, op: Option<&str>, schema: Value) -> Value {
    let (name, description) = match op {
        None => (format!("filter[{field}]"), format!("Records whose `{field}` equals this value.")),
        Some(op) => (format!("filter[{field}][{op}]"), format!("Filter on `{field}` with the `{op}` operator.")),
    };
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

/// Keys a collection can be sorted by: every field but sensitive and `json` ones, plus id and the timestamps.
pub fn sort_keys(model: &Model) -> Vec<String> {
    let mut keys = vec!["id".to_owned(), "created_at".into(), "updated_at".into()];
    keys.extend(
        model.fields.iter().filter(|f| !f.sensitive && f.field_type != FieldType::Json).map(|f| f.name.clone()),
    );
    keys
}

/// A list pattern that also takes the empty value (JSON:API: `fields[type]=` asks for no fields at all).
pub fn list_pattern_or_empty(items: &[String]) -> String {
    let alt = items.iter().map(|i| i.replace('.', "\\.")).collect::<Vec<_>>().join("|");
    format!("^(|({alt})(,({alt}))*)$")
}

/// A pattern for a comma-separated list of `items` (each optionally prefixed by `-` when `signed`).
pub fn list_pattern(items: &[String], signed: bool) -> String {
    let alt = items.iter().map(|i| i.replace('.', "\\.")).collect::<Vec<_>>().join("|");
    let sign = if signed { "-?" } else { "" };
    format!("^{sign}({alt})(,{sign}({alt}))*$")
}

/// The attribute map schema of a model: `required` lists required fields when `for_create`; unknown members are
/// refused (422) in requests.
pub fn attributes_schema(model: &Model, for_create: bool, request: bool) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in model.fields.iter().filter(|f| f.field_type != FieldType::Reference) {
        props.insert(f.name.clone(), value_schema(f));
        if for_create && f.required && f.default.as_ref().is_none_or(Value::is_null) {
            required.push(f.name.clone());
        }
    }
    let mut s = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        s["required"] = json!(required);
    }
    if request {
        s["additionalProperties"] = json!(false);
    }
    s
}
