//! What an export contains: an entity, a format, and the query of `GET /v1/data/{entity}` (filters, sort, fields),
//! checked by the very parser the data API uses, so a filter means the same in both places.

use hw_domain::model::Model;
use hw_domain::query::Query;
use hw_export::{Columns, ExportError, Format};
use serde::{Deserialize, Serialize};

/// One filter: `filter[{field}][{op}]={value}` on the data API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterTerm {
    pub field: String,
    pub op: String,
    /// The value as the data API takes it in the query string (`in`: comma-separated).
    pub value: String,
}

/// The definition of an export, as stored on jobs and templates.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExportSpec {
    pub entity: String,
    /// `csv`, `xlsx`, `json`, `ndjson` or `xml` (checked on input).
    pub format: String,
    #[serde(default)]
    pub filter: Vec<FilterTerm>,
    /// `-age,email`, as the data API's `sort`.
    #[serde(default)]
    pub sort: Option<String>,
    /// The columns after `id`, in order; absent: every field of the model (sensitive ones only with
    /// `include_sensitive`).
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// Whether fields marked sensitive may be exported (decrypted).
    #[serde(default)]
    pub include_sensitive: bool,
    /// Whether `created_at`, `updated_at` and `version` columns follow the fields.
    #[serde(default)]
    pub include_system: bool,
}

/// Why a spec does not fit its model. `parameter` names the part at fault the way the data API names its query
/// parameters (`filter[age][gte]`, `sort`) or, for the rest, the member (`fields`, `format`); `code` and `detail`
/// are the data API's own for filters and sort.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {detail}")]
pub struct SpecError {
    pub parameter: String,
    pub code: &'static str,
    pub detail: String,
}

impl SpecError {
    fn new(parameter: &str, code: &'static str, detail: impl Into<String>) -> Self {
        Self { parameter: parameter.to_owned(), code, detail: detail.into() }
    }
}

/// A spec checked against its model: what the runner executes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub format: Format,
    pub query: Query,
    pub columns: Columns,
}

impl FilterTerm {
    /// The data API's query parameter name of this filter.
    pub fn parameter(&self) -> String {
        format!("filter[{}][{}]", self.field, self.op)
    }
}

impl ExportSpec {
    /// The data API query parameters this spec stands for.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = self.filter.iter().map(|t| (t.parameter(), t.value.clone())).collect();
        if let Some(s) = &self.sort {
            params.push(("sort".to_owned(), s.clone()));
        }
        params
    }

    /// Checks the spec against the entity's model (at creation, and again at run time: the model may have changed
    /// in between).
    pub fn plan(&self, model: &Model) -> Result<Plan, SpecError> {
        let format =
            Format::parse(&self.format).map_err(|e| SpecError::new("format", "invalid-format", e.to_string()))?;
        let query = Query::parse(model, &self.params()).map_err(|e| SpecError {
            parameter: e.parameter,
            code: e.code,
            detail: e.detail,
        })?;
        let sensitive_named = self
            .fields
            .iter()
            .flatten()
            .find(|name| model.field(name).is_some_and(|f| f.sensitive) && !self.include_sensitive);
        if let Some(name) = sensitive_named {
            return Err(SpecError::new(
                "fields",
                "sensitive-field",
                format!("`{name}` is sensitive: set include_sensitive (which needs the admin scope) to export it"),
            ));
        }
        let all: Vec<String>;
        let fields = match (&self.fields, self.include_sensitive) {
            (Some(f), _) => Some(f.as_slice()),
            (None, true) => {
                all = model.fields.iter().map(|f| f.name.clone()).collect();
                Some(all.as_slice())
            }
            (None, false) => None,
        };
        let columns = Columns::for_model(model, fields, self.include_system).map_err(|e| match e {
            ExportError::UnknownField { field, entity } => {
                SpecError::new("fields", "unknown-field", format!("`{field}` is not a field of `{entity}`"))
            }
            ExportError::DuplicateField(f) => {
                SpecError::new("fields", "duplicate-field", format!("`{f}` is listed twice in `fields`"))
            }
            other => SpecError::new("fields", "invalid-parameter", other.to_string()),
        })?;
        Ok(Plan { format, query, columns })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub fn contact() -> Model {
        serde_json::from_value(json!({"name": "contact", "label": "Contact", "version": 1,
            "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z", "fields": [
            {"name": "email", "type": "email", "required": true},
            {"name": "age", "type": "integer"},
            {"name": "tax_id", "type": "string", "sensitive": true},
            {"name": "profile", "type": "json"}]}))
        .unwrap()
    }

    fn spec(v: serde_json::Value) -> ExportSpec {
        serde_json::from_value(v).unwrap()
    }

    fn names(p: &Plan) -> Vec<&str> {
        p.columns.names().collect()
    }

    #[test]
    fn filters_and_sort_are_the_data_apis() {
        let s = spec(json!({"entity": "contact", "format": "csv",
            "filter": [{"field": "age", "op": "gte", "value": "30"}, {"field": "email", "op": "in", "value": "a@x.io,b@x.io"}],
            "sort": "-age"}));
        assert_eq!(s.params()[0], ("filter[age][gte]".to_owned(), "30".to_owned()));
        let p = s.plan(&contact()).unwrap();
        assert_eq!((p.query.filters.len(), p.query.sort.len(), p.format), (2, 1, Format::Csv));
        assert_eq!(names(&p), ["id", "email", "age", "profile"], "sensitive fields stay out by default");

        let bad = |v| spec(v).plan(&contact()).unwrap_err();
        let e = bad(
            json!({"entity": "contact", "format": "csv", "filter": [{"field": "age", "op": "gte", "value": "old"}]}),
        );
        assert_eq!((e.parameter.as_str(), e.code), ("filter[age][gte]", "invalid-value"));
        let e =
            bad(json!({"entity": "contact", "format": "csv", "filter": [{"field": "nope", "op": "eq", "value": "1"}]}));
        assert_eq!(e.code, "unknown-field");
        let e = bad(
            json!({"entity": "contact", "format": "csv", "filter": [{"field": "age", "op": "like", "value": "1"}]}),
        );
        assert_eq!(e.code, "invalid-operator");
        let e = bad(json!({"entity": "contact", "format": "csv", "sort": "profile"}));
        assert_eq!((e.parameter.as_str(), e.code), ("sort", "unsortable-field"));
        let e = bad(json!({"entity": "contact", "format": "pdf"}));
        assert_eq!((e.parameter.as_str(), e.code), ("format", "invalid-format"));
    }

    #[test]
    fn fields_choose_columns_and_sensitive_ones_need_the_flag() {
        let p =
            spec(json!({"entity": "contact", "format": "json", "fields": ["age", "email"], "include_system": true}))
                .plan(&contact())
                .unwrap();
        assert_eq!(names(&p), ["id", "age", "email", "created_at", "updated_at", "version"]);
        let e =
            spec(json!({"entity": "contact", "format": "json", "fields": ["tax_id"]})).plan(&contact()).unwrap_err();
        assert_eq!((e.parameter.as_str(), e.code), ("fields", "sensitive-field"));
        let p = spec(json!({"entity": "contact", "format": "json", "fields": ["tax_id"], "include_sensitive": true}))
            .plan(&contact())
            .unwrap();
        assert_eq!(names(&p), ["id", "tax_id"]);
        let p =
            spec(json!({"entity": "contact", "format": "json", "include_sensitive": true})).plan(&contact()).unwrap();
        assert_eq!(names(&p), ["id", "email", "age", "tax_id", "profile"]);
        let e = spec(json!({"entity": "contact", "format": "json", "fields": ["email", "email"]})).plan(&contact());
        assert_eq!(e.unwrap_err().code, "duplicate-field");
        let e = spec(json!({"entity": "contact", "format": "json", "fields": ["id"]})).plan(&contact());
        assert_eq!(e.unwrap_err().code, "unknown-field");
    }
}
