//! The user's mapping and rules (hw-import's `ImportSpec`), checked against the detected columns and the model,
//! and applied to rows; reference lookups resolved through the target entity's unique-value claims.

use std::collections::HashMap;

use hw_domain::model::Model;
use hw_domain::validate::unique_claim;
use hw_import::{
    CompiledSpec, ImportSpec, LookupTable, Row, Table, apply, collect_lookups, validate_spec_with_targets,
};
use hw_store::records::Records;
use serde_json::{Map, Value};

use crate::processor::ChunkError;
use crate::report::RowError;
use crate::service::Invalid;

pub type Lookups = LookupTable;

fn parse(raw: &Value, columns: &[String], model: &Model, targets: &[Model]) -> Result<CompiledSpec, Vec<Invalid>> {
    let spec: ImportSpec = serde_json::from_value(raw.clone())
        .map_err(|e| vec![Invalid { pointer: String::new(), code: "invalid-spec", detail: e.to_string() }])?;
    if spec.mapping.is_empty() && spec.rules.is_empty() {
        return Err(vec![Invalid {
            pointer: "/mapping".into(),
            code: "empty-mapping",
            detail: "map at least one column".into(),
        }]);
    }
    let target = |name: &str| targets.iter().find(|m| m.name == name);
    validate_spec_with_targets(&spec, columns, model, &target).map_err(|errors| {
        errors.into_iter().map(|e| Invalid { pointer: e.path, code: e.code, detail: e.message }).collect()
    })
}

/// Checks `raw` (`{"mapping": {...}, "rules": {...}}`); `targets` are the tenant's models, for lookups.
pub fn check(raw: &Value, columns: &[String], model: &Model, targets: &[Model]) -> Result<(), Vec<Invalid>> {
    parse(raw, columns, model, targets).map(|_| ())
}

/// A checked spec, ready for many rows.
pub struct Converter {
    spec: CompiledSpec,
    /// field → the column it comes from
    column_of: HashMap<String, String>,
}

impl Converter {
    pub fn new(raw: &Value, columns: &[String], model: &Model) -> Result<Self, String> {
        let spec = parse(raw, columns, model, &[]).map_err(|p| {
            p.into_iter().map(|i| format!("{}: {}", i.pointer, i.detail)).collect::<Vec<_>>().join("; ")
        })?;
        let column_of = raw
            .get("mapping")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(c, f)| Some((f.as_str()?.to_owned(), c.clone()))).collect())
            .unwrap_or_default();
        Ok(Self { spec, column_of })
    }

    /// The fields the spec fills.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.spec.fields()
    }

    /// The column a field comes from (the field's name when none does, e.g. a `concat`).
    pub fn column_of(&self, field: &str) -> String {
        self.column_of.get(field).cloned().unwrap_or_else(|| field.to_owned())
    }

    /// Looks up every distinct value of the table's `lookup` rules, one batch of claim reads per target.
    pub async fn resolve_lookups(&self, table: &Table, records: &Records, tenant: &str) -> Result<Lookups, ChunkError> {
        let mut found = LookupTable::default();
        for request in collect_lookups(&self.spec, table) {
            let target = match records.model(tenant, &request.entity).await {
                Ok(m) => m,
                // the rows will report the failed lookups one by one
                Err(hw_store::records::RecordError::UnknownEntity(_)) => continue,
                Err(e) => return Err(ChunkError::Transient(e.to_string())),
            };
            let Some(field) = target.fields.iter().find(|f| f.name == request.field) else { continue };
            let hashes: Vec<(String, String)> =
                request.values.iter().map(|v| (v.clone(), unique_claim(field, &Value::String(v.clone())))).collect();
            let wanted: Vec<String> = hashes.iter().map(|(_, h)| h.clone()).collect();
            let owners = records
                .data
                .find_claims(tenant, &request.entity, &request.field, &wanted)
                .await
                .map_err(|e| ChunkError::Transient(e.to_string()))?;
            for (value, hash) in hashes {
                if let Some(id) = owners.get(&hash) {
                    found.insert(&request.entity, &request.field, value, id.clone());
                }
            }
        }
        Ok(found)
    }

    pub fn convert(&self, row: &Row, lookups: &Lookups) -> Result<Map<String, Value>, Vec<RowError>> {
        apply(&self.spec, row, lookups).map_err(|errors| {
            errors
                .into_iter()
                .map(|e| RowError { row: e.row as u64, column: e.column, value: e.value, reason: e.reason })
                .collect()
        })
    }
}
