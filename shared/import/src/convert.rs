//! Text → typed JSON per platform field type. Strict on purpose: a value is converted only when its meaning is
//! certain, and refused with a reason otherwise, because guessing (thousands separators, comma decimals, day-first
//! dates) silently corrupts data. Model-level checks (lengths, enum values, patterns, ranges) are left to the
//! platform's record validation, which the caller runs on the result.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat};
use hw_domain::model::FieldType;
use serde_json::{Number, Value};

/// Naive date-times accepted besides RFC 3339 (taken as UTC).
const NAIVE_DATETIMES: [&str; 4] = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"];

/// Converts `value` (not empty) to the JSON a field of `field_type` stores, or says why it cannot.
///
/// - `integer`: optional sign and digits, surrounding whitespace ignored; no decimals, no thousands separators.
/// - `decimal`: a plain decimal number (`-1.5`, `.5`, `2e3`); never NaN or infinite; whole numbers stay integers.
/// - `boolean`: `true/false`, `yes/no`, `y/n`, `1/0`, in any case.
/// - `date`: `YYYY-MM-DD` (other formats need a `date_format` rule, which converts to this).
/// - `datetime`: RFC 3339 (its offset kept), or a naive `YYYY-MM-DD[T ]HH:MM[:SS[.fff]]` or a bare date, both taken
///   as UTC; the output is RFC 3339.
/// - `json`: the text parsed as JSON.
/// - `string`, `text`: the text itself, surrounding whitespace included (it is data).
/// - `email`, `url`, `enum`, `reference`: the text without surrounding whitespace, which no such value holds.
pub fn convert(field_type: FieldType, value: &str) -> Result<Value, String> {
    let v = value.trim();
    match field_type {
        FieldType::Integer => integer(v),
        FieldType::Decimal => decimal(v),
        FieldType::Boolean => boolean(v),
        FieldType::Date => date(v),
        FieldType::Datetime => datetime(v),
        FieldType::Json => serde_json::from_str(v).map_err(|e| format!("not valid JSON: {e}")),
        FieldType::String | FieldType::Text => Ok(Value::String(value.to_owned())),
        FieldType::Email | FieldType::Url | FieldType::Enum | FieldType::Reference => Ok(Value::String(v.to_owned())),
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn integer(v: &str) -> Result<Value, String> {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if !all_digits(digits) {
        return Err(format!("`{v}` is not an integer"));
    }
    v.parse::<i64>().map(Value::from).map_err(|_| format!("`{v}` is out of the integer range"))
}

fn decimal(v: &str) -> Result<Value, String> {
    let body = v.strip_prefix(['-', '+']).unwrap_or(v);
    let (mantissa, exp) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let plain = (all_digits(int) || all_digits(frac))
        && (int.is_empty() || all_digits(int))
        && (frac.is_empty() || all_digits(frac))
        && exp.is_none_or(all_digits);
    if !plain {
        return Err(format!("`{v}` is not a decimal number"));
    }
    if !mantissa.contains('.')
        && exp.is_none()
        && let Ok(i) = v.parse::<i64>()
    {
        return Ok(Value::from(i));
    }
    let f: f64 = v.parse().map_err(|_| format!("`{v}` is not a decimal number"))?;
    Number::from_f64(f).map(Value::Number).ok_or_else(|| format!("`{v}` is out of the decimal range"))
}

fn boolean(v: &str) -> Result<Value, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
        "false" | "no" | "n" | "0" => Ok(Value::Bool(false)),
        _ => Err(format!("`{v}` is not a boolean (true/false, yes/no, y/n, 1/0)")),
    }
}

fn date(v: &str) -> Result<Value, String> {
    match iso_date(v) {
        Some(_) => Ok(Value::String(v.to_owned())),
        None => Err(format!("`{v}` is not a date as YYYY-MM-DD (a date_format rule reads other formats)")),
    }
}

/// `YYYY-MM-DD` read by hand: chrono's `parse_from_str` re-reads its format string on every call, which shows on
/// 100,000-row imports.
pub(crate) fn iso_date(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// `YYYY-MM-DD` without going through chrono's formatter.
pub(crate) fn write_iso_date(d: NaiveDate, out: &mut String) {
    use chrono::Datelike;
    use std::fmt::Write;
    let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
}

fn datetime(v: &str) -> Result<Value, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)));
    }
    let naive = NAIVE_DATETIMES
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
        .or_else(|| iso_date(v).map(|d| d.and_time(chrono::NaiveTime::MIN)));
    match naive {
        Some(t) => Ok(Value::String(t.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true))),
        None => Err(format!("`{v}` is not a date-time (RFC 3339, or YYYY-MM-DD HH:MM:SS taken as UTC)")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ok(t: FieldType, v: &str) -> Value {
        convert(t, v).unwrap_or_else(|e| panic!("{v}: {e}"))
    }

    fn bad(t: FieldType, v: &str) -> String {
        convert(t, v).unwrap_err()
    }

    #[test]
    fn integers_are_strict() {
        assert_eq!(ok(FieldType::Integer, " 42 "), json!(42));
        assert_eq!(ok(FieldType::Integer, "-7"), json!(-7));
        assert_eq!(ok(FieldType::Integer, "+007"), json!(7));
        for v in ["1.5", "1,234", "1 234", "1e3", "", "-", "0x10", "١٢"] {
            assert!(bad(FieldType::Integer, v).contains("not an integer"), "{v}");
        }
        assert!(bad(FieldType::Integer, "99999999999999999999").contains("range"));
    }

    #[test]
    fn decimals_never_nan_or_infinite() {
        assert_eq!(ok(FieldType::Decimal, "3.25"), json!(3.25));
        assert_eq!(ok(FieldType::Decimal, ".5"), json!(0.5));
        assert_eq!(ok(FieldType::Decimal, "5."), json!(5.0));
        assert_eq!(ok(FieldType::Decimal, "-2e3"), json!(-2000.0));
        assert_eq!(ok(FieldType::Decimal, "12"), json!(12), "whole numbers stay integers");
        for v in ["NaN", "inf", "-infinity", "1,5", "1.2.3", ".", "e5", "1e", "1_000", "$5"] {
            assert!(bad(FieldType::Decimal, v).contains("not a decimal"), "{v}");
        }
        assert!(bad(FieldType::Decimal, "1e400").contains("range"));
    }

    #[test]
    fn booleans_in_many_spellings() {
        for v in ["true", "TRUE", "Yes", "y", "1"] {
            assert_eq!(ok(FieldType::Boolean, v), json!(true), "{v}");
        }
        for v in ["false", "No", "N", "0"] {
            assert_eq!(ok(FieldType::Boolean, v), json!(false), "{v}");
        }
        assert!(bad(FieldType::Boolean, "maybe").contains("not a boolean"));
    }

    #[test]
    fn dates_and_datetimes() {
        assert_eq!(ok(FieldType::Date, "2024-02-29"), json!("2024-02-29"));
        for v in ["2023-02-29", "31/01/2024", "2024-1-5", "2024-01-31T00:00:00"] {
            assert!(bad(FieldType::Date, v).contains("YYYY-MM-DD"), "{v}");
        }
        assert_eq!(ok(FieldType::Datetime, "2024-01-31T09:30:00+02:00"), json!("2024-01-31T09:30:00+02:00"));
        assert_eq!(ok(FieldType::Datetime, "2024-01-31T09:30:00.250Z"), json!("2024-01-31T09:30:00.250Z"));
        assert_eq!(ok(FieldType::Datetime, "2024-01-31 09:30:05"), json!("2024-01-31T09:30:05Z"), "naive is UTC");
        assert_eq!(ok(FieldType::Datetime, "2024-01-31T09:30"), json!("2024-01-31T09:30:00Z"));
        assert_eq!(ok(FieldType::Datetime, "2024-01-31"), json!("2024-01-31T00:00:00Z"));
        assert!(bad(FieldType::Datetime, "31.01.2024 9:30").contains("not a date-time"));
    }

    #[test]
    fn json_and_text_types() {
        assert_eq!(ok(FieldType::Json, r#"{"a":[1,2]}"#), json!({"a": [1, 2]}));
        assert!(bad(FieldType::Json, "{oops}").contains("not valid JSON"));
        for t in [FieldType::String, FieldType::Text, FieldType::Email, FieldType::Url, FieldType::Enum] {
            assert_eq!(ok(t, "as is"), json!("as is"));
        }
        assert_eq!(ok(FieldType::Reference, "01J0ABC"), json!("01J0ABC"));
    }
}
