//! The members of a request body that define an export (`entity`, `format`, `filter`, `sort`, `fields`,
//! `include_sensitive`, `include_system`), read with one error per offending member, each with a JSON pointer.
//!
//! `filter` takes the data API's filters in JSON. Each of these is `filter[age][gte]=30` on `GET /v1/data/contact`:
//! - `{"age": {"gte": 30}}` (canonical), `{"age": 30}` (equality), `{"age[gte]": 30}` or `{"filter[age][gte]": 30}`;
//! - the query-string form itself, `"filter[age][gte]=30&filter[tier]=pro"` (values percent-decoded).
//!
//! Values may be strings, numbers or booleans; `in` also takes an array. `sort` is the data API's (`"-age,email"`)
//! or an array of its keys; `fields` an array of field names or a comma-separated string.

use std::collections::HashMap;

use hw_domain::FieldError;
use hw_export::Format;
use serde_json::{Map, Value};

use crate::spec::{ExportSpec, FilterTerm, SpecError};

/// Most filters one export may carry (the data API's limit).
pub const MAX_FILTERS: usize = hw_domain::query::MAX_FILTERS;
/// Longest filter value (an `in` list counts whole): keeps a job, which stores its definition, well inside
/// DynamoDB's item size.
pub const MAX_VALUE: usize = 4096;

/// The export members a body set; `None`: absent (an update keeps the stored value).
#[derive(Debug, Default)]
pub struct SpecInput {
    pub entity: Option<String>,
    pub format: Option<String>,
    pub filter: Option<Vec<FilterTerm>>,
    pub sort: Option<Option<String>>,
    pub fields: Option<Option<Vec<String>>>,
    pub include_sensitive: Option<bool>,
    pub include_system: Option<bool>,
    /// Data API parameter (`filter[age][gte]`) → where it came from in the body (`/filter/age/gte`).
    pointers: HashMap<String, String>,
}

/// JSON pointer of a member (RFC 6901 escaping).
pub fn pointer(parts: &[&str]) -> String {
    parts.iter().map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1"))).collect()
}

fn fail(errors: &mut Vec<FieldError>, at: String, code: &'static str, detail: impl Into<String>) {
    errors.push(FieldError::new(at, code, detail));
}

impl SpecInput {
    /// Reads `key` if it is an export member; `false` when it is not one (the caller's own member, or unknown).
    pub fn member(&mut self, key: &str, v: &Value, errors: &mut Vec<FieldError>) -> bool {
        let at = pointer(&[key]);
        match key {
            "entity" => match v.as_str() {
                // Checked by shape first: a name that cannot be a model's is not looked up at all.
                Some(s) if hw_domain::model::is_valid_name(s) => self.entity = Some(s.to_owned()),
                Some(_) => {
                    fail(errors, at, "unknown-entity", "is not the name of a model (lowercase letters, digits, `_`)")
                }
                None => fail(errors, at, "invalid-type", "must be the name of a model"),
            },
            "format" => match v.as_str().map(Format::parse) {
                Some(Ok(f)) => self.format = Some(f.as_str().to_owned()),
                Some(Err(e)) => fail(errors, at, "invalid-format", e.to_string()),
                None => fail(errors, at, "invalid-type", "must be one of csv, xlsx, json, ndjson, xml"),
            },
            "filter" => self.filter = self.filter(v, errors),
            "sort" => match v {
                Value::Null => self.sort = Some(None),
                Value::String(s) if s.is_empty() => self.sort = Some(None),
                Value::String(s) => self.sort = Some(Some(s.clone())),
                Value::Array(items) => match strings(items) {
                    Some(keys) if keys.is_empty() => self.sort = Some(None),
                    Some(keys) => self.sort = Some(Some(keys.join(","))),
                    None => fail(
                        errors,
                        at,
                        "invalid-type",
                        "must be a string such as \"-age,email\" or an array of such keys",
                    ),
                },
                _ => {
                    fail(errors, at, "invalid-type", "must be a string such as \"-age,email\" or an array of such keys")
                }
            },
            "fields" => match v {
                Value::Null => self.fields = Some(None),
                Value::String(s) => {
                    self.fields = Some(Some(s.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect()))
                }
                Value::Array(items) => match strings(items) {
                    Some(names) => self.fields = Some(Some(names)),
                    None => fail(errors, at, "invalid-type", "must be an array of field names"),
                },
                _ => fail(errors, at, "invalid-type", "must be an array of field names"),
            },
            "include_sensitive" | "include_system" => match v.as_bool() {
                Some(b) if key == "include_sensitive" => self.include_sensitive = Some(b),
                Some(b) => self.include_system = Some(b),
                None => fail(errors, at, "invalid-type", "must be true or false"),
            },
            _ => return false,
        }
        true
    }

    fn filter(&mut self, v: &Value, errors: &mut Vec<FieldError>) -> Option<Vec<FilterTerm>> {
        let before = errors.len();
        let mut terms = Vec::new();
        match v {
            Value::Null => {}
            Value::String(s) => {
                for pair in s.split('&').filter(|p| !p.is_empty()) {
                    let (k, val) = pair.split_once('=').unwrap_or((pair, ""));
                    let (k, val) = (decode(k), decode(val));
                    match split_key(&k) {
                        Some((field, op)) => self.term(&mut terms, field, op, val, pointer(&["filter"])),
                        None => fail(errors, pointer(&["filter"]), "invalid-parameter", bad_key(&k)),
                    }
                }
            }
            Value::Object(members) => {
                for (k, val) in members {
                    let Some((field, op)) = split_key(k) else {
                        fail(errors, pointer(&["filter", k]), "invalid-parameter", bad_key(k));
                        continue;
                    };
                    match (op, val) {
                        (None, Value::Object(ops)) => {
                            for (op, val) in ops {
                                let at = pointer(&["filter", k, op]);
                                match text(op, val) {
                                    Some(t) => self.term(&mut terms, field.clone(), Some(op.clone()), t, at),
                                    None => fail(errors, at, "invalid-value", value_rule(op)),
                                }
                            }
                        }
                        (op, val) => {
                            let at = pointer(&["filter", k]);
                            let name = op.clone().unwrap_or_else(|| "eq".into());
                            match text(&name, val) {
                                Some(t) => self.term(&mut terms, field, op, t, at),
                                None => fail(errors, at, "invalid-value", value_rule(&name)),
                            }
                        }
                    }
                }
            }
            _ => {
                fail(errors, pointer(&["filter"]), "invalid-type", "must be an object such as {\"age\": {\"gte\": 30}}")
            }
        }
        if let Some(t) = terms.iter().find(|t| t.value.len() > MAX_VALUE) {
            let at = self.pointers.get(&t.parameter()).cloned().unwrap_or_else(|| pointer(&["filter"]));
            fail(errors, at, "too-long", format!("a filter value has at most {MAX_VALUE} bytes"));
        }
        if terms.len() > MAX_FILTERS {
            fail(
                errors,
                pointer(&["filter"]),
                "too-many-filters",
                format!("an export may carry at most {MAX_FILTERS} filters"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for t in &terms {
            if !seen.insert(t.parameter()) {
                fail(errors, pointer(&["filter"]), "invalid-parameter", format!("`{}` is given twice", t.parameter()));
            }
        }
        (errors.len() == before).then_some(terms)
    }

    fn term(&mut self, terms: &mut Vec<FilterTerm>, field: String, op: Option<String>, value: String, at: String) {
        let t = FilterTerm { field, op: op.unwrap_or_else(|| "eq".into()), value };
        self.pointers.insert(t.parameter(), at);
        terms.push(t);
    }

    /// Where a plan error belongs in the body.
    pub fn pointer_of(&self, e: &SpecError) -> String {
        self.pointers.get(&e.parameter).cloned().unwrap_or_else(|| match e.parameter.as_str() {
            p if p.starts_with("filter") => pointer(&["filter"]),
            p => pointer(&[p]),
        })
    }

    /// Whether the body set any member of the export definition.
    pub fn is_empty(&self) -> bool {
        self.entity.is_none()
            && self.format.is_none()
            && self.filter.is_none()
            && self.sort.is_none()
            && self.fields.is_none()
            && self.include_sensitive.is_none()
            && self.include_system.is_none()
    }

    /// `base` with the members this body set.
    pub fn apply(&self, mut base: ExportSpec) -> ExportSpec {
        if let Some(e) = &self.entity {
            base.entity = e.clone();
        }
        if let Some(f) = &self.format {
            base.format = f.clone();
        }
        if let Some(f) = &self.filter {
            base.filter = f.clone();
        }
        if let Some(s) = &self.sort {
            base.sort = s.clone();
        }
        if let Some(f) = &self.fields {
            base.fields = f.clone();
        }
        if let Some(b) = self.include_sensitive {
            base.include_sensitive = b;
        }
        if let Some(b) = self.include_system {
            base.include_system = b;
        }
        base
    }

    /// A new spec: `entity` and `format` are required.
    pub fn create(&self, errors: &mut Vec<FieldError>) -> Option<ExportSpec> {
        for (member, missing) in [("entity", self.entity.is_none()), ("format", self.format.is_none())] {
            if missing && !errors.iter().any(|e| e.pointer == pointer(&[member])) {
                fail(errors, pointer(&[member]), "required", format!("`{member}` is required"));
            }
        }
        (self.entity.is_some() && self.format.is_some()).then(|| self.apply(ExportSpec::default()))
    }
}

fn strings(items: &[Value]) -> Option<Vec<String>> {
    items.iter().map(|i| i.as_str().filter(|s| !s.is_empty()).map(str::to_owned)).collect()
}

/// `age`, `age[gte]`, `filter[age]`, `filter[age][gte]` → (field, op).
fn split_key(k: &str) -> Option<(String, Option<String>)> {
    let inner = match k.strip_prefix("filter[") {
        Some(rest) => {
            let (field, rest) = rest.split_once(']')?;
            format!("{field}{rest}")
        }
        None => k.to_owned(),
    };
    let (field, op) = match inner.split_once('[') {
        None => (inner.as_str(), None),
        Some((f, rest)) => (f, Some(rest.strip_suffix(']')?.to_owned())),
    };
    let valid = |s: &str| !s.is_empty() && !s.contains(['[', ']']);
    (valid(field) && op.as_deref().is_none_or(valid)).then(|| (field.to_owned(), op))
}

fn bad_key(k: &str) -> String {
    format!("`{k}` is not a filter; use {{\"field\": {{\"op\": value}}}} or the data API's filter[field][op]=value")
}

/// A filter value as the data API's query string carries it.
fn text(op: &str, v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) if op == "in" => items
            .iter()
            .map(|i| match i {
                Value::Array(_) | Value::Object(_) | Value::Null => None,
                other => text("eq", other),
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        _ => None,
    }
}

fn value_rule(op: &str) -> String {
    if op == "in" {
        "must be a string, number or boolean, or an array of them".into()
    } else {
        "must be a string, number or boolean".into()
    }
}

/// Percent-decoding of the query-string form (`+` is a space, as in forms).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the export members of an object body, returning the input and every other member (the caller's own).
pub fn split(body: &Map<String, Value>, errors: &mut Vec<FieldError>) -> (SpecInput, Vec<(String, Value)>) {
    let mut input = SpecInput::default();
    let mut rest = Vec::new();
    for (k, v) in body {
        if !input.member(k, v, errors) {
            rest.push((k.clone(), v.clone()));
        }
    }
    (input, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: Value) -> (SpecInput, Vec<FieldError>) {
        let mut errors = Vec::new();
        let (input, rest) = split(body.as_object().unwrap(), &mut errors);
        assert!(rest.is_empty(), "{rest:?}");
        (input, errors)
    }

    fn filters(v: Value) -> Vec<(String, String)> {
        let (input, errors) = read(json!({"filter": v}));
        assert!(errors.is_empty(), "{errors:?}");
        input.filter.unwrap().iter().map(|t| (t.parameter(), t.value.clone())).collect()
    }

    #[test]
    fn every_filter_form_means_the_data_api_filter() {
        let want = vec![("filter[age][gte]".to_owned(), "30".to_owned())];
        assert_eq!(filters(json!({"age": {"gte": 30}})), want);
        assert_eq!(filters(json!({"age[gte]": "30"})), want);
        assert_eq!(filters(json!({"filter[age][gte]": 30})), want);
        assert_eq!(filters(json!("filter[age][gte]=30")), want);
        assert_eq!(filters(json!({"tier": "pro"})), [("filter[tier][eq]".to_owned(), "pro".to_owned())]);
        assert_eq!(
            filters(json!({"tier": {"in": ["pro", "free"]}})),
            [("filter[tier][in]".to_owned(), "pro,free".to_owned())]
        );
        assert_eq!(
            filters(json!("filter%5Bname%5D%5BstartsWith%5D=Ann+Lee%2C&filter[vip]=true")),
            [
                ("filter[name][startsWith]".to_owned(), "Ann Lee,".to_owned()),
                ("filter[vip][eq]".to_owned(), "true".to_owned())
            ]
        );
        assert_eq!(decode("100%"), "100%", "a stray percent stays");
        assert_eq!(decode("%4"), "%4");
    }

    #[test]
    fn bad_members_are_each_reported_with_a_pointer() {
        let (_, errors) = read(json!({"entity": 3, "format": "pdf", "filter": {"age": {"gte": {"x": 1}}, "a]b": 1},
            "sort": 5, "fields": [1], "include_sensitive": "yes"}));
        let mut at: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        at.sort();
        assert_eq!(
            at,
            ["/entity", "/fields", "/filter/a]b", "/filter/age/gte", "/format", "/include_sensitive", "/sort"]
        );
        let (_, errors) = read(json!({"filter": "filter[age][gte]=1&filter[age][gte]=2"}));
        assert_eq!(errors[0].detail, "`filter[age][gte]` is given twice");
        let (_, errors) = read(json!({"filter": [1]}));
        assert_eq!(errors[0].code, "invalid-type");
        let (_, errors) = read(json!({"filter": {"name": "x".repeat(5000)}}));
        assert_eq!((errors[0].pointer.as_str(), errors[0].code), ("/filter/name", "too-long"));
        let (_, errors) = read(json!({"entity": "x".repeat(2000)}));
        assert_eq!((errors[0].pointer.as_str(), errors[0].code), ("/entity", "unknown-entity"));
    }

    #[test]
    fn create_needs_entity_and_format_and_update_keeps_the_rest() {
        let (input, _) = read(json!({"sort": ["-age", "email"], "fields": "email,age"}));
        let mut errors = Vec::new();
        assert!(input.create(&mut errors).is_none());
        assert_eq!(errors.iter().map(|e| e.pointer.as_str()).collect::<Vec<_>>(), ["/entity", "/format"]);
        let base = ExportSpec { entity: "contact".into(), format: "csv".into(), ..ExportSpec::default() };
        let s = input.apply(base);
        assert_eq!(s.sort.as_deref(), Some("-age,email"));
        assert_eq!(s.fields, Some(vec!["email".to_owned(), "age".to_owned()]));
        assert_eq!((s.entity.as_str(), s.format.as_str()), ("contact", "csv"));
        let (input, _) = read(json!({"entity": "contact", "format": "XLSX"}));
        assert_eq!(input.create(&mut Vec::new()).unwrap().format, "xlsx");
    }

    #[test]
    fn plan_errors_point_where_the_filter_was_written() {
        let (input, _) = read(json!({"filter": {"age": {"gte": "old"}}}));
        let e = SpecError { parameter: "filter[age][gte]".into(), code: "invalid-value", detail: String::new() };
        assert_eq!(input.pointer_of(&e), "/filter/age/gte");
        let e = SpecError { parameter: "sort".into(), code: "unknown-field", detail: String::new() };
        assert_eq!(input.pointer_of(&e), "/sort");
    }
}
