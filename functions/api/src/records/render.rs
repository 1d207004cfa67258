//! Records as JSON:API documents: resource objects (sparse fieldsets, relationships with links) and compound
//! documents (`included`, read in batches level by level, deduplicated, never repeating a primary resource).

use std::collections::{HashMap, HashSet};

use hw_domain::model::{FieldType, Model};
use hw_domain::principal::Principal;
use hw_domain::record::Record;
use serde_json::{Map, Value, json};

use super::params::{Fieldsets, Includes};
use crate::Deps;
use crate::error::ApiError;
use crate::http::{JSON_API, Response};

/// The links of a to-one relationship: `self` (the relationship) and `related` (the record it points to).
pub fn relationship_links(base: &str, entity: &str, id: &str, field: &str, target: &str, to: Option<&str>) -> Value {
    let mut links = json!({"self": format!("{base}/v1/data/{entity}/{id}/relationships/{field}")});
    if let Some(to) = to {
        links["related"] = json!(format!("{base}/v1/data/{target}/{to}"));
    }
    links
}

/// A record as a JSON:API resource object: references become relationships with links; `fields` (when given)
/// limits the attributes and relationships shown.
pub fn resource(base: &str, model: &Model, r: &Record, fields: Option<&HashSet<String>>) -> Value {
    let mut attributes = Map::new();
    let mut relationships = Map::new();
    for field in &model.fields {
        if fields.is_some_and(|f| !f.contains(&field.name)) {
            continue;
        }
        let value = r.attributes.get(&field.name).cloned().unwrap_or(Value::Null);
        match (&field.field_type, field.target.as_deref()) {
            (FieldType::Reference, Some(target)) => {
                let data = value.as_str().map(|id| json!({"type": target, "id": id})).unwrap_or(Value::Null);
                let links = relationship_links(base, &r.entity, &r.id, &field.name, target, value.as_str());
                relationships.insert(field.name.clone(), json!({"data": data, "links": links}));
            }
            _ => {
                attributes.insert(field.name.clone(), value);
            }
        }
    }
    let mut out = json!({
        "type": r.entity,
        "id": r.id,
        "attributes": attributes,
        "meta": {
            "version": r.version,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "created_by": r.created_by,
            "updated_by": r.updated_by,
        },
        "links": {"self": format!("{base}/v1/data/{}/{}", r.entity, r.id)},
    });
    if !relationships.is_empty() {
        out["relationships"] = Value::Object(relationships);
    }
    out
}

pub fn document(status: u16, mut body: Value) -> Response {
    body["jsonapi"] = json!({"version": "1.1"});
    Response::json(status, JSON_API, &body)
}

pub fn single(status: u16, base: &str, model: &Model, r: &Record) -> Response {
    document(status, json!({"data": resource(base, model, r, None)})).header("etag", format!("\"{}\"", r.version))
}

/// The `included` member for `primary` records of `model`: every record reached along the include paths, once.
/// Each level reads the related records of one entity in one batch (deduplicated ids, at most 100 keys per
/// BatchGetItem call), never one request per row.
pub async fn included(
    deps: &Deps,
    p: &Principal,
    base: &str,
    model: &Model,
    primary: &[Record],
    includes: &Includes,
    fields: &Fieldsets,
) -> Result<Vec<Value>, ApiError> {
    if includes.is_empty() {
        return Ok(vec![]);
    }
    let key = |r: &Record| (r.entity.clone(), r.id.clone());
    let mut known: HashMap<(String, String), Record> = primary.iter().map(|r| (key(r), r.clone())).collect();
    let primary_keys: HashSet<(String, String)> = known.keys().cloned().collect();
    let mut emitted: HashSet<(String, String)> = HashSet::new();
    let mut out = Vec::new();
    // One frontier entry: records of one model and the include subtree to follow from them.
    let mut frontier: Vec<(&Model, Vec<Record>, &Includes)> = vec![(model, primary.to_vec(), includes)];
    while !frontier.is_empty() {
        // Ids to read this level, per target entity (deduplicated, not already known).
        let mut wanted: HashMap<String, (&Model, Vec<String>)> = HashMap::new();
        for (_, records, node) in &frontier {
            for (field, (target, _)) in &node.children {
                for r in records {
                    let Some(id) = r.attributes.get(field).and_then(Value::as_str) else { continue };
                    if known.contains_key(&(target.name.clone(), id.to_owned())) {
                        continue;
                    }
                    let entry = wanted.entry(target.name.clone()).or_insert_with(|| (target, Vec::new()));
                    if !entry.1.iter().any(|x| x == id) {
                        entry.1.push(id.to_owned());
                    }
                }
            }
        }
        for (target, ids) in wanted.values() {
            for r in deps.records.fetch_many(p, target, ids).await? {
                known.insert(key(&r), r);
            }
        }
        let mut next = Vec::new();
        for (_, records, node) in &frontier {
            for (field, (target, child)) in &node.children {
                let mut reached = Vec::new();
                for r in records {
                    let Some(id) = r.attributes.get(field).and_then(Value::as_str) else { continue };
                    let k = (target.name.clone(), id.to_owned());
                    let Some(related) = known.get(&k) else { continue }; // a dangling reference
                    if !primary_keys.contains(&k) && emitted.insert(k.clone()) {
                        out.push(resource(base, target, related, fields.get(&target.name)));
                    }
                    reached.push(related.clone());
                }
                if !child.is_empty() && !reached.is_empty() {
                    next.push((target, reached, child));
                }
            }
        }
        frontier = next;
    }
    Ok(out)
}
