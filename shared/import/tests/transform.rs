//! Import specs: deserializing what the HTTP API receives, validation with pointers to the problem, rules, typed
//! conversion, batch lookups and per-cell errors.

use hw_domain::model::Model;
use hw_import::{
    CellError, ImportSpec, LookupTable, NoLookups, Row, Rule, Table, apply, collect_lookups, validate_spec,
    validate_spec_with_targets,
};
use serde_json::{Value, json};

fn model(name: &str, fields: Value) -> Model {
    serde_json::from_value(json!({
        "name": name,
        "label": name,
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "fields": fields,
    }))
    .unwrap()
}

fn contact() -> Model {
    model(
        "contact",
        json!([
            {"name": "email", "type": "email", "required": true, "unique": true},
            {"name": "full_name", "type": "string"},
            {"name": "age", "type": "integer"},
            {"name": "score", "type": "decimal"},
            {"name": "active", "type": "boolean"},
            {"name": "birthday", "type": "date"},
            {"name": "seen_at", "type": "datetime"},
            {"name": "country", "type": "enum", "values": ["BE", "FR", "NL"]},
            {"name": "prefs", "type": "json"},
            {"name": "company", "type": "reference", "target": "company"},
            {"name": "source", "type": "string"},
        ]),
    )
}

fn company() -> Model {
    model("company", json!([{"name": "domain", "type": "string", "unique": true}, {"name": "name", "type": "string"}]))
}

fn columns() -> Vec<String> {
    ["E-mail", "First", "Last", "Age", "Score", "Active", "Born", "Seen", "Country", "Prefs", "Company"]
        .map(String::from)
        .to_vec()
}

fn row(number: usize, cells: &[&str]) -> Row {
    Row { number, cells: cells.iter().map(|c| (!c.is_empty()).then(|| c.to_string())).collect(), problem: None }
}

fn spec(v: Value) -> ImportSpec {
    serde_json::from_value(v).unwrap()
}

fn full_spec() -> ImportSpec {
    spec(json!({
        "mapping": {
            "E-mail": "email", "Age": "age", "Score": "score", "Active": "active", "Born": "birthday",
            "Seen": "seen_at", "Country": "country", "Prefs": "prefs", "Company": "company"
        },
        "rules": {
            "email": [{"op": "trim"}, {"op": "lowercase"}],
            "full_name": [{"op": "concat", "columns": ["First", "Last"], "separator": " "}, {"op": "titlecase"}],
            "birthday": [{"op": "date_format", "format": "%d/%m/%Y"}],
            "seen_at": [{"op": "date_format", "format": "%d.%m.%Y %H:%M"}],
            "country": [
                {"op": "value_map", "map": {"belgium": "BE", "france": "FR"}, "ignore_case": true},
                {"op": "uppercase"}
            ],
            "score": [{"op": "regex_replace", "pattern": "^(\\d+),(\\d+)$", "replacement": "$1.$2"}],
            "company": [{"op": "split", "separator": "@", "index": 1}, {"op": "lookup", "entity": "company", "field": "domain"}],
            "source": [{"op": "default", "value": "import"}]
        }
    }))
}

#[test]
fn a_spec_round_trips_as_json_and_refuses_unknown_members() {
    let s = full_spec();
    let back: ImportSpec = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
    assert_eq!(s.rules["company"][0], Rule::Split { separator: "@".into(), index: 1 });
    for bad in [
        json!({"mapping": {}, "extra": 1}),
        json!({"mapping": {}, "rules": {"a": [{"op": "trim", "x": 1}]}}),
        json!({"mapping": {}, "rules": {"a": [{"op": "split", "separator": ",", "index": 0, "limit": 2}]}}),
        json!({"mapping": {}, "rules": {"a": [{"op": "explode"}]}}),
        json!({"mapping": {}, "rules": {"a": [{"op": "value_map"}]}}),
    ] {
        assert!(serde_json::from_value::<ImportSpec>(bad.clone()).is_err(), "{bad}");
    }
}

#[test]
fn rows_become_typed_records() {
    let compiled = validate_spec(&full_spec(), &columns(), &contact()).unwrap();
    let mut lookups = LookupTable::default();
    lookups.insert("company", "domain", "acme.io", "01JCOMPANY0000000000000001");
    let r = row(
        2,
        &[
            "  Ann@Acme.IO ",
            "ann",
            "o'neil",
            " 42 ",
            "3,5",
            "Yes",
            "31/01/1990",
            "01.02.2024 13:45",
            "belgium",
            r#"{"news": true}"#,
            "ann@acme.io",
        ],
    );
    let record = apply(&compiled, &r, &lookups).unwrap();
    assert_eq!(
        Value::Object(record),
        json!({
            "email": "ann@acme.io",
            "full_name": "Ann O'Neil",
            "age": 42,
            "score": 3.5,
            "active": true,
            "birthday": "1990-01-31",
            "seen_at": "2024-02-01T13:45:00Z",
            "country": "BE",
            "prefs": {"news": true},
            "company": "01JCOMPANY0000000000000001",
            "source": "import"
        })
    );
}

#[test]
fn empty_values_leave_fields_out_and_defaults_fill_them() {
    let compiled = validate_spec(&full_spec(), &columns(), &contact()).unwrap();
    let record = apply(&compiled, &row(3, &["b@x.io", "", "", "", "", "", "", "", "nl", "", ""]), &NoLookups).unwrap();
    assert_eq!(Value::Object(record), json!({"email": "b@x.io", "country": "NL", "source": "import"}));
}

#[test]
fn every_bad_value_of_a_row_is_reported() {
    let compiled = validate_spec(&full_spec(), &columns(), &contact()).unwrap();
    let long = "x".repeat(300);
    let cells = ["a@x.io", "", "", "1.5", &long, "maybe", "1990-01-31", "", "", "{oops", "bob@unknown.io"];
    let errors = apply(&compiled, &row(7, &cells), &NoLookups).unwrap_err();
    let by_field = |f: &str| errors.iter().find(|e| e.field == f).unwrap_or_else(|| panic!("{f}: {errors:?}"));
    assert_eq!(errors.len(), 6, "{errors:?}");
    let age: &CellError = by_field("age");
    assert_eq!((age.row, age.column.as_str(), age.value.as_str()), (7, "Age", "1.5"));
    assert!(age.reason.contains("not an integer"));
    let score = by_field("score");
    assert_eq!(score.value.chars().count(), 201, "cut to 200 characters and an ellipsis");
    assert!(by_field("active").reason.contains("not a boolean"));
    let born = by_field("birthday");
    assert!(born.reason.contains("%d/%m/%Y") && born.value == "1990-01-31", "{born:?}");
    assert!(by_field("prefs").reason.contains("not valid JSON"));
    let company = by_field("company");
    assert_eq!(company.value, "unknown.io");
    assert!(company.reason.contains("no company record has domain"), "{company:?}");
}

#[test]
fn lookups_are_collected_once_per_target_for_a_batch() {
    let compiled = validate_spec(&full_spec(), &columns(), &contact()).unwrap();
    let empty: [&str; 11] = Default::default();
    let mut rows = Vec::new();
    for (i, email) in ["a@acme.io", "b@acme.io", "c@other.org", "", "not-an-email"].iter().enumerate() {
        let mut cells = empty;
        cells[0] = "x@y.z";
        cells[10] = email;
        rows.push(row(i + 2, &cells));
    }
    let table = Table { columns: columns(), rows };
    let requests = collect_lookups(&compiled, &table);
    assert_eq!(requests.len(), 1);
    assert_eq!((requests[0].entity.as_str(), requests[0].field.as_str()), ("company", "domain"));
    assert_eq!(requests[0].values.iter().map(String::as_str).collect::<Vec<_>>(), ["acme.io", "other.org"]);
}

fn errors_of(spec: ImportSpec, columns: &[String], model: &Model) -> Vec<(String, &'static str)> {
    match validate_spec(&spec, columns, model) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| (e.path, e.code)).collect(),
    }
}

#[test]
fn validation_points_at_each_problem() {
    let cols: Vec<String> = ["a/b", "Age", "Name", "Name2", "Company"].map(String::from).to_vec();
    let s = spec(json!({
        "mapping": {"nope": "email", "a/b": "ghost", "Age": "age", "Name": "full_name", "Name2": "full_name"},
        "rules": {
            "ghost~field": [{"op": "trim"}],
            "age": [{"op": "date_format", "format": "%d/%m/%Y"}],
            "birthday": [{"op": "date_format", "format": "%Y-%m"}],
            "seen_at": [{"op": "date_format", "format": "%Q"}, {"op": "default", "value": "2024-01-01T00:00:00Z"}],
            "score": [{"op": "regex_replace", "pattern": "(", "replacement": ""}],
            "full_name": [
                {"op": "regex_replace", "pattern": "a".repeat(600), "replacement": ""},
                {"op": "concat", "columns": ["Name", "Missing"]},
                {"op": "split", "separator": "", "index": 0}
            ],
            "company": [{"op": "lookup", "entity": "company", "field": "domain"}, {"op": "trim"}],
            "source": [{"op": "lookup", "entity": "company", "field": "domain"}, {"op": "default", "value": null}],
            "active": [{"op": "default", "value": "maybe"}],
            "country": [{"op": "value_map", "map": {"Be": "BE", "bE": "BE"}, "ignore_case": true}],
            "prefs": [{"op": "uppercase"}]
        }
    }));
    let mut got = errors_of(s, &cols, &contact());
    got.sort();
    let mut want: Vec<(String, &str)> = [
        ("/mapping/nope", "unknown-column"),
        ("/mapping/a~1b", "unknown-field"),
        ("/mapping/Name2", "field-mapped-twice"),
        ("/rules/ghost~0field", "unknown-field"),
        ("/rules/age/0", "wrong-field-type"),
        ("/rules/birthday", "no-source"),
        ("/rules/birthday/0/format", "bad-date-format"),
        ("/rules/seen_at/0/format", "bad-date-format"),
        ("/rules/score", "no-source"),
        ("/rules/score/0/pattern", "bad-regex"),
        ("/rules/full_name/0/pattern", "pattern-too-long"),
        ("/rules/full_name/1/columns/1", "unknown-column"),
        ("/rules/full_name/2/separator", "empty-separator"),
        ("/rules/company", "no-source"),
        ("/rules/company/0", "lookup-not-last"),
        ("/rules/source/0", "lookup-not-last"),
        ("/rules/source/0", "wrong-field-type"),
        ("/rules/source/1/value", "bad-default"),
        ("/rules/active/0/value", "bad-default"),
        ("/rules/country", "no-source"),
        ("/rules/country/0/map", "ambiguous-map"),
        ("/rules/prefs", "no-source"),
    ]
    .map(|(p, c)| (p.to_string(), c))
    .to_vec();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn lookups_check_the_reference_and_the_target_model() {
    let cols = vec!["Company".to_string()];
    let lookup = |entity: &str, field: &str| {
        spec(
            json!({"mapping": {"Company": "company"}, "rules": {"company": [{"op": "lookup", "entity": entity, "field": field}]}}),
        )
    };
    assert_eq!(
        errors_of(lookup("vendor", "domain"), &cols, &contact()),
        [("/rules/company/0/entity".into(), "wrong-target")]
    );
    assert!(errors_of(lookup("company", "domain"), &cols, &contact()).is_empty());

    let target = company();
    let targets = |e: &str| (e == "company").then_some(&target);
    let check = |s: ImportSpec| match validate_spec_with_targets(&s, &cols, &contact(), &targets) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| (e.path, e.code)).collect::<Vec<_>>(),
    };
    assert!(check(lookup("company", "domain")).is_empty());
    assert_eq!(check(lookup("company", "name")), [("/rules/company/0/field".into(), "lookup-field-not-unique")]);
    assert_eq!(check(lookup("company", "vat")), [("/rules/company/0/field".into(), "unknown-field")]);
}

#[test]
fn constant_fields_and_concat_errors_name_the_field() {
    let m = model("t", json!([{"name": "n", "type": "integer"}, {"name": "tag", "type": "string"}]));
    let cols: Vec<String> = ["a", "b"].map(String::from).to_vec();
    let s = spec(json!({"rules": {
        "n": [{"op": "concat", "columns": ["a", "b"], "separator": ""}],
        "tag": [{"op": "default", "value": 7}]
    }, "mapping": {}}));
    let compiled = validate_spec(&s, &cols, &m).unwrap();
    assert_eq!(compiled.fields().collect::<Vec<_>>(), ["n", "tag"]);
    let ok = apply(&compiled, &row(2, &["1", "2"]), &NoLookups).unwrap();
    assert_eq!(Value::Object(ok), json!({"n": 12, "tag": "7"}));
    let errors = apply(&compiled, &row(3, &["1", "x"]), &NoLookups).unwrap_err();
    assert_eq!((errors[0].column.as_str(), errors[0].value.as_str()), ("n", "1x"));
}

#[test]
fn date_formats_with_offsets_and_dates_in_datetime_fields() {
    let m = model("t", json!([{"name": "at", "type": "datetime"}, {"name": "on", "type": "date"}]));
    let cols: Vec<String> = ["at", "on"].map(String::from).to_vec();
    let with = |at: &str, on: &str| {
        let s = spec(json!({"mapping": {"at": "at", "on": "on"}, "rules": {
            "at": [{"op": "date_format", "format": at}], "on": [{"op": "date_format", "format": on}]
        }}));
        validate_spec(&s, &cols, &m).unwrap()
    };
    let c = with("%d/%m/%Y %H:%M %z", "%m/%d/%Y %H:%M");
    let out = apply(&c, &row(2, &["31/01/2024 09:30 +0200", "01/31/2024 23:59"]), &NoLookups).unwrap();
    assert_eq!(Value::Object(out), json!({"at": "2024-01-31T09:30:00+02:00", "on": "2024-01-31"}));
    let c = with("%Y%m%d", "%d.%m.%y");
    let out = apply(&c, &row(2, &["20240131", "31.01.24"]), &NoLookups).unwrap();
    assert_eq!(Value::Object(out), json!({"at": "2024-01-31T00:00:00Z", "on": "2024-01-31"}));
    let errors = apply(&c, &row(5, &["2024-01-31", "32.01.24"]), &NoLookups).unwrap_err();
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(|e| e.row == 5 && e.reason.contains("does not match")));
}
