//! Test fixtures: a model with every field type and records exercising them.

use hw_domain::model::Model;
use hw_domain::record::Record;
use serde_json::{Value, json};

use crate::{Columns, CsvOptions, Format, renderer};

pub fn model() -> Model {
    serde_json::from_value(json!({
        "name": "contact",
        "label": "Contact",
        "fields": [
            {"name": "name", "type": "string"},
            {"name": "notes", "type": "text"},
            {"name": "age", "type": "integer"},
            {"name": "balance", "type": "decimal"},
            {"name": "active", "type": "boolean"},
            {"name": "birthday", "type": "date"},
            {"name": "last_seen", "type": "datetime"},
            {"name": "email", "type": "email"},
            {"name": "website", "type": "url"},
            {"name": "tier", "type": "enum", "values": ["gold", "silver"]},
            {"name": "company", "type": "reference", "target": "company"},
            {"name": "extra", "type": "json"},
            {"name": "secret", "type": "string", "sensitive": true}
        ],
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z"
    }))
    .unwrap()
}

pub fn record(id: &str, attributes: Value) -> Record {
    Record {
        id: id.to_owned(),
        entity: "contact".into(),
        attributes: attributes.as_object().unwrap().clone(),
        version: 3,
        created_at: "2026-01-02T03:04:05Z".into(),
        updated_at: "2026-01-03T04:05:06Z".into(),
        created_by: "user:1".into(),
        updated_by: "user:2".into(),
    }
}

/// A fully populated record, one with only some attributes, and one with awkward text.
pub fn records() -> Vec<Record> {
    vec![
        record(
            "01A",
            json!({
                "name": "Ada", "notes": "line1\nline2", "age": -42, "balance": 1234.5, "active": true,
                "birthday": "1990-12-31", "last_seen": "2026-01-31T09:30:00Z", "email": "ada@example.com",
                "website": "https://example.com/a?b=1&c=2", "tier": "gold", "company": "01COMPANY",
                "extra": {"b": [1, 2], "a": "x"}, "secret": "hunter2"
            }),
        ),
        record("01B", json!({"name": "Bob", "active": false, "age": 7})),
        record("01C", json!({"name": "Quote \"me\", please", "notes": "<tag> & \"q\" 'a'", "balance": 0.25})),
    ]
}

pub fn all_columns() -> Columns {
    Columns::for_model(&model(), None, true).unwrap()
}

/// Renders `records` with `format` into bytes, through the public factory.
pub fn render(format: Format, columns: Columns, records: &[Record]) -> Vec<u8> {
    render_csv_with(format, columns, CsvOptions::default(), records)
}

pub fn render_csv_with(format: Format, columns: Columns, csv: CsvOptions, records: &[Record]) -> Vec<u8> {
    let buf = SharedBuf::default();
    let mut r = renderer(format, columns, csv, buf.clone());
    r.begin().unwrap();
    for rec in records {
        r.write(rec).unwrap();
    }
    r.finish().unwrap();
    buf.take()
}

/// A `Write` the test keeps a handle on after the renderer consumed its copy.
#[derive(Clone, Default)]
pub struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedBuf {
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl std::io::Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
