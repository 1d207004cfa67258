//! The customer file the import benchmarks share: `benches/pipeline.rs` (criterion, in memory),
//! `examples/throughput.rs` (a file on disk, read the same way DuckDB reads it in bench/imports.py) and
//! import-chunk-processor's `examples/chunk_memory.rs`; bench/imports.py defines the same model and start request.

use hw_domain::model::Model;
use hw_import::{CompiledSpec, validate_spec};

/// The file's header: a person would map `id` onto `external_id` and `signup date` onto `signed_up`.
pub const HEADER: &str = "id,name,email,age,score,active,signup date,country\n";

/// Row `i` of the file: every tenth name quoted (a comma inside), e-mails with stray spaces and capitals,
/// `yes`/`no` booleans, day-first dates, and country names a value map turns into codes.
pub fn row(i: usize, out: &mut String) {
    use std::fmt::Write as _;
    let countries = ["Belgium", "France", "Netherlands", "Germany", "Spain"];
    if i.is_multiple_of(10) {
        let _ = write!(out, "{i},\"Doe, Jane {i}\",");
    } else {
        let _ = write!(out, "{i},Person {i},");
    }
    let _ = writeln!(
        out,
        " User{i}@Example.com ,{},{}.{:02},{},{:02}/{:02}/20{:02},{}",
        18 + i % 60,
        i % 1000,
        i % 100,
        if i.is_multiple_of(3) { "yes" } else { "no" },
        1 + i % 28,
        1 + i % 12,
        i % 25,
        countries[i % countries.len()],
    );
}

/// The first `rows` rows with the header.
pub fn csv(rows: usize) -> Vec<u8> {
    let mut out = String::from(HEADER);
    for i in 0..rows {
        row(i, &mut out);
    }
    out.into_bytes()
}

pub fn model() -> Model {
    serde_json::from_value(serde_json::json!({
        "name": "customer", "label": "Customer", "version": 1,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "fields": [
            {"name": "external_id", "type": "integer"},
            {"name": "name", "type": "string"},
            {"name": "email", "type": "email", "required": true, "unique": true},
            {"name": "age", "type": "integer"},
            {"name": "score", "type": "decimal"},
            {"name": "active", "type": "boolean"},
            {"name": "signed_up", "type": "date"},
            {"name": "country", "type": "enum", "values": ["BE", "FR", "NL", "DE", "ES"]}
        ]
    }))
    .expect("benchmark model")
}

/// The mapping and rules a person would confirm for this file.
pub fn spec_json() -> serde_json::Value {
    serde_json::json!({
        "mapping": {
            "id": "external_id", "name": "name", "email": "email", "age": "age", "score": "score",
            "active": "active", "signup date": "signed_up", "country": "country"
        },
        "rules": {
            "email": [{"op": "trim"}, {"op": "lowercase"}],
            "signed_up": [{"op": "date_format", "format": "%d/%m/%Y"}],
            "country": [{"op": "value_map", "ignore_case": true, "map": {
                "belgium": "BE", "france": "FR", "netherlands": "NL", "germany": "DE", "spain": "ES"
            }}]
        }
    })
}

pub fn spec(columns: &[String]) -> CompiledSpec {
    let spec = serde_json::from_value(spec_json()).expect("benchmark spec");
    validate_spec(&spec, columns, &model()).expect("valid benchmark spec")
}
