//! Sniffing and reading: encodings, CSV dialects, JSON, NDJSON, XML and the refusals.

use hw_import::{Encoding, Format, ImportError, Sniffed, SpreadsheetKind, decode, records, sniff};

fn read(bytes: &[u8]) -> (Sniffed, hw_import::Table) {
    let s = sniff(bytes, None).unwrap();
    let text = decode(bytes, s.encoding);
    let t = records(&text, &s, 1000).unwrap();
    (s, t)
}

fn cells(t: &hw_import::Table, row: usize) -> Vec<Option<&str>> {
    t.rows[row].cells.iter().map(|c| c.as_deref()).collect()
}

#[test]
fn semicolon_csv_in_windows_1252() {
    // "é" is 0xE9 in Windows-1252, invalid on its own in UTF-8.
    let bytes = b"name;city;amount\nRen\xe9;Li\xe8ge;12,5\nZo\xe9;Paris;3\n";
    let (s, t) = read(bytes);
    assert_eq!(s.encoding, Encoding::Windows1252);
    assert_eq!(s.format, Format::Csv);
    let d = s.csv.unwrap();
    assert_eq!((d.delimiter, d.has_header), (b';', true));
    assert_eq!(t.columns, ["name", "city", "amount"]);
    assert_eq!(cells(&t, 0), [Some("René"), Some("Liège"), Some("12,5")]);
    assert_eq!(t.rows.len(), 2);
}

#[test]
fn utf8_bom_is_stripped_from_the_first_column() {
    let bytes = "\u{feff}id,email\n1,a@example.com\n2,b@example.com\n".as_bytes();
    let (s, t) = read(bytes);
    assert_eq!(s.encoding, Encoding::Utf8 { bom: true });
    assert_eq!(t.columns, ["id", "email"]);
    assert_eq!(cells(&t, 1), [Some("2"), Some("b@example.com")]);
}

#[test]
fn utf16le_tsv() {
    let text = "name\tage\nZoë\t31\nLuc\t42\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let (s, t) = read(&bytes);
    assert_eq!(s.encoding, Encoding::Utf16Le);
    assert_eq!(s.csv.unwrap().delimiter, b'\t');
    assert_eq!(t.columns, ["name", "age"]);
    assert_eq!(cells(&t, 0), [Some("Zoë"), Some("31")]);
}

#[test]
fn quoted_fields_keep_delimiters_and_newlines() {
    let bytes = b"name,address,note\n\"Doe, Jane\",\"1 Main St\nSpringfield\",\"said \"\"hi\"\"\"\nBob,Elm St,ok\n";
    let (s, t) = read(bytes);
    assert_eq!(s.csv.unwrap().delimiter, b',');
    assert_eq!(t.rows.len(), 2);
    assert_eq!(cells(&t, 0), [Some("Doe, Jane"), Some("1 Main St\nSpringfield"), Some("said \"hi\"")]);
    assert_eq!(t.rows[1].number, 3, "rows are records as a spreadsheet shows them: the embedded newline is not a row");
    assert!(t.rows.iter().all(|r| r.problem.is_none()));
}

#[test]
fn ragged_rows_are_reported_not_fatal() {
    let bytes = b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n";
    let (_, t) = read(bytes);
    assert_eq!(t.rows.len(), 4);
    assert_eq!(cells(&t, 1), [Some("4"), Some("5"), None]);
    assert!(t.rows[1].problem.as_deref().unwrap().contains("2 fields, expected 3"));
    assert_eq!(cells(&t, 2), [Some("6"), Some("7"), Some("8")]);
    assert!(t.rows[2].problem.as_deref().unwrap().contains("extra"));
    assert_eq!(t.rows[2].number, 4);
    assert!(t.rows[0].problem.is_none() && t.rows[3].problem.is_none());
}

#[test]
fn headerless_csv_gets_positional_names() {
    let bytes = b"1,Alice,2024-01-02\n2,Bob,2024-02-03\n3,Carol,2024-03-04\n";
    let (s, t) = read(bytes);
    assert!(!s.csv.unwrap().has_header);
    assert_eq!(t.columns, ["column_1", "column_2", "column_3"]);
    assert_eq!(t.rows.len(), 3);
    assert_eq!(t.rows[0].number, 1);
}

#[test]
fn unterminated_quote_reports_the_row() {
    let bytes = b"a,b\n1,2\n3,\"oops\n4,5\n";
    let s = sniff(bytes, None).unwrap();
    let err = records(&decode(bytes, s.encoding), &s, 100).unwrap_err();
    assert_eq!(err, ImportError::UnterminatedQuote { row: 3, line: 3 });
    assert!(err.to_string().contains("row 3"));
}

#[test]
fn overlong_line_is_refused() {
    let mut bytes = b"a,b\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', hw_import::MAX_LINE_BYTES + 1));
    bytes.extend(b",1\n");
    assert_eq!(sniff(&bytes, None).unwrap_err(), ImportError::LineTooLong { line: 2, max: hw_import::MAX_LINE_BYTES });
}

#[test]
fn empty_and_binary_input_are_refused() {
    assert_eq!(sniff(b"", None).unwrap_err(), ImportError::Empty);
    assert_eq!(sniff(b"  \n\r\n", None).unwrap_err(), ImportError::Empty);
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    assert_eq!(sniff(&garbage, None).unwrap_err(), ImportError::Binary);
}

#[test]
fn spreadsheets_by_magic_bytes() {
    let xlsx = sniff(b"PK\x03\x04\x14\x00\x06\x00rest", Some("c.xlsx")).unwrap();
    assert_eq!(xlsx.format, Format::Spreadsheet { kind: SpreadsheetKind::Xlsx });
    let xls = sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0], None).unwrap();
    assert_eq!(xls.format, Format::Spreadsheet { kind: SpreadsheetKind::Xls });
    assert_eq!(records("", &xls, 10).unwrap_err(), ImportError::Unsupported("Excel"));
}

#[test]
fn json_array_of_objects_is_flattened_one_level() {
    let bytes = br#"[{"id": 1, "name": "Ann", "tags": ["a", "b"]},
                     {"id": 2, "name": null, "address": {"city": "Oslo"}, "vip": true}]"#;
    let (s, t) = read(bytes);
    assert_eq!(s.format, Format::Json);
    assert_eq!(t.columns, ["id", "name", "tags", "address", "vip"]);
    assert_eq!(cells(&t, 0), [Some("1"), Some("Ann"), Some(r#"["a","b"]"#), None, None]);
    assert_eq!(cells(&t, 1), [Some("2"), None, None, Some(r#"{"city":"Oslo"}"#), Some("true")]);
}

#[test]
fn json_array_cut_by_the_sample_is_still_json() {
    let s = sniff(br#"[{"id": 1}, {"id": 2}, {"id"#, None).unwrap();
    assert_eq!(s.format, Format::Json);
}

#[test]
fn ndjson_lines() {
    let bytes = b"{\"id\":1,\"email\":\"a@x.io\"}\n{\"id\":2,\"email\":\"b@x.io\",\"extra\":1}\nnot json\n";
    let (s, t) = read(bytes);
    assert_eq!(s.format, Format::Ndjson);
    assert_eq!(t.columns, ["id", "email", "extra"]);
    assert_eq!(cells(&t, 1), [Some("2"), Some("b@x.io"), Some("1")]);
    assert_eq!(t.rows[2].number, 3);
    assert!(t.rows[2].problem.as_deref().unwrap().contains("not valid JSON"));
}

#[test]
fn json_that_is_not_records_is_refused() {
    for (input, found) in [
        (&b"42"[..], "a number"),
        (b"\"hello\"", "a string"),
        (b"[1, 2, 3]", "an array containing numbers"),
        (b"[{\"a\": 1}, [2]]", "an array containing arrays"),
        (b"[null]", "an array containing nulls"),
        (b"null", "a null"),
        (b"[]", "an empty array"),
        (b"{\n  \"a\": 1\n}\n", "a single JSON object"),
    ] {
        match sniff(input, None) {
            Err(ImportError::NotRecords { found: f }) => assert_eq!(f, found, "{}", String::from_utf8_lossy(input)),
            other => panic!("{}: {other:?}", String::from_utf8_lossy(input)),
        }
    }
    assert!(matches!(sniff(b"[{\"a\": 1}, oops]", None), Err(ImportError::InvalidJson(_))));
}

#[test]
fn xml_repeating_contacts() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<contacts source="crm">
  <contact id="c1"><name>Ann &amp; Co</name><email>ann@example.com</email><phone>1</phone><phone>2</phone></contact>
  <contact id="c2"><name><![CDATA[Bob <B>]]></name><email/><city>Bergen</city></contact>
</contacts>"#;
    let (s, t) = read(xml.as_bytes());
    assert_eq!(s.format, Format::Xml { record_element: "contact".into() });
    assert_eq!(t.columns, ["id", "name", "email", "phone", "city"]);
    assert_eq!(cells(&t, 0), [Some("c1"), Some("Ann & Co"), Some("ann@example.com"), Some("1; 2"), None]);
    assert_eq!(cells(&t, 1), [Some("c2"), Some("Bob <B>"), None, None, Some("Bergen")]);
}

#[test]
fn xml_with_entities_is_refused() {
    let xml = br#"<?xml version="1.0"?>
<!DOCTYPE contacts [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<contacts><contact><name>&xxe;</name></contact></contacts>"#;
    assert_eq!(sniff(xml, None).unwrap_err(), ImportError::XmlEntities);
    let s = Sniffed {
        format: Format::Xml { record_element: "contact".into() },
        encoding: Encoding::Utf8 { bom: false },
        csv: None,
    };
    assert_eq!(records(std::str::from_utf8(xml).unwrap(), &s, 10).unwrap_err(), ImportError::XmlEntities);
    // Without a declaration, an unknown entity is an error too, never expanded.
    let undeclared = "<contacts><contact><name>&xxe;</name></contact></contacts>";
    assert!(matches!(records(undeclared, &s, 10), Err(ImportError::InvalidXml(m)) if m.contains("xxe")));
}
