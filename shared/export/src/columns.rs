//! Which columns an export has, in which order, and where each cell's value comes from.

use hw_domain::model::{FieldType, Model};
use hw_domain::record::Record;
use serde_json::Value;

use crate::ExportError;

/// Where a column's values come from; field columns keep their model type so that renderers can type cells
/// (numbers stay numbers, dates become date cells in XLSX).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Id,
    Field(FieldType),
    CreatedAt,
    UpdatedAt,
    Version,
}

impl ColumnKind {
    /// The model type that decides how a cell is rendered; system columns behave like the type they hold.
    pub fn value_type(self) -> FieldType {
        match self {
            Self::Id => FieldType::String,
            Self::Field(t) => t,
            Self::CreatedAt | Self::UpdatedAt => FieldType::Datetime,
            Self::Version => FieldType::Integer,
        }
    }
}

/// One exported column: its name (header, JSON key, XML element) and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

impl Column {
    /// The value of this column in `record`; `Null` when the attribute is absent.
    pub fn value(&self, record: &Record) -> Value {
        match self.kind {
            ColumnKind::Id => Value::String(record.id.clone()),
            ColumnKind::Field(_) => record.attributes.get(&self.name).cloned().unwrap_or(Value::Null),
            ColumnKind::CreatedAt => Value::String(record.created_at.clone()),
            ColumnKind::UpdatedAt => Value::String(record.updated_at.clone()),
            ColumnKind::Version => Value::from(record.version),
        }
    }
}

/// The exported columns: `id` first, then the fields, then optionally `created_at`, `updated_at`, `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    entity: String,
    columns: Vec<Column>,
}

impl Columns {
    /// Columns of an export of `model`.
    ///
    /// `fields`: the fields to export, in that order; `None` means every field in model order except `sensitive`
    /// ones, which leave the platform only when asked for by name (secrets should not end up in a spreadsheet by
    /// default). An unknown or repeated field is an error naming it, so a typo never silently drops a column.
    /// `created_by`/`updated_by` are never exported: they identify principals, not data.
    pub fn for_model(model: &Model, fields: Option<&[String]>, include_system: bool) -> Result<Self, ExportError> {
        let mut columns = vec![Column { name: "id".into(), kind: ColumnKind::Id }];
        match fields {
            None => columns.extend(
                model
                    .fields
                    .iter()
                    .filter(|f| !f.sensitive)
                    .map(|f| Column { name: f.name.clone(), kind: ColumnKind::Field(f.field_type) }),
            ),
            Some(names) => {
                for name in names {
                    let f = model
                        .field(name)
                        .ok_or_else(|| ExportError::UnknownField { entity: model.name.clone(), field: name.clone() })?;
                    if columns.iter().any(|c| c.name == *name) {
                        return Err(ExportError::DuplicateField(name.clone()));
                    }
                    columns.push(Column { name: f.name.clone(), kind: ColumnKind::Field(f.field_type) });
                }
            }
        }
        if include_system {
            columns.push(Column { name: "created_at".into(), kind: ColumnKind::CreatedAt });
            columns.push(Column { name: "updated_at".into(), kind: ColumnKind::UpdatedAt });
            columns.push(Column { name: "version".into(), kind: ColumnKind::Version });
        }
        Ok(Self { entity: model.name.clone(), columns })
    }

    /// The entity (model name) being exported.
    pub fn entity(&self) -> &str {
        &self.entity
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Column> {
        self.columns.iter()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Never true (there is always `id`); present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::model;

    fn names(c: &Columns) -> Vec<&str> {
        c.names().collect()
    }

    #[test]
    fn defaults_to_all_fields_in_model_order_without_sensitive_ones() {
        let c = Columns::for_model(&model(), None, false).unwrap();
        assert_eq!(c.entity(), "contact");
        assert_eq!(names(&c)[0], "id");
        assert!(!names(&c).contains(&"secret"), "{:?}", names(&c));
        let m = model();
        let expected: Vec<&str> =
            std::iter::once("id").chain(m.fields.iter().filter(|f| !f.sensitive).map(|f| f.name.as_str())).collect();
        assert_eq!(names(&c), expected);
    }

    #[test]
    fn sensitive_fields_are_exported_when_requested_by_name() {
        let fields = vec!["email".to_owned(), "secret".to_owned()];
        let c = Columns::for_model(&model(), Some(&fields), true).unwrap();
        assert_eq!(names(&c), ["id", "email", "secret", "created_at", "updated_at", "version"]);
        assert_eq!(c.iter().nth(2).unwrap().kind, ColumnKind::Field(FieldType::String));
    }

    #[test]
    fn unknown_field_is_an_error_naming_it() {
        let fields = vec!["email".to_owned(), "emial".to_owned()];
        let err = Columns::for_model(&model(), Some(&fields), false).unwrap_err();
        assert!(matches!(&err, ExportError::UnknownField { field, entity } if field == "emial" && entity == "contact"));
        assert!(err.to_string().contains("emial"));
        let system = vec!["created_by".to_owned()];
        assert!(Columns::for_model(&model(), Some(&system), false).is_err());
    }

    #[test]
    fn repeated_field_is_an_error() {
        let fields = vec!["email".to_owned(), "email".to_owned()];
        assert!(
            matches!(Columns::for_model(&model(), Some(&fields), false), Err(ExportError::DuplicateField(f)) if f == "email")
        );
    }
}
