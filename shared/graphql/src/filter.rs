//! Connection arguments (`filter`, `sort`) into the domain's query: each field filter is a set of operators that
//! AND together; `and`, `or` and `not` nest. Values are checked with the same rules as the REST query string.

use hw_domain::model::Model;
use hw_domain::query::{Condition, FieldRef, Filter, Kind, MAX_IN_VALUES, MAX_SORT_KEYS, Op, Query, SortKey};
use serde_json::Value;

use crate::errors::bad_argument;

/// Most operator leaves one filter argument may hold, however nested.
pub const MAX_FILTER_LEAVES: usize = 50;
/// Deepest nesting of `and`/`or`/`not`.
pub const MAX_FILTER_NESTING: usize = 5;

type Result<T> = async_graphql::Result<T>;

/// Sort enum value of a field: `FIRST_NAME_ASC` / `FIRST_NAME_DESC`.
pub fn sort_value(field: &str, descending: bool) -> String {
    format!("{}_{}", field.to_ascii_uppercase(), if descending { "DESC" } else { "ASC" })
}

/// Whether a field may be filtered or sorted on in GraphQL (sensitive values are never compared).
pub fn is_queryable(f: &FieldRef) -> bool {
    !f.sensitive
}

pub fn parse(model: &Model, filter: Option<&Value>, sort: Option<&Value>) -> Result<Query> {
    let mut query = Query::default();
    let mut leaves = 0;
    if let Some(Value::Object(f)) = filter {
        let mut rest = Vec::new();
        for (k, v) in f {
            if matches!(k.as_str(), "and" | "or" | "not") {
                rest.push((k.clone(), v.clone()));
                continue;
            }
            query.filters.extend(field_filters(model, k, v, &format!("filter.{k}"), &mut leaves)?);
        }
        if !rest.is_empty() {
            let map = rest.into_iter().collect();
            query.condition = Some(condition(model, &map, "filter", 1, &mut leaves)?);
        }
    }
    if let Some(Value::Array(keys)) = sort {
        if keys.len() > MAX_SORT_KEYS {
            return Err(bad_argument("sort", "too-many-sort-keys", format!("sort by at most {MAX_SORT_KEYS} keys")));
        }
        for k in keys {
            let Some(v) = k.as_str() else { continue };
            let (name, descending) = match (v.strip_suffix("_DESC"), v.strip_suffix("_ASC")) {
                (Some(n), _) => (n, true),
                (_, Some(n)) => (n, false),
                _ => return Err(bad_argument("sort", "unknown-sort", format!("`{v}` is not a sort of this entity"))),
            };
            let field = FieldRef::resolve(model, &name.to_ascii_lowercase())
                .filter(|f| is_queryable(f) && f.kind != Kind::Json)
                .ok_or_else(|| bad_argument("sort", "unknown-sort", format!("`{v}` is not a sort of this entity")))?;
            if query.sort.iter().any(|s| s.field.name == field.name) {
                return Err(bad_argument("sort", "duplicate-sort", format!("`{}` is sorted on twice", field.name)));
            }
            query.sort.push(SortKey { field, descending });
        }
    }
    Ok(query)
}

fn condition(
    model: &Model,
    f: &serde_json::Map<String, Value>,
    at: &str,
    nesting: usize,
    leaves: &mut usize,
) -> Result<Condition> {
    if nesting > MAX_FILTER_NESTING {
        return Err(bad_argument(at, "filter-too-deep", format!("and/or/not nest at most {MAX_FILTER_NESTING} deep")));
    }
    let mut all = Vec::new();
    for (k, v) in f {
        let here = format!("{at}.{k}");
        match (k.as_str(), v) {
            (_, Value::Null) => {}
            ("and" | "or", Value::Array(items)) => {
                let mut parts = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    if let Value::Object(o) = item {
                        parts.push(condition(model, o, &format!("{here}.{i}"), nesting + 1, leaves)?);
                    }
                }
                all.push(if k == "and" { Condition::All(parts) } else { Condition::Any(parts) });
            }
            ("not", Value::Object(o)) => {
                all.push(Condition::Not(Box::new(condition(model, o, &here, nesting + 1, leaves)?)));
            }
            _ => all.extend(field_filters(model, k, v, &here, leaves)?.into_iter().map(Condition::Leaf)),
        }
    }
    Ok(Condition::All(all))
}

/// The operators given for one field, each one filter.
fn field_filters(model: &Model, name: &str, ops: &Value, at: &str, leaves: &mut usize) -> Result<Vec<Filter>> {
    let field = FieldRef::resolve(model, name)
        .filter(is_queryable)
        .ok_or_else(|| bad_argument(at, "unknown-field", format!("`{name}` cannot be filtered on")))?;
    let Value::Object(ops) = ops else { return Ok(vec![]) };
    let mut out = Vec::new();
    for (op_name, v) in ops {
        if v.is_null() {
            continue;
        }
        let here = format!("{at}.{op_name}");
        let op = Op::parse(op_name).filter(|op| field.kind.ops().contains(op)).ok_or_else(|| {
            bad_argument(&here, "unknown-operator", format!("`{op_name}` does not apply to `{name}`"))
        })?;
        *leaves += 1;
        if *leaves > MAX_FILTER_LEAVES {
            return Err(bad_argument(
                &here,
                "too-many-filters",
                format!("a filter may hold at most {MAX_FILTER_LEAVES} conditions"),
            ));
        }
        let filter = match (op, v) {
            (Op::IsNull, Value::Bool(b)) => Filter { field: field.clone(), op, values: vec![], is_null: *b },
            (Op::In, Value::Array(items)) => {
                if items.len() > MAX_IN_VALUES {
                    return Err(bad_argument(
                        &here,
                        "too-many-values",
                        format!("`in` takes at most {MAX_IN_VALUES} values"),
                    ));
                }
                let mut values = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    values.push(scalar(&field, item, &format!("{here}.{i}"))?);
                }
                Filter { field: field.clone(), op, values, is_null: false }
            }
            (_, v) => Filter { field: field.clone(), op, values: vec![scalar(&field, v, &here)?], is_null: false },
        };
        out.push(filter);
    }
    Ok(out)
}

fn scalar(field: &FieldRef, v: &Value, at: &str) -> Result<hw_domain::query::Scalar> {
    let raw = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return Err(bad_argument(at, "invalid-value", format!("`{v}` is not a value of `{}`", field.name))),
    };
    field.parse_value(&raw).map_err(|m| bad_argument(at, "invalid-value", m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> Model {
        serde_json::from_value(json!({"name": "contact", "label": "Contact", "version": 1,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "integer"},
                       {"name": "ssn", "type": "string", "sensitive": true}]}))
        .unwrap()
    }

    fn record(name: &str, age: i64) -> hw_domain::record::Record {
        serde_json::from_value(json!({"id": name, "entity": "contact", "attributes": {"name": name, "age": age},
            "version": 1, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "created_by": "t", "updated_by": "t"}))
        .unwrap()
    }

    #[test]
    fn or_and_not_combine() {
        let f = json!({"age": {"gte": 18}, "or": [{"name": {"startsWith": "A"}}, {"not": {"age": {"lt": 65}}}]});
        let q = parse(&model(), Some(&f), Some(&json!(["AGE_DESC", "NAME_ASC"]))).unwrap();
        assert!(q.matches(&record("Ann", 30)));
        assert!(q.matches(&record("Bob", 70)));
        assert!(!q.matches(&record("Bob", 30)));
        assert!(!q.matches(&record("Ann", 10)));
        assert_eq!(q.sort.len(), 2);
        assert!(q.sort[0].descending);
    }

    #[test]
    fn bad_values_name_their_argument() {
        let err = parse(&model(), Some(&json!({"age": {"gt": "old"}})), None).unwrap_err();
        assert_eq!(err.extensions.unwrap().get("argument"), Some(&async_graphql::Value::from("filter.age.gt")));
        assert!(parse(&model(), Some(&json!({"ssn": {"eq": "1"}})), None).is_err(), "sensitive fields are not filters");
        assert!(parse(&model(), Some(&json!({"age": {"contains": "1"}})), None).is_err());
        assert!(parse(&model(), None, Some(&json!(["SSN_ASC"]))).is_err());
    }
}
