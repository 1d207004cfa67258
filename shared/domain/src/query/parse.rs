//! Parsing of `filter[...]` and `sort` parameters.

use super::*;

/// `filter[field]=v` (equality) or `filter[field][op]=v`.
pub(super) fn parse_filter(model: &Model, key: &str, raw: &str) -> Result<Filter, QueryError> {
    let err = |code, detail: String| QueryError::new(key, code, detail);
    let malformed = || {
        err("invalid-parameter", format!("`{key}` is not a filter; use filter[field]=value or filter[field][op]=value"))
    };
    let inner = key.strip_prefix("filter[").ok_or_else(malformed)?;
    let (name, rest) = inner.split_once(']').ok_or_else(malformed)?;
    let op = match rest {
        "" => Op::Eq,
        _ => {
            let op_name = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')).ok_or_else(malformed)?;
            if op_name.contains(['[', ']']) {
                return Err(malformed());
            }
            Op::parse(op_name).ok_or_else(|| {
                err(
                    "invalid-operator",
                    format!(
                        "`{op_name}` is not a filter operator; use one of: {}",
                        Op::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?
        }
    };
    let field = FieldRef::resolve(model, name).ok_or_else(|| {
        err("unknown-field", format!("`{name}` is not a field of `{}` (nor id, created_at, updated_at)", model.name))
    })?;
    if !field.kind.ops().contains(&op) {
        let allowed: Vec<&str> = field.kind.ops().iter().map(|o| o.as_str()).collect();
        return Err(err(
            "invalid-operator",
            format!("`{}` does not apply to `{name}`; its operators are: {}", op.as_str(), allowed.join(", ")),
        ));
    }
    let bad_value = |detail: String| err("invalid-value", detail);
    let (values, is_null) = match op {
        Op::IsNull => match raw {
            "true" => (vec![], true),
            "false" => (vec![], false),
            _ => return Err(bad_value(format!("isNull takes true or false, not `{raw}`"))),
        },
        Op::In => {
            let parts: Vec<&str> = raw.split(',').collect();
            if raw.is_empty() {
                return Err(bad_value("`in` needs a comma-separated list of at least one value".into()));
            }
            if parts.len() > MAX_IN_VALUES {
                return Err(err(
                    "too-many-values",
                    format!("`in` takes at most {MAX_IN_VALUES} values; {} were given", parts.len()),
                ));
            }
            (parts.iter().map(|p| field.parse_value(p)).collect::<Result<_, _>>().map_err(bad_value)?, false)
        }
        Op::Contains | Op::StartsWith if raw.is_empty() => {
            return Err(bad_value(format!("`{}` needs a non-empty value", op.as_str())));
        }
        _ => (vec![field.parse_value(raw).map_err(bad_value)?], false),
    };
    Ok(Filter { field, op, values, is_null })
}

/// `sort=-updated_at,name`.
pub(super) fn parse_sort(model: &Model, raw: &str) -> Result<Vec<SortKey>, QueryError> {
    let err = |code, detail: String| QueryError::new("sort", code, detail);
    let mut keys: Vec<SortKey> = Vec::new();
    for part in raw.split(',') {
        let (descending, name) = match part.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, part),
        };
        if name.is_empty() {
            return Err(err(
                "invalid-parameter",
                "`sort` is a comma-separated list of fields, each optionally prefixed with `-`".into(),
            ));
        }
        let field = FieldRef::resolve(model, name).ok_or_else(|| {
            err(
                "unknown-field",
                format!("`{name}` is not a field of `{}` (nor id, created_at, updated_at)", model.name),
            )
        })?;
        if field.kind == Kind::Json {
            return Err(err("unsortable-field", format!("`{name}` is a json field and has no order")));
        }
        if field.sensitive {
            return Err(err(
                "unsortable-field",
                format!("`{name}` is sensitive: sorting by it would put its values into page cursors"),
            ));
        }
        if keys.iter().any(|k| k.field.name == field.name) {
            return Err(err("invalid-parameter", format!("`{name}` appears twice in `sort`")));
        }
        let is_id = field.kind == Kind::Id;
        keys.push(SortKey { field, descending });
        if is_id {
            break_after_id(raw, name)?;
        }
    }
    if keys.len() > MAX_SORT_KEYS {
        return Err(err("too-many-sort-keys", format!("`sort` takes at most {MAX_SORT_KEYS} fields")));
    }
    Ok(keys)
}

/// Ids are unique: a key after `id` could never decide anything, so it is refused rather than ignored.
fn break_after_id(raw: &str, name: &str) -> Result<(), QueryError> {
    let last = raw.rsplit(',').next().unwrap_or_default().trim_start_matches('-');
    if last == name {
        Ok(())
    } else {
        Err(QueryError::new("sort", "invalid-parameter", "`id` is unique: it can only be the last sort key"))
    }
}
