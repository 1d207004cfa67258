//! The user's mapping and rules, checked against the detected columns and the model, and applied to rows.

use std::collections::{BTreeMap, HashMap};

use hw_domain::model::{FieldType, Model};
use hw_import::{Row, Table};
use hw_store::ports::DataStore;
use serde_json::{Map, Value};

use crate::processor::ChunkError;
use crate::report::RowError;
use crate::service::Invalid;

/// Values looked up for reference rules: (field, raw value) → record id.
pub type Lookups = HashMap<(String, String), String>;

/// Checks `raw` (`{"mapping": {...}, "rules": {...}}`) without compiling it for use.
pub fn check(raw: &Value, columns: &[String], model: &Model) -> Result<(), Vec<Invalid>> {
    parse(raw, columns, model).map(|_| ())
}

fn parse(raw: &Value, columns: &[String], model: &Model) -> Result<BTreeMap<String, String>, Vec<Invalid>> {
    let mut problems = Vec::new();
    let mapping: BTreeMap<String, String> = match raw.get("mapping") {
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(f) => Some((k.clone(), f.clone())),
                _ => {
                    problems.push(Invalid {
                        pointer: format!("/mapping/{}", pointer_escape(k)),
                        code: "invalid-mapping",
                        detail: "map each column to a field name".into(),
                    });
                    None
                }
            })
            .collect(),
        _ => {
            problems.push(Invalid { pointer: "/mapping".into(), code: "invalid-mapping", detail: "`mapping` is an object: column → field".into() });
            BTreeMap::new()
        }
    };
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (column, field) in &mapping {
        let at = format!("/mapping/{}", pointer_escape(column));
        if !columns.contains(column) {
            problems.push(Invalid { pointer: at.clone(), code: "unknown-column", detail: format!("the file has no column `{column}`") });
        }
        if !model.fields.iter().any(|f| f.name == *field) {
            problems.push(Invalid { pointer: at.clone(), code: "unknown-field", detail: format!("`{}` has no field `{field}`", model.name) });
        }
        if let Some(other) = seen.insert(field, column) {
            problems.push(Invalid { pointer: at, code: "field-mapped-twice", detail: format!("`{field}` is already mapped from `{other}`") });
        }
    }
    if mapping.is_empty() && problems.is_empty() {
        problems.push(Invalid { pointer: "/mapping".into(), code: "empty-mapping", detail: "map at least one column".into() });
    }
    if let Some(Value::Object(rules)) = raw.get("rules")
        && !rules.is_empty()
    {
        problems.push(Invalid { pointer: "/rules".into(), code: "unsupported-rules", detail: "rules are not supported by this build".into() });
    }
    if problems.is_empty() { Ok(mapping) } else { Err(problems) }
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// A checked spec, ready for many rows.
pub struct Converter {
    /// (column index, field name, field type)
    targets: Vec<(usize, String, FieldType)>,
    column_of: HashMap<String, String>,
}

impl Converter {
    pub fn new(raw: &Value, columns: &[String], model: &Model) -> Result<Self, String> {
        let mapping = parse(raw, columns, model).map_err(|p| {
            p.into_iter().map(|i| format!("{}: {}", i.pointer, i.detail)).collect::<Vec<_>>().join("; ")
        })?;
        let mut targets = Vec::new();
        let mut column_of = HashMap::new();
        for (column, field) in mapping {
            let index = columns.iter().position(|c| *c == column).expect("checked");
            let ty = model.fields.iter().find(|f| f.name == field).expect("checked").field_type;
            column_of.insert(field.clone(), column);
            targets.push((index, field, ty));
        }
        Ok(Self { targets, column_of })
    }

    /// The mapped fields.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.targets.iter().map(|(_, f, _)| f.as_str())
    }

    /// The column a field comes from (the field's name when none does).
    pub fn column_of(&self, field: &str) -> String {
        self.column_of.get(field).cloned().unwrap_or_else(|| field.to_owned())
    }

    pub async fn resolve_lookups(&self, _table: &Table, _data: &dyn DataStore, _tenant: &str) -> Result<Lookups, ChunkError> {
        Ok(Lookups::new())
    }

    pub fn convert(&self, row: &Row, _lookups: &Lookups) -> Result<Map<String, Value>, Vec<RowError>> {
        let mut out = Map::new();
        let mut errors = Vec::new();
        for (index, field, ty) in &self.targets {
            let Some(cell) = row.cells.get(*index).and_then(|c| c.as_deref()).map(str::trim).filter(|c| !c.is_empty())
            else {
                continue;
            };
            match typed(cell, *ty) {
                Ok(v) => {
                    out.insert(field.clone(), v);
                }
                Err(reason) => errors.push(RowError {
                    row: row.number as u64,
                    column: self.column_of(field),
                    value: cell.to_owned(),
                    reason,
                }),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }
}

fn typed(v: &str, ty: FieldType) -> Result<Value, String> {
    match ty {
        FieldType::Integer => v.parse::<i64>().map(Value::from).map_err(|_| format!("`{v}` is not a whole number")),
        FieldType::Decimal => v
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{v}` is not a number")),
        FieldType::Boolean => match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("`{v}` is not true or false")),
        },
        FieldType::Json => serde_json::from_str(v).map_err(|e| format!("not JSON: {e}")),
        _ => Ok(Value::String(v.to_owned())),
    }
}
