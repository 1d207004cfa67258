//! A stored record: system attributes plus the tenant-defined attributes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub entity: String,
    pub attributes: Map<String, Value>,
    /// Optimistic-concurrency counter: 1 on creation, +1 on every update.
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: String,
    pub updated_by: String,
}

/// What changed in one update: field → `{"from": old, "to": new}` (`null` where absent).
pub fn diff(before: &Map<String, Value>, after: &Map<String, Value>) -> Map<String, Value> {
    let mut changes = Map::new();
    let keys = before.keys().chain(after.keys().filter(|k| !before.contains_key(*k)));
    for k in keys {
        let (b, a) = (before.get(k), after.get(k));
        if b != a {
            changes.insert(
                k.clone(),
                serde_json::json!({"from": b.cloned().unwrap_or(Value::Null), "to": a.cloned().unwrap_or(Value::Null)}),
            );
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_reports_added_removed_and_changed() {
        let b = json!({"a": 1, "b": 2, "c": 3}).as_object().unwrap().clone();
        let a = json!({"a": 1, "b": 5, "d": 4}).as_object().unwrap().clone();
        let d = diff(&b, &a);
        assert_eq!(d.len(), 3);
        assert_eq!(d["b"], json!({"from": 2, "to": 5}));
        assert_eq!(d["c"], json!({"from": 3, "to": null}));
        assert_eq!(d["d"], json!({"from": null, "to": 4}));
    }
}
