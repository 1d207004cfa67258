//! Running a compiled spec on rows. Values flow through the rules borrowed from the row where they can, so a field
//! without rewriting rules costs one allocation: its JSON value.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::format::Parsed;
use serde_json::{Map, Value};

use super::compile::{CompiledSpec, DateFormat, DateKind, Field, Step};
use super::{CellError, Lookup, LookupRequest, truncate};
use crate::{Row, Table};

/// Turns one row into the typed fields of a record, or every value of it that does not fit. Fields whose value ends
/// up empty are left out. A row's [`Row::problem`] (ragged CSV rows, spreadsheet errors) is not looked at: the caller
/// decides whether such rows are imported.
pub fn apply(spec: &CompiledSpec, row: &Row, lookups: &dyn Lookup) -> Result<Map<String, Value>, Vec<CellError>> {
    let mut out = Map::new();
    let mut errors = Vec::new();
    for field in &spec.fields {
        let value = match run(field, row, Some(lookups)) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err((value, reason)) => {
                errors.push(cell_error(row, field, &value, reason));
                continue;
            }
        };
        match crate::convert::convert(field.field_type, &value) {
            Ok(v) => {
                out.insert(field.name.clone(), v);
            }
            Err(reason) => errors.push(cell_error(row, field, &value, reason)),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// The distinct values each `lookup` rule of `spec` will look up in `table` (after the rules before it), so they can
/// be resolved in one batch per target.
pub fn collect_lookups(spec: &CompiledSpec, table: &Table) -> Vec<LookupRequest> {
    let mut requests: BTreeMap<(&str, &str), LookupRequest> = BTreeMap::new();
    for field in &spec.fields {
        let Some(Step::Lookup { entity, field: key }) = field.steps.last() else { continue };
        let request = requests.entry((entity, key)).or_insert_with(|| LookupRequest {
            entity: entity.clone(),
            field: key.clone(),
            values: Default::default(),
        });
        for row in &table.rows {
            // Values failing an earlier rule are reported by `apply`; there is nothing to look up for them.
            if let Ok(Some(v)) = run(field, row, None) {
                request.values.insert(v.into_owned());
            }
        }
    }
    requests.into_values().collect()
}

fn cell_error(row: &Row, field: &Field, value: &str, reason: String) -> CellError {
    CellError {
        row: row.number,
        column: field.source.clone(),
        field: field.name.clone(),
        value: truncate(value),
        reason,
    }
}

/// The field's text after its rules; `None` when empty. Without `lookups` the run stops before a `lookup` rule and
/// yields the value it would look up. Errors carry the value as it was when the rule failed.
fn run<'r>(
    field: &'r Field,
    row: &'r Row,
    lookups: Option<&dyn Lookup>,
) -> Result<Option<Cow<'r, str>>, (String, String)> {
    let mut value: Option<Cow<'r, str>> =
        field.column.and_then(|i| row.cells.get(i)).and_then(|c| c.as_deref()).map(Cow::Borrowed);
    for step in &field.steps {
        value = match (step, value) {
            (Step::Concat { columns, separator }, _) => concat(row, columns, separator),
            (Step::Default(d), None) => Some(Cow::Borrowed(d.as_str())),
            (Step::Default(_), v) => v,
            (_, None) => None,
            (Step::Trim, Some(v)) => Some(trim(v)),
            (Step::Lower, Some(v)) => {
                Some(if v.chars().any(char::is_uppercase) { Cow::Owned(v.to_lowercase()) } else { v })
            }
            (Step::Upper, Some(v)) => {
                Some(if v.chars().any(char::is_lowercase) { Cow::Owned(v.to_uppercase()) } else { v })
            }
            (Step::Title, Some(v)) => Some(Cow::Owned(titlecase(&v))),
            (Step::ValueMap { map, ignore_case }, Some(v)) => {
                let hit = if *ignore_case { map.get(&v.to_lowercase()) } else { map.get(v.as_ref()) };
                Some(hit.map_or(v, |to| Cow::Borrowed(to.as_str())))
            }
            (Step::DateFormat(f), Some(v)) => {
                Some(Cow::Owned(read_date(f, &v).map_err(|reason| (v.into_owned(), reason))?))
            }
            (Step::Split { separator, index }, Some(v)) => split(v, separator, *index),
            (Step::Replace { regex, replacement }, Some(v)) => {
                Some(match regex.replace_all(&v, replacement.as_str()) {
                    Cow::Borrowed(_) => v,
                    Cow::Owned(o) => Cow::Owned(o),
                })
            }
            (Step::Lookup { entity, field: key }, Some(v)) => match lookups {
                None => return Ok(Some(trim(v)).filter(|v| !v.is_empty())),
                Some(l) => match l.resolve(entity, key, v.trim()) {
                    Some(id) => Some(Cow::Owned(id)),
                    None => {
                        let reason = format!("no {entity} record has {key} = {:?}", v.trim());
                        return Err((v.into_owned(), reason));
                    }
                },
            },
        };
    }
    Ok(value.filter(|v| !v.trim().is_empty()))
}

fn trim(v: Cow<'_, str>) -> Cow<'_, str> {
    match v {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) if s.trim().len() == s.len() => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s.trim().to_owned()),
    }
}

fn concat<'r>(row: &'r Row, columns: &[usize], separator: &str) -> Option<Cow<'r, str>> {
    let mut parts = columns.iter().filter_map(|&i| row.cells.get(i).and_then(|c| c.as_deref()));
    let first = parts.next()?;
    let mut out = String::from(first);
    for p in parts {
        out.push_str(separator);
        out.push_str(p);
    }
    Some(Cow::Owned(out))
}

fn split<'r>(v: Cow<'r, str>, separator: &str, index: usize) -> Option<Cow<'r, str>> {
    match v {
        Cow::Borrowed(s) => s.split(separator).nth(index).map(|p| Cow::Borrowed(p.trim())),
        Cow::Owned(s) => s.split(separator).nth(index).map(|p| Cow::Owned(p.trim().to_owned())),
    }
}

/// Upper-cases the letter starting a word and lower-cases the others. A word starts after anything but a letter or a
/// digit (`2nd` stays), and after an apostrophe following a single letter (`o'neil` → `O'Neil`, `don't` → `Don't`).
fn titlecase(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut word_start = true;
    let mut prev_letters = 0usize;
    for c in v.chars() {
        if c.is_alphabetic() {
            if word_start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            word_start = false;
            prev_letters += 1;
        } else {
            out.push(c);
            // `o'neil` → `O'Neil`, but `don't` → `Don't`.
            word_start = !c.is_numeric() && (c != '\'' || prev_letters == 1);
            prev_letters = 0;
        }
    }
    out
}

/// Reads `v` with the rule's format and writes it as ISO 8601: `YYYY-MM-DD` for date fields, RFC 3339 when the
/// format has an offset, `YYYY-MM-DDTHH:MM:SS` otherwise (which the datetime conversion takes as UTC).
fn read_date(f: &DateFormat, v: &str) -> Result<String, String> {
    let mut parsed = Parsed::new();
    let mismatch = || format!("`{v}` does not match the date format {:?}", f.text);
    chrono::format::parse(&mut parsed, v.trim(), f.items.iter()).map_err(|_| mismatch())?;
    if f.date_field {
        let mut out = String::with_capacity(10);
        crate::convert::write_iso_date(parsed.to_naive_date().map_err(|_| mismatch())?, &mut out);
        return Ok(out);
    }
    match f.kind {
        DateKind::Offset => parsed.to_datetime().map(|t| t.to_rfc3339()),
        DateKind::Naive => {
            parsed.to_naive_datetime_with_offset(0).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
        }
        DateKind::Date => parsed.to_naive_date().map(|d| d.format("%Y-%m-%dT00:00:00").to_string()),
    }
    .map_err(|_| mismatch())
}

#[cfg(test)]
mod tests {
    use super::titlecase;

    #[test]
    fn titlecase_words() {
        assert_eq!(titlecase("jean-luc O'NEIL"), "Jean-Luc O'Neil");
        assert_eq!(titlecase("DON'T stop 2nd street"), "Don't Stop 2nd Street");
        assert_eq!(titlecase("élodie   de la cruz"), "Élodie   De La Cruz");
    }
}
