//! Payload templates: receivers such as Slack or a CRM want their own body shape, not our envelope. A template is
//! any JSON value whose strings may hold `{{ path }}` placeholders into the event envelope, so an endpoint can
//! talk to such a receiver directly, without glue code in between.
//!
//! - a string that is exactly one placeholder becomes the value at the path, keeping its JSON type (`null` when the
//!   path leads nowhere); the path `.` is the whole event;
//! - placeholders among text are interpolated: strings are inserted as they are, missing values as nothing, other
//!   values as compact JSON;
//! - objects and arrays are rendered member by member (keys are literal); other values are literal.

use serde_json::{Map, Value};

use crate::matching::{lookup, validate_path};

/// Largest template, serialised.
pub const MAX_TEMPLATE_BYTES: usize = 16 * 1024;
/// Deepest nesting of objects and arrays in a template.
pub const MAX_TEMPLATE_DEPTH: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template is {0} bytes long; at most {MAX_TEMPLATE_BYTES} bytes are allowed")]
    TooLarge(usize),
    #[error("objects and arrays nest at most {MAX_TEMPLATE_DEPTH} levels deep in a template")]
    TooDeep,
    #[error("a `{{{{` is not closed by `}}}}`; write placeholders as {{{{ data.id }}}}")]
    Unclosed,
    #[error(
        "a placeholder is empty; write the path to a value, such as {{{{ data.id }}}}, or {{{{ . }}}} for the whole event"
    )]
    EmptyPath,
    #[error("invalid placeholder: {0}")]
    InvalidPath(String),
}

/// One piece of a template string.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

/// Splits a string into text and placeholders (paths trimmed).
fn pieces(s: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
        out.push(Piece::Placeholder(after[..end].trim()));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

fn check_path(path: &str) -> Result<(), TemplateError> {
    match path {
        "" => Err(TemplateError::EmptyPath),
        "." => Ok(()),
        p => validate_path(p).map_err(TemplateError::InvalidPath),
    }
}

fn resolve<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    if path == "." { Some(event) } else { lookup(event, path) }
}

/// Checks a template, reporting every problem as `(JSON pointer into the template, message)`.
pub fn validate(t: &Value) -> Result<(), Vec<(String, String)>> {
    let size = serde_json::to_vec(t).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_TEMPLATE_BYTES {
        return Err(vec![(String::new(), TemplateError::TooLarge(size).to_string())]);
    }
    let mut errors = Vec::new();
    walk(t, String::new(), 0, &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

fn walk(t: &Value, at: String, depth: usize, errors: &mut Vec<(String, String)>) {
    let nested = matches!(t, Value::Object(_) | Value::Array(_));
    if nested && depth >= MAX_TEMPLATE_DEPTH {
        errors.push((at, TemplateError::TooDeep.to_string()));
        return;
    }
    match t {
        Value::String(s) => {
            let result = pieces(s).and_then(|ps| {
                ps.iter().try_for_each(|p| if let Piece::Placeholder(path) = p { check_path(path) } else { Ok(()) })
            });
            if let Err(e) = result {
                errors.push((at, e.to_string()));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{at}/{i}"), depth + 1, errors);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                walk(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), depth + 1, errors);
            }
        }
        _ => {}
    }
}

/// Renders a template against the serialised event envelope. Never fails: a string that does not parse (which
/// `validate` refuses) is kept as it is.
pub fn render(t: &Value, event: &Value) -> Value {
    match t {
        Value::String(s) => render_string(s, event),
        Value::Array(items) => Value::Array(items.iter().map(|i| render(i, event)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), render(v, event))).collect::<Map<_, _>>()),
        other => other.clone(),
    }
}

fn render_string(s: &str, event: &Value) -> Value {
    let Ok(pieces) = pieces(s) else {
        return Value::String(s.to_owned());
    };
    if let [Piece::Placeholder(path)] = pieces.as_slice() {
        return resolve(event, path).cloned().unwrap_or(Value::Null);
    }
    let mut out = String::with_capacity(s.len());
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Placeholder(path) => match resolve(event, path) {
                None => {}
                Some(Value::String(v)) => out.push_str(v),
                Some(v) => out.push_str(&v.to_string()),
            },
        }
    }
    Value::String(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event() -> Value {
        json!({
            "id": "evt_01", "type": "record.created", "tenant": "acme", "time": "2026-01-01T00:00:00.000Z",
            "data": {"entity": "contact", "id": "c1", "record": {"id": "c1", "attributes": {"name": "Ann", "score": 7,
                "tags": ["vip"], "active": true, "note": null}}}
        })
    }

    #[test]
    fn a_slack_style_template_renders() {
        let t = json!({"text": "{{type}} for {{data.entity}} {{data.id}}", "record": "{{data.record}}"});
        assert_eq!(validate(&t), Ok(()));
        let e = event();
        assert_eq!(render(&t, &e), json!({"text": "record.created for contact c1", "record": e["data"]["record"]}));
    }

    #[test]
    fn a_lone_placeholder_keeps_the_value_type() {
        let t = json!({
            "score": "{{ data.record.attributes.score }}", "active": "{{data.record.attributes.active}}",
            "tags": "{{data.record.attributes.tags}}", "first_tag": "{{  data.record.attributes.tags.0  }}",
            "missing": "{{data.nope}}", "whole": "{{ . }}"
        });
        assert_eq!(validate(&t), Ok(()));
        let e = event();
        let r = render(&t, &e);
        assert_eq!(r["score"], json!(7));
        assert_eq!(r["active"], json!(true));
        assert_eq!(r["tags"], json!(["vip"]));
        assert_eq!(r["first_tag"], json!("vip"));
        assert_eq!(r["missing"], Value::Null);
        assert_eq!(r["whole"], e);
    }

    #[test]
    fn interpolation_inserts_strings_raw_and_other_values_as_json() {
        let e = event();
        let cases = [
            ("name={{data.record.attributes.name}}", "name=Ann"),
            ("score: {{data.record.attributes.score}}!", "score: 7!"),
            ("[{{data.nope}}]", "[]"),
            ("{{data.record.attributes.tags}} {{data.record.attributes.active}}", r#"["vip"] true"#),
            ("note={{data.record.attributes.note}}", "note=null"),
            ("{{data.id}}{{data.entity}}", "c1contact"),
            ("no placeholders }} here", "no placeholders }} here"),
        ];
        for (t, expected) in cases {
            assert_eq!(render(&json!(t), &e), json!(expected), "{t}");
        }
    }

    #[test]
    fn structure_keys_and_literals_are_kept() {
        let t = json!({"{{type}}": ["{{data.id}}", 1, null, false, {"x": "{{tenant}}"}], "n": 2.5});
        assert_eq!(render(&t, &event()), json!({"{{type}}": ["c1", 1, null, false, {"x": "acme"}], "n": 2.5}));
        assert_eq!(render(&json!(42), &event()), json!(42));
    }

    #[test]
    fn malformed_templates_are_located() {
        let t = json!({"a": "{{data.id", "b": ["ok", "{{}}", "{{ data..id }}"], "c/d": "{{ data id }}", "e": "{{.}}"});
        let errors = validate(&t).unwrap_err();
        let at: Vec<&str> = errors.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(at, ["/a", "/b/1", "/b/2", "/c~1d"]);
        assert!(errors[0].1.contains("not closed"), "{}", errors[0].1);
        assert!(errors[1].1.contains("empty"), "{}", errors[1].1);
        assert!(errors[2].1.contains("data..id"), "{}", errors[2].1);
        // render never fails on what validate refuses
        assert_eq!(render(&json!("{{data.id"), &event()), json!("{{data.id"));
        assert_eq!(render(&json!("x{{}}y"), &event()), json!("xy"));
    }

    #[test]
    fn size_and_depth_are_limited() {
        let big = json!({"text": "x".repeat(MAX_TEMPLATE_BYTES)});
        let errors = validate(&big).unwrap_err();
        assert!(errors[0].1.contains("at most 16384 bytes"), "{errors:?}");
        let mut deep = json!("{{id}}");
        for _ in 0..MAX_TEMPLATE_DEPTH {
            deep = json!([deep]);
        }
        assert_eq!(validate(&deep), Ok(()));
        let errors = validate(&json!({"k": deep})).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].1.contains("at most 10 levels"), "{errors:?}");
        assert_eq!(errors[0].0, format!("/k{}", "/0".repeat(MAX_TEMPLATE_DEPTH - 1)));
    }
}
