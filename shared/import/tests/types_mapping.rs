//! Column type detection and mapping suggestions.

use hw_domain::model::{FieldType, Model};
use hw_import::{ColumnType, Row, Table, detect_types, suggest_mapping};

/// A one-column table; `""` is an empty cell.
fn column(name: &str, values: &[&str]) -> ColumnType {
    let rows = values
        .iter()
        .enumerate()
        .map(|(i, v)| Row { number: i + 2, cells: vec![(!v.is_empty()).then(|| v.to_string())], problem: None })
        .collect();
    detect_types(&Table { columns: vec![name.into()], rows }).remove(0)
}

fn ty(name: &str, values: &[&str]) -> FieldType {
    column(name, values).field_type
}

#[test]
fn numbers() {
    assert_eq!(ty("n", &["1", "-2", "30"]), FieldType::Integer);
    assert_eq!(ty("n", &["1", "2.5", "-0.25", "1e3"]), FieldType::Decimal);
    assert_eq!(ty("zip", &["01234", "98765", "12345"]), FieldType::String, "leading zeros are kept as text");
    assert_eq!(ty("n", &["3,14", "2,5", "1,1"]), FieldType::String, "comma decimals are not decimals");
}

#[test]
fn booleans_and_the_zero_one_rule() {
    assert_eq!(ty("subscribed", &["yes", "no", "Yes"]), FieldType::Boolean);
    assert_eq!(ty("ok", &["true", "false", "1", "0"]), FieldType::Boolean);
    assert_eq!(ty("count", &["0", "1", "1", "0"]), FieldType::Integer);
    assert_eq!(ty("is_active", &["0", "1", "1", "0"]), FieldType::Boolean);
}

#[test]
fn dates_with_their_format() {
    let c = column("d", &["2024-01-31", "2023-12-01"]);
    assert_eq!((c.field_type, c.date_format.as_deref()), (FieldType::Date, Some("%Y-%m-%d")));
    let c = column("d", &["31/01/2024", "01/02/2024"]);
    assert_eq!((c.field_type, c.date_format.as_deref()), (FieldType::Date, Some("%d/%m/%Y")));
    let c = column("d", &["01/31/2024", "02/01/2024"]);
    assert_eq!((c.field_type, c.date_format.as_deref()), (FieldType::Date, Some("%m/%d/%Y")));
    let c = column("d", &["31.01.2024", "1.2.2024"]);
    assert_eq!((c.field_type, c.date_format.as_deref()), (FieldType::Date, Some("%d.%m.%Y")));
}

#[test]
fn ambiguous_dates_are_not_guessed() {
    let c = column("d", &["01/02/2024", "03/04/2024", "05/06/2024", "07/08/2024", "09/10/2024"]);
    assert_eq!(c.field_type, FieldType::String);
    assert_eq!(c.date_format, None);
    assert_eq!(c.date_candidates, ["%d/%m/%Y", "%m/%d/%Y"]);
    // Few distinct ambiguous dates must not turn into an enum either.
    assert_eq!(ty("d", &["01/02/2024", "01/02/2024", "03/04/2024", "03/04/2024"]), FieldType::String);
}

#[test]
fn datetimes() {
    let c = column("t", &["2024-01-31T10:00:00Z", "2024-02-01T08:30:00+01:00"]);
    assert_eq!((c.field_type, c.date_format.as_deref()), (FieldType::Datetime, Some("rfc3339")));
    let c = column("t", &["2024-01-31 10:00:00", "2024-02-01 23:59:59"]);
    assert_eq!((c.field_type, c.date_format.as_deref()), (FieldType::Datetime, Some("%Y-%m-%d %H:%M:%S")));
    assert_eq!(ty("t", &["2024-01-31 10:00:00", "2024-02-01T08:30:00Z"]), FieldType::String, "mixed formats");
}

#[test]
fn emails_urls_enums_strings_and_text() {
    assert_eq!(ty("e", &["a@example.com", "b.c@example.org"]), FieldType::Email);
    assert_eq!(ty("e", &["a@example.com", "not an email"]), FieldType::String);
    assert_eq!(ty("u", &["https://example.com/a", "http://x.io"]), FieldType::Url);
    let c = column("status", &["open", "closed", "open", "open", "closed", "pending"]);
    assert_eq!(
        (c.field_type, c.enum_values.clone()),
        (FieldType::Enum, vec!["closed".into(), "open".into(), "pending".into()])
    );
    assert_eq!(ty("name", &["Ann", "Bob", "Carol", "Dan"]), FieldType::String, "all distinct: not an enum");
    assert_eq!(ty("bio", &["short", &"long ".repeat(80)]), FieldType::Text);
    assert_eq!(ty("note", &["line one\nline two", "x"]), FieldType::Text);
}

#[test]
fn nullable_and_samples() {
    let c = column("n", &["1", "", "2", "2", "3", "4", "5", "6"]);
    assert_eq!(c.field_type, FieldType::Integer);
    assert!(c.nullable);
    assert_eq!(c.samples, ["1", "2", "3", "4", "5"]);
    assert!(!column("n", &["1"]).nullable);
    let empty = column("blank", &["", ""]);
    assert_eq!((empty.field_type, empty.nullable), (FieldType::String, true));
}

fn model() -> Model {
    serde_json::from_value(serde_json::json!({
        "name": "contact",
        "label": "Contact",
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "fields": [
            {"name": "email", "type": "email"},
            {"name": "company", "type": "string"},
            {"name": "first_name", "type": "string"},
            {"name": "age", "type": "integer"},
            {"name": "birthday", "type": "date", "label": "Date of birth"},
            {"name": "tag", "type": "string"},
            {"name": "score", "type": "decimal"}
        ]
    }))
    .unwrap()
}

#[test]
fn mapping_by_normalised_names_and_types() {
    let cols = vec![
        column("E-mail Address", &["a@example.com"]),
        column("Company Name", &["ACME"]),
        column("FIRST-NAME", &["Ann"]),
        column("Age", &["41"]),
        column("Date of Birth", &["1984-03-02"]),
        column("Tags", &["x"]),
        column("Score", &["17"]),
        column("Unrelated", &["?"]),
    ];
    let m = suggest_mapping(&cols, &model());
    let get = |c: &str| m.get(c).map(String::as_str);
    assert_eq!(get("E-mail Address"), Some("email"));
    assert_eq!(get("Company Name"), Some("company"));
    assert_eq!(get("FIRST-NAME"), Some("first_name"));
    assert_eq!(get("Age"), Some("age"));
    assert_eq!(get("Date of Birth"), Some("birthday"), "matched by label");
    assert_eq!(get("Tags"), Some("tag"), "simple plural");
    assert_eq!(get("Score"), Some("score"), "integers fit a decimal field");
    assert_eq!(get("Unrelated"), None);
}

#[test]
fn mapping_respects_types_and_never_reuses_a_field() {
    let cols =
        vec![column("email", &["a@example.com"]), column("Email", &["b@example.com"]), column("age", &["forty"])];
    let m = suggest_mapping(&cols, &model());
    assert_eq!(m.get("email").map(String::as_str), Some("email"), "equal candidates: the first column wins");
    assert!(!m.contains_key("Email"), "a field is given to one column only");
    assert!(!m.contains_key("age"), "text does not fit an integer field");
}
