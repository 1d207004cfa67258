//! A tenant's models as the GraphQL schema sees them: each entity's GraphQL names and its reverse relations.

use std::collections::{BTreeMap, HashSet};

use hw_domain::model::{FieldType, Model};

use crate::names::{camel, list_field, pascal};

/// A reverse relation: on `target`, the connection of the `source` records whose `field` points at it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reverse {
    /// The GraphQL field on the target type (`contacts`, or `contactsByCompany`).
    pub name: String,
    pub source: String,
    pub field: String,
}

#[derive(Debug, Clone)]
pub struct Entity {
    pub model: Model,
    /// `Contact`
    pub type_name: String,
    /// `contact`
    pub one_field: String,
    /// `contacts`
    pub list_field: String,
    /// Relations other entities hold to this one.
    pub reverse: Vec<Reverse>,
}

impl Entity {
    pub fn name(&self) -> &str {
        &self.model.name
    }
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub entities: BTreeMap<String, Entity>,
}

impl Catalog {
    pub fn new(models: &[Model]) -> Self {
        let singulars: HashSet<String> = models.iter().map(|m| camel(&m.name)).collect();
        let mut entities: BTreeMap<String, Entity> = models
            .iter()
            .map(|m| {
                let mut list = list_field(&m.name);
                if singulars.contains(&list) {
                    // `person` and `people` both defined: the list of `person` cannot be `people`.
                    list = format!("{}List", camel(&m.name));
                }
                let e = Entity {
                    type_name: pascal(&m.name),
                    one_field: camel(&m.name),
                    list_field: list,
                    model: m.clone(),
                    reverse: vec![],
                };
                (m.name.clone(), e)
            })
            .collect();
        for m in models {
            let refs: Vec<(&str, &str)> = m
                .fields
                .iter()
                .filter(|f| f.field_type == FieldType::Reference)
                .filter_map(|f| f.target.as_deref().map(|t| (f.name.as_str(), t)))
                .collect();
            for (field, target) in &refs {
                let Some(t) = entities.get_mut(*target) else { continue };
                let base = list_field(&m.name);
                let same_target = refs.iter().filter(|(_, t2)| t2 == target).count();
                let taken = |n: &str, t: &Entity| t.model.field(n).is_some() || t.reverse.iter().any(|r| r.name == n);
                let name = if same_target > 1 || taken(&base, t) { format!("{base}By{}", pascal(field)) } else { base };
                t.reverse.push(Reverse { name, source: m.name.clone(), field: (*field).to_owned() });
            }
        }
        Self { entities }
    }

    pub fn get(&self, entity: &str) -> Option<&Entity> {
        self.entities.get(entity)
    }

    pub fn by_type(&self, type_name: &str) -> Option<&Entity> {
        self.entities.values().find(|e| e.type_name == type_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(name: &str, fields: serde_json::Value) -> Model {
        serde_json::from_value(json!({"name": name, "label": name, "fields": fields, "version": 1,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}))
        .unwrap()
    }

    #[test]
    fn reverse_relations_are_named_after_the_source_and_disambiguated() {
        let company = model("company", json!([{"name": "name", "type": "string"}]));
        let contact = model("contact", json!([{"name": "company", "type": "reference", "target": "company"}]));
        let deal = model(
            "deal",
            json!([{"name": "buyer", "type": "reference", "target": "company"},
                   {"name": "seller", "type": "reference", "target": "company"}]),
        );
        let c = Catalog::new(&[company, contact, deal]);
        let names: Vec<&str> = c.get("company").unwrap().reverse.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["contacts", "dealsByBuyer", "dealsBySeller"]);
        assert_eq!(c.get("company").unwrap().list_field, "companies");
    }
}
