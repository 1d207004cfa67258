//! Column type detection: per column, the narrowest platform field type that every non-empty sampled value fits.
//!
//! Decisions worth knowing:
//! - Values are trimmed; empty cells only make a column `nullable`. An all-empty column is a nullable `string`.
//! - Integers with leading zeros (`007`, zip codes, phone numbers) are *not* integers: converting would lose the zeros.
//! - A column of only `0`/`1` is `integer`, unless its name reads like a flag (`is_…`, `has_…`, `…active`,
//!   `…enabled`, `…flag`): counts and codes are common, and the user can still pick boolean.
//! - Dates: `%Y-%m-%d`, `%d/%m/%Y`, `%m/%d/%Y`, `%d.%m.%Y`. When both day-first and month-first fit every value the
//!   column is left `string` with both `date_candidates`, so a person chooses instead of us guessing wrong.
//! - Decimals use `.`; comma decimals (`3,14`) stay strings.
//! - `enum`: at most 10 distinct values and at most half as many distinct values as non-empty ones.
//! - `text` rather than `string` when a value has a line break or more than 255 characters.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use hw_domain::model::FieldType;

use crate::Table;

const DATE_FORMATS: [&str; 4] = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y"];
const DATETIME_FORMATS: [&str; 2] = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"];
/// Marker used in `date_format` for RFC 3339 datetimes.
pub const RFC3339: &str = "rfc3339";
const ENUM_MAX_DISTINCT: usize = 10;
const STRING_MAX_CHARS: usize = 255;
const SAMPLES: usize = 5;

/// What was detected for one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    pub name: String,
    pub field_type: FieldType,
    /// Some cell was empty or missing.
    pub nullable: bool,
    /// Up to five distinct non-empty values, in order of appearance.
    pub samples: Vec<String>,
    /// The chrono format of a `date` or `datetime` column (`rfc3339` for RFC 3339).
    pub date_format: Option<String>,
    /// Set when several date formats fit every value (day-first vs month-first): the column stays `string`.
    pub date_candidates: Vec<String>,
    /// The sorted distinct values of an `enum` column.
    pub enum_values: Vec<String>,
}

/// True when a value would be typed as anything other than text (used by the CSV header heuristic).
pub(crate) fn looks_typed(v: &str) -> bool {
    is_integer(v)
        || is_decimal(v)
        || is_bool(v)
        || DATE_FORMATS.iter().any(|f| date_fits(v, f))
        || datetime_format(v).is_some()
}

fn is_integer(v: &str) -> bool {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && v.parse::<i64>().is_ok()
}

fn is_decimal(v: &str) -> bool {
    let body = v.strip_prefix(['-', '+']).unwrap_or(v);
    let (mantissa, exp) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    (!int.is_empty() || !frac.is_empty())
        && all_digits(int)
        && all_digits(frac)
        && (int.len() <= 1 || !int.starts_with('0'))
        && exp.is_none_or(|e| !e.is_empty() && all_digits(e))
}

fn is_bool(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "true" | "false" | "yes" | "no" | "1" | "0")
}

fn date_fits(v: &str, f: &str) -> bool {
    NaiveDate::parse_from_str(v, f).is_ok()
}

fn datetime_format(v: &str) -> Option<&'static str> {
    if DateTime::parse_from_rfc3339(v).is_ok() {
        return Some(RFC3339);
    }
    DATETIME_FORMATS.into_iter().find(|f| NaiveDateTime::parse_from_str(v, f).is_ok())
}

fn is_email(v: &str) -> bool {
    email_address::EmailAddress::is_valid(v) && v.rsplit_once('@').is_some_and(|(_, d)| d.contains('.'))
}

/// Same rule as model validation: absolute http(s) URL without blanks or angle brackets.
fn is_url(v: &str) -> bool {
    (v.starts_with("https://") || v.starts_with("http://"))
        && url::Url::parse(v).is_ok()
        && !v.chars().any(|c| c.is_whitespace() || c == '<' || c == '>' || c == '"')
}

fn flag_like(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace([' ', '-'], "_");
    ["is_", "has_", "can_", "should_"].iter().any(|p| n.starts_with(p))
        || ["active", "enabled", "flag", "deleted", "verified"].iter().any(|s| n.ends_with(s))
}

/// One [`ColumnType`] per column of `table`, in column order.
pub fn detect_types(table: &Table) -> Vec<ColumnType> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut nullable = false;
            let mut values = Vec::new();
            for row in &table.rows {
                match row.cells.get(i).and_then(|c| c.as_deref()).map(str::trim) {
                    Some(v) if !v.is_empty() => values.push(v),
                    _ => nullable = true,
                }
            }
            detect_column(name, &values, nullable)
        })
        .collect()
}

fn detect_column(name: &str, values: &[&str], nullable: bool) -> ColumnType {
    let mut samples: Vec<String> = Vec::new();
    for v in values {
        if samples.len() < SAMPLES && !samples.iter().any(|s| s == v) {
            samples.push((*v).to_owned());
        }
    }
    let mut col = ColumnType {
        name: name.to_owned(),
        field_type: FieldType::String,
        nullable,
        samples,
        date_format: None,
        date_candidates: Vec::new(),
        enum_values: Vec::new(),
    };
    if values.is_empty() {
        col.nullable = true;
        return col;
    }
    let all = |f: &dyn Fn(&str) -> bool| values.iter().all(|v| f(v));
    let zero_one = all(&|v| v == "0" || v == "1");
    col.field_type = if all(&is_bool) && (!zero_one || flag_like(name)) {
        FieldType::Boolean
    } else if all(&is_integer) {
        FieldType::Integer
    } else if all(&is_decimal) {
        FieldType::Decimal
    } else if let Some(ft) = detect_dates(values, &mut col) {
        ft
    } else if !col.date_candidates.is_empty() {
        FieldType::String
    } else if all(&is_email) {
        FieldType::Email
    } else if all(&is_url) {
        FieldType::Url
    } else {
        let distinct: BTreeSet<&str> = values.iter().copied().collect();
        if values.iter().any(|v| v.contains('\n') || v.chars().count() > STRING_MAX_CHARS) {
            FieldType::Text
        } else if distinct.len() <= ENUM_MAX_DISTINCT && distinct.len() * 2 <= values.len() {
            col.enum_values = distinct.into_iter().map(str::to_owned).collect();
            FieldType::Enum
        } else {
            FieldType::String
        }
    };
    col
}

/// Date or datetime when one format fits every value; records the format, or the candidates when ambiguous (and
/// then returns `None` so the column falls through to a textual type).
fn detect_dates(values: &[&str], col: &mut ColumnType) -> Option<FieldType> {
    let fitting: Vec<&str> = DATE_FORMATS.into_iter().filter(|f| values.iter().all(|v| date_fits(v, f))).collect();
    match fitting.as_slice() {
        [one] => {
            col.date_format = Some((*one).to_owned());
            return Some(FieldType::Date);
        }
        [] => {}
        many => {
            col.date_candidates = many.iter().map(|f| (*f).to_owned()).collect();
            return None;
        }
    }
    let first = datetime_format(values[0])?;
    values.iter().all(|v| datetime_format(v) == Some(first)).then(|| {
        col.date_format = Some(first.to_owned());
        FieldType::Datetime
    })
}
