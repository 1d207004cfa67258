//! Value formatting shared by the spreadsheet formats (CSV, XLSX) and XML text.

use std::borrow::Cow;

use serde_json::Value;

/// Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection"): `=`, `+`, `-`, `@`, and
/// tab / carriage return, which some spreadsheets strip before looking for the others.
const FORMULA_TRIGGERS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// Prefixes a string that a spreadsheet would evaluate with `'`, so it is shown as text. Only applied to string
/// cells: a number the model types as a number (a negative integer) is never touched.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if s.starts_with(FORMULA_TRIGGERS) { Cow::Owned(format!("'{s}")) } else { Cow::Borrowed(s) }
}

/// The text of a value as written in CSV and XML: strings as-is, numbers and booleans in JSON notation, arrays
/// and objects compact JSON, `null` empty (`None`).
pub(crate) fn text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Array(_) | Value::Object(_) => Some(Cow::Owned(value.to_string())),
    }
}

/// The text of a spreadsheet cell (CSV): like [`text`], empty for `null`, and neutralised unless the value is a
/// JSON number or boolean (which cannot start a formula anyway except `-`, and a negative number must stay one).
pub(crate) fn spreadsheet_text(value: &Value) -> Cow<'_, str> {
    match (value, text(value)) {
        (_, None) => Cow::Borrowed(""),
        (Value::Number(_) | Value::Bool(_), Some(t)) => t,
        (_, Some(Cow::Borrowed(s))) => neutralise(s),
        (_, Some(Cow::Owned(s))) => Cow::Owned(neutralise(&s).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn neutralises_every_formula_trigger_and_nothing_else() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(s), format!("'{s}"));
        }
        for s in ["a=1", "1-2", "", "'quoted", " =x"] {
            assert_eq!(neutralise(s), s);
        }
    }

    #[test]
    fn spreadsheet_text_keeps_numbers_and_neutralises_strings() {
        assert_eq!(spreadsheet_text(&json!(-5)), "-5");
        assert_eq!(spreadsheet_text(&json!(-1.5)), "-1.5");
        assert_eq!(spreadsheet_text(&json!("-5")), "'-5");
        assert_eq!(spreadsheet_text(&json!(null)), "");
        assert_eq!(spreadsheet_text(&json!(true)), "true");
        assert_eq!(spreadsheet_text(&json!({"a": [1, 2]})), r#"{"a":[1,2]}"#);
    }
}
