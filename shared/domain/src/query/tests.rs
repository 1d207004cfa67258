use super::*;
use serde_json::json;

fn model() -> Model {
    serde_json::from_value(json!({
        "name": "contact", "label": "Contact", "version": 1, "created_at": "", "updated_at": "",
        "fields": [
            {"name": "name", "type": "string"},
            {"name": "email", "type": "email"},
            {"name": "age", "type": "integer"},
            {"name": "score", "type": "decimal"},
            {"name": "active", "type": "boolean"},
            {"name": "born", "type": "date"},
            {"name": "seen_at", "type": "datetime"},
            {"name": "status", "type": "enum", "values": ["lead", "customer"]},
            {"name": "company", "type": "reference", "target": "company"},
            {"name": "extra", "type": "json"},
            {"name": "ssn", "type": "string", "sensitive": true}
        ]
    }))
    .unwrap()
}

fn record(id: &str, attrs: Value) -> Record {
    Record {
        id: id.into(),
        entity: "contact".into(),
        attributes: attrs.as_object().unwrap().clone(),
        version: 1,
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: format!("2026-01-0{}T00:00:00Z", id.len().min(9)),
        created_by: "t".into(),
        updated_by: "t".into(),
    }
}

fn q(params: &[(&str, &str)]) -> Result<Query, QueryError> {
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Query::parse(&model(), &params)
}

fn matches(params: &[(&str, &str)], r: &Record) -> bool {
    q(params).unwrap().matches(r)
}

fn ada() -> Record {
    record(
        "01ADA",
        json!({"name": "Ada", "email": "Ada@Example.com", "age": 36, "score": 4.5, "active": true,
               "born": "1990-02-28", "seen_at": "2026-01-01T08:00:00Z", "status": "lead",
               "company": "01ACME", "extra": {"k": 1}, "ssn": "123"}),
    )
}

#[test]
fn every_operator_on_text() {
    let r = ada();
    assert!(matches(&[("filter[name]", "Ada")], &r));
    assert!(matches(&[("filter[name][eq]", "Ada")], &r));
    assert!(!matches(&[("filter[name][eq]", "ada")], &r), "text compares exactly");
    assert!(matches(&[("filter[name][ne]", "Bob")], &r));
    assert!(!matches(&[("filter[name][ne]", "Ada")], &r));
    assert!(matches(&[("filter[name][gt]", "Aaa")], &r));
    assert!(matches(&[("filter[name][gte]", "Ada")], &r));
    assert!(!matches(&[("filter[name][lt]", "Ada")], &r));
    assert!(matches(&[("filter[name][lte]", "Ada")], &r));
    assert!(matches(&[("filter[name][in]", "Bob,Ada")], &r));
    assert!(!matches(&[("filter[name][in]", "Bob,Cy")], &r));
    assert!(matches(&[("filter[name][contains]", "d")], &r));
    assert!(!matches(&[("filter[name][contains]", "x")], &r));
    assert!(matches(&[("filter[name][startsWith]", "Ad")], &r));
    assert!(!matches(&[("filter[name][startsWith]", "da")], &r));
    assert!(matches(&[("filter[name][isNull]", "false")], &r));
    assert!(!matches(&[("filter[name][isNull]", "true")], &r));
}

#[test]
fn emails_compare_ignoring_case() {
    let r = ada();
    assert!(matches(&[("filter[email]", "ada@example.COM")], &r));
    assert!(matches(&[("filter[email][startsWith]", "ADA@")], &r));
    assert!(matches(&[("filter[email][contains]", "example")], &r));
}

#[test]
fn numbers_compare_numerically() {
    let r = ada();
    assert!(matches(&[("filter[age][gt]", "9")], &r), "not lexicographically");
    assert!(matches(&[("filter[age][gte]", "36"), ("filter[age][lte]", "36")], &r));
    assert!(!matches(&[("filter[age][lt]", "36")], &r));
    assert!(matches(&[("filter[age][in]", "1,36,99")], &r));
    assert!(matches(&[("filter[score][gt]", "4.4")], &r));
    assert!(matches(&[("filter[score][eq]", "4.50")], &r));
    assert!(!matches(&[("filter[score][lt]", "1e0")], &r));
    assert_eq!(q(&[("filter[age]", "3.5")]).unwrap_err().code, "invalid-value");
    assert_eq!(q(&[("filter[score]", "NaN")]).unwrap_err().code, "invalid-value");
}

#[test]
fn booleans_dates_and_instants() {
    let r = ada();
    assert!(matches(&[("filter[active]", "true")], &r));
    assert!(!matches(&[("filter[active][ne]", "true")], &r));
    assert_eq!(q(&[("filter[active]", "yes")]).unwrap_err().code, "invalid-value");
    assert_eq!(q(&[("filter[active][gt]", "true")]).unwrap_err().code, "invalid-operator");
    assert!(matches(&[("filter[born][lt]", "1990-03-01")], &r));
    assert!(!matches(&[("filter[born][gt]", "1990-02-28")], &r));
    assert_eq!(q(&[("filter[born]", "1990-02-30")]).unwrap_err().code, "invalid-value");
    // the same instant written with an offset
    assert!(matches(&[("filter[seen_at]", "2026-01-01T10:00:00+02:00")], &r));
    assert!(matches(&[("filter[seen_at]", "2026-01-01T10:00:00 02:00")], &r), "+ decoded as a space");
    assert!(matches(&[("filter[seen_at][gte]", "2026-01-01T07:59:59.5Z")], &r));
    assert!(matches(&[("filter[created_at][lt]", "2026-01-02T00:00:00Z")], &r));
    assert!(matches(&[("filter[updated_at][gt]", "2026-01-01T00:00:00Z")], &r));
    assert_eq!(q(&[("filter[seen_at]", "yesterday")]).unwrap_err().code, "invalid-value");
}

#[test]
fn enums_references_ids_and_json() {
    let r = ada();
    assert!(matches(&[("filter[status]", "lead")], &r));
    assert!(matches(&[("filter[status][in]", "customer,lead")], &r));
    let e = q(&[("filter[status]", "vip")]).unwrap_err();
    assert_eq!((e.code, e.parameter.as_str()), ("invalid-value", "filter[status]"));
    assert_eq!(q(&[("filter[status][contains]", "le")]).unwrap_err().code, "invalid-operator");
    assert!(matches(&[("filter[company]", "01ACME")], &r));
    assert_eq!(q(&[("filter[company]", "a/b")]).unwrap_err().code, "invalid-value");
    assert!(matches(&[("filter[id]", "01ADA")], &r));
    assert!(matches(&[("filter[id][startsWith]", "01A")], &r));
    assert!(matches(&[("filter[id][gt]", "01AAA"), ("filter[id][lt]", "01B")], &r));
    assert!(matches(&[("filter[extra][isNull]", "false")], &r));
    assert_eq!(q(&[("filter[extra]", "{}")]).unwrap_err().code, "invalid-operator");
    assert_eq!(q(&[("filter[id][isNull]", "true")]).unwrap_err().code, "invalid-operator");
    assert_eq!(q(&[("filter[age][isNull]", "maybe")]).unwrap_err().code, "invalid-value");
}

#[test]
fn absent_values_match_only_ne_and_is_null() {
    let r = record("01BOB", json!({"name": "Bob"}));
    assert!(!matches(&[("filter[age][gt]", "0")], &r));
    assert!(!matches(&[("filter[age][lt]", "1000")], &r));
    assert!(!matches(&[("filter[age][in]", "1,2")], &r));
    assert!(matches(&[("filter[age][ne]", "5")], &r));
    assert!(matches(&[("filter[age][isNull]", "true")], &r));
    assert!(matches(&[("filter[extra][isNull]", "true")], &r));
    let explicit_null = record("01CY", json!({"age": null}));
    assert!(matches(&[("filter[age][isNull]", "true")], &explicit_null));
}

#[test]
fn sensitive_fields_filter_on_opened_values() {
    assert!(matches(&[("filter[ssn]", "123")], &ada()));
    assert_eq!(q(&[("sort", "ssn")]).unwrap_err().code, "unsortable-field");
}

#[test]
fn filters_and_together() {
    let r = ada();
    assert!(matches(&[("filter[name]", "Ada"), ("filter[age][gt]", "30")], &r));
    assert!(!matches(&[("filter[name]", "Ada"), ("filter[age][gt]", "40")], &r));
}

#[test]
fn bad_filters_name_their_parameter() {
    for (key, value, code) in [
        ("filter[nope]", "1", "unknown-field"),
        ("filter[age][between]", "1", "invalid-operator"),
        ("filter[age", "1", "invalid-parameter"),
        ("filter[age][gt", "1", "invalid-parameter"),
        ("filter[age][gt][x]", "1", "invalid-parameter"),
        ("filter", "1", "invalid-parameter"),
        ("filter[name][contains]", "", "invalid-value"),
        ("filter[name][in]", "", "invalid-value"),
        ("filter[age][in]", "1,x", "invalid-value"),
    ] {
        let e = q(&[(key, value)]).unwrap_err();
        assert_eq!((e.parameter.as_str(), e.code), (key, code), "{key}={value}: {e:?}");
    }
    let many = (0..=MAX_IN_VALUES).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    assert_eq!(q(&[("filter[age][in]", &many)]).unwrap_err().code, "too-many-values");
    let filters: Vec<(&str, &str)> = (0..=MAX_FILTERS).map(|_| ("filter[age][gt]", "1")).collect();
    assert_eq!(q(&filters).unwrap_err().code, "too-many-filters");
}

#[test]
fn sort_parses_and_refuses_what_has_no_order() {
    let s = q(&[("sort", "-updated_at,name")]).unwrap().sort;
    assert_eq!(s.len(), 2);
    assert!(s[0].descending && s[0].field.name == "updated_at");
    assert!(!s[1].descending && s[1].field.name == "name");
    for (raw, code) in [
        ("nope", "unknown-field"),
        ("extra", "unsortable-field"),
        ("name,,age", "invalid-parameter"),
        ("-", "invalid-parameter"),
        ("name,name", "invalid-parameter"),
        ("id,name", "invalid-parameter"),
        ("name,age,score,born,seen_at,status", "too-many-sort-keys"),
    ] {
        let e = q(&[("sort", raw)]).unwrap_err();
        assert_eq!((e.parameter.as_str(), e.code), ("sort", code), "{raw}");
    }
    assert!(q(&[("sort", "name"), ("sort", "age")]).is_err());
    assert_eq!(q(&[]).unwrap().id_order(), Some(false));
    assert_eq!(q(&[("sort", "-id")]).unwrap().id_order(), Some(true));
    assert_eq!(q(&[("sort", "name,-id")]).unwrap().id_order(), None);
}

#[test]
fn records_order_by_keys_with_nulls_last_and_id_as_tie_breaker() {
    let recs = [
        record("05", json!({"age": 30, "name": "b"})),
        record("04", json!({"name": "a"})),
        record("03", json!({"age": 30, "name": "a"})),
        record("02", json!({"age": 5, "name": "z"})),
        record("01", json!({"age": 30, "name": "a"})),
    ];
    let order = |sort: &str| {
        let query = q(&[("sort", sort)]).unwrap();
        let mut v = recs.to_vec();
        v.sort_by(|a, b| query.compare(a, b));
        v.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(order("age"), ["02", "01", "03", "05", "04"], "numeric, nulls last, ties by id");
    assert_eq!(order("-age"), ["04", "01", "03", "05", "02"], "descending puts nulls first");
    assert_eq!(order("age,-name"), ["02", "05", "01", "03", "04"]);
    assert_eq!(order("-id"), ["05", "04", "03", "02", "01"]);
}

#[test]
fn positions_resume_exactly_after_the_last_record() {
    let query = q(&[("sort", "-age,name")]).unwrap();
    let mut recs = [
        record("01", json!({"age": 3, "name": "x"})),
        record("02", json!({"age": 3, "name": "x"})),
        record("03", json!({"name": "y"})),
        record("04", json!({"age": 9, "name": "a"})),
    ];
    recs.sort_by(|a, b| query.compare(a, b));
    for (i, last) in recs.iter().enumerate() {
        let p = query.position(&query.raw_key_of(last), &last.id).unwrap();
        let rest: Vec<&str> = recs.iter().filter(|r| query.is_after(r, &p)).map(|r| r.id.as_str()).collect();
        let expected: Vec<&str> = recs[i + 1..].iter().map(|r| r.id.as_str()).collect();
        assert_eq!(rest, expected);
    }
    assert!(query.position(&[json!("not a number"), json!("a")], "01").is_none());
    assert!(query.position(&[json!(1)], "01").is_none(), "wrong arity");
    assert!(query.position(&[json!(1), json!("a")], "a/b").is_none(), "bad id");
}

#[test]
fn fingerprints_bind_filters_and_sort_but_not_filter_order() {
    let fp = |p: &[(&str, &str)]| q(p).unwrap().fingerprint("contact");
    let a = fp(&[("filter[age][gt]", "3"), ("filter[name]", "Ada"), ("sort", "name")]);
    assert_eq!(a, fp(&[("filter[name][eq]", "Ada"), ("filter[age][gt]", "3"), ("sort", "name")]));
    assert_ne!(a, fp(&[("filter[age][gt]", "4"), ("filter[name]", "Ada"), ("sort", "name")]));
    assert_ne!(a, fp(&[("filter[age][gt]", "3"), ("filter[name]", "Ada"), ("sort", "-name")]));
    assert_ne!(a, fp(&[("filter[age][gt]", "3"), ("sort", "name")]));
    assert_ne!(a, q(&[("filter[age][gt]", "3"), ("filter[name]", "Ada"), ("sort", "name")]).unwrap().fingerprint("x"));
}

#[test]
fn id_filters_become_key_ranges() {
    let plan = |p: &[(&str, &str)]| q(p).unwrap().id_plan();
    assert_eq!(plan(&[]), IdPlan::default());
    let p =
        plan(&[("filter[id][gt]", "B"), ("filter[id][gte]", "C"), ("filter[id][lt]", "X"), ("filter[id][lte]", "X")]);
    assert_eq!(p.lower, Some(IdBound { id: "C".into(), inclusive: true }));
    assert_eq!(p.upper, Some(IdBound { id: "X".into(), inclusive: false }));
    assert!(p.admits("C") && p.admits("W") && !p.admits("X") && !p.admits("B"));
    let p = plan(&[("filter[id][startsWith]", "01AB")]);
    assert!(p.admits("01AB") && p.admits("01ABzz") && p.admits("01AB-x") && !p.admits("01AC") && !p.admits("01A"));
    let p = plan(&[("filter[id][in]", "c,a,b,a"), ("filter[id][in]", "b,c,d")]);
    assert_eq!(p.ids, Some(vec!["b".to_string(), "c".to_string()]));
    assert!(plan(&[("filter[id]", "a"), ("filter[id]", "b")]).is_empty());
    assert!(plan(&[("filter[id][gt]", "b"), ("filter[id][lt]", "a")]).is_empty());
    assert!(plan(&[("filter[id][gt]", "a"), ("filter[id][lte]", "a")]).is_empty());
    assert!(!plan(&[("filter[id][gte]", "a"), ("filter[id][lte]", "a")]).is_empty());
}
