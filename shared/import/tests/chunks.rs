//! Chunk planning and chunk reading: reading every planned chunk must give exactly the rows (cells and numbers) of
//! reading the whole file, for messy generated inputs in every encoding and many chunk sizes.

mod support;

use hw_import::{CsvDialect, Encoding, Format, ImportError, Sniffed, decode, plan_chunks, read_chunk, records};
use support::{Rng, assert_chunks_match_whole, encode, rows_by_chunks};

const TARGETS: [usize; 5] = [1, 7, 64, 4096, 1 << 20];

fn csv_sniffed(encoding: Encoding, delimiter: u8, has_header: bool) -> Sniffed {
    Sniffed { format: Format::Csv, encoding, csv: Some(CsvDialect { delimiter, quote: b'"', has_header }) }
}

/// One CSV field, messy on purpose. `latin` keeps to characters Windows-1252 has.
fn field(rng: &mut Rng, d: char, latin: bool) -> String {
    match rng.below(16) {
        0 => String::new(),
        1 => "   ".into(),
        2 => {
            if latin {
                "Liège €5".into()
            } else {
                "日本語 🎉".into()
            }
        }
        3 => "\u{a0}".into(),
        4 => format!("\"a{d}b\""),
        5 => "\"two\nlines\"".into(),
        6 => "\"crlf\r\ninside\"".into(),
        7 => "\"say \"\"hi\"\"\"".into(),
        8 => "ab\"c".into(),
        9 => "\"ab\"cd".into(),
        10 => "\"\"".into(),
        11 => format!("\"{d}\r\""),
        12 => (rng.next() % 100_000).to_string(),
        _ => format!("word{}", rng.below(1000)),
    }
}

fn messy_csv(rng: &mut Rng, d: char, latin: bool) -> String {
    let cols = 1 + rng.below(5);
    let mut out = String::new();
    let rows = rng.below(40);
    for i in 0..rows {
        match rng.below(20) {
            0 => out.push('\n'),
            1 => out.push_str("  \t\r\n"),
            2 => out.push_str("\u{a0}\n"),
            _ => {}
        }
        let n = if rng.chance(20) { 1 + rng.below(cols + 2) } else { cols };
        let fields: Vec<String> = (0..n).map(|_| field(rng, d, latin)).collect();
        out.push_str(&fields.join(&d.to_string()));
        if i + 1 < rows || rng.chance(70) {
            out.push_str(rng.pick(&["\n", "\n", "\r\n", "\r\n", "\r"]));
        }
    }
    out
}

#[test]
fn csv_chunks_read_back_as_the_whole_file() {
    let mut rng = Rng(7);
    let encodings = [
        Encoding::Utf8 { bom: false },
        Encoding::Utf8 { bom: true },
        Encoding::Windows1252,
        Encoding::Utf16Le,
        Encoding::Utf16Be,
    ];
    for case in 0..400 {
        let encoding = encodings[case % encodings.len()];
        let d = rng.pick(&[',', ';', '\t', '|']);
        let text = messy_csv(&mut rng, d, encoding == Encoding::Windows1252);
        let bytes = encode(&text, encoding);
        let sniffed = csv_sniffed(encoding, d as u8, rng.chance(70));
        assert_chunks_match_whole(&bytes, &sniffed, &TARGETS, true);
    }
}

#[test]
fn sniffed_csv_round_trips_too() {
    let text = "id;name;note\r\n1;\"Doe; Jane\";\"multi\r\nline\"\r\n\r\n2;Zoë;\"said \"\"hi\"\"\"\r\n3;Bob\r\n";
    for encoding in [Encoding::Utf8 { bom: true }, Encoding::Windows1252, Encoding::Utf16Le] {
        let bytes = encode(text, encoding);
        let sniffed = hw_import::sniff(&bytes, Some("x.csv")).unwrap();
        assert_eq!(sniffed.csv.unwrap().delimiter, b';');
        assert_chunks_match_whole(&bytes, &sniffed, &TARGETS, true);
        let whole = records(&decode(&bytes, encoding), &sniffed, usize::MAX).unwrap();
        let numbers: Vec<usize> = whole.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [2, 4, 5], "header = row 1, the quoted line break is no row, the blank line is one");
    }
}

#[test]
fn chunks_are_about_the_target_size() {
    let mut text = String::from("id,name\n");
    for i in 0..1000 {
        text.push_str(&format!("{i},name {i}\n"));
    }
    let sniffed = csv_sniffed(Encoding::Utf8 { bom: false }, b',', true);
    let plan = plan_chunks(text.as_bytes(), &sniffed, 1000).unwrap();
    assert_eq!(plan.header_end, 8);
    assert_eq!(plan.total_rows, 1000);
    assert_eq!(plan.chunks[0].start, 8);
    assert_eq!(plan.chunks[0].first_row, 2);
    assert_eq!(plan.chunks.last().unwrap().end, text.len() as u64);
    for c in &plan.chunks[..plan.chunks.len() - 1] {
        let size = c.end - c.start;
        assert!((1000..1000 + 20).contains(&size), "{c:?}");
    }
    let one = plan_chunks(text.as_bytes(), &sniffed, usize::MAX).unwrap();
    assert_eq!(one.chunks.len(), 1);
    let each = plan_chunks(text.as_bytes(), &sniffed, 0).unwrap();
    assert_eq!(each.chunks.len(), 1000, "a target of 0 bytes is one record per chunk");
}

#[test]
fn header_end_covers_a_crlf_and_blank_lines_before_the_header() {
    let sniffed = csv_sniffed(Encoding::Utf8 { bom: true }, b',', true);
    let bytes = encode("\r\n  \r\na,b\r\n\r\n1,2\r\n", sniffed.encoding);
    let plan = plan_chunks(&bytes[..], &sniffed, 1).unwrap();
    // BOM, blank CRLF row 1, blank record row 2, header row 3 ending at 3 + 11, blank row 4, data row 5.
    assert_eq!(plan.header_end, 3 + 11);
    assert_eq!(plan.chunks.len(), 1);
    assert_eq!((plan.chunks[0].start, plan.chunks[0].first_row), (3 + 13, 5));
}

#[test]
fn files_without_records_have_no_chunks() {
    let utf8 = Encoding::Utf8 { bom: false };
    for (text, header) in [("", true), ("", false), ("a,b\n", true), ("a,b", true), ("\n\n  \n", false)] {
        let plan = plan_chunks(text.as_bytes(), &csv_sniffed(utf8, b',', header), 10).unwrap();
        assert!(plan.chunks.is_empty() && plan.total_rows == 0, "{text:?}");
    }
    let nd = Sniffed { format: Format::Ndjson, encoding: utf8, csv: None };
    assert_eq!(plan_chunks(&b"\n \n"[..], &nd, 10).unwrap().total_rows, 0);
    let json = Sniffed { format: Format::Json, encoding: utf8, csv: None };
    assert!(plan_chunks(&b" [ ] \n"[..], &json, 10).unwrap().chunks.is_empty());
}

#[test]
fn csv_errors_match_reading_the_whole_file() {
    let sniffed = csv_sniffed(Encoding::Utf8 { bom: false }, b',', true);
    let err = plan_chunks(&b"a,b\n1,2\n3,\"oops\n4,5\n"[..], &sniffed, 4).unwrap_err();
    assert_eq!(err, ImportError::UnterminatedQuote { row: 3, line: 3 });
    let err = plan_chunks(&b"a,b\n\"x\ny\",1\n\"z,2\n"[..], &sniffed, 4).unwrap_err();
    assert_eq!(err, ImportError::UnterminatedQuote { row: 3, line: 4 });

    let max = hw_import::MAX_LINE_BYTES;
    let mut long = b"a,b\n1,2\n".to_vec();
    long.extend(std::iter::repeat_n(b'x', max + 1));
    long.extend(b",1\n");
    let err = plan_chunks(&long[..], &sniffed, 4).unwrap_err();
    assert_eq!(err, ImportError::LineTooLong { line: 3, max });
    assert_eq!(records(std::str::from_utf8(&long).unwrap(), &sniffed, 10).unwrap_err(), err);
    // A quoted field spanning many short lines still makes one overlong record.
    let mut quoted = b"a,b\n\"".to_vec();
    for _ in 0..(max / 10 + 1) {
        quoted.extend(b"012345678\n");
    }
    quoted.extend(b"\",1\n");
    assert_eq!(plan_chunks(&quoted[..], &sniffed, 4).unwrap_err(), ImportError::LineTooLong { line: 2, max });
}

#[test]
fn read_errors_are_reported() {
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("connection reset"))
        }
    }
    let sniffed = csv_sniffed(Encoding::Utf8 { bom: false }, b',', true);
    assert!(matches!(plan_chunks(Broken, &sniffed, 10), Err(ImportError::Read(m)) if m.contains("reset")));
}

fn messy_ndjson(rng: &mut Rng) -> String {
    let mut out = String::new();
    for i in 0..rng.below(30) {
        let line = match rng.below(10) {
            0 => String::new(),
            1 => " \t ".into(),
            2 => "not json".into(),
            3 => "[1,2]".into(),
            4 => format!(r#"{{"id":{i},"note":"line\nbreak \"quoted\" 日本"}}"#),
            5 => format!(r#"{{"id":{i},"nested":{{"a":[1,{{"b":null}}]}},"extra_{i}":true}}"#),
            _ => format!(r#"{{"id":{i},"name":"n{i}","score":{}.5}}"#, rng.below(100)),
        };
        out.push_str(&line);
        out.push_str(rng.pick(&["\n", "\r\n"]));
    }
    if rng.chance(50) {
        out.push_str(r#"{"id":"last","no":"newline"}"#);
    }
    out
}

#[test]
fn ndjson_chunks_read_back_as_the_whole_file() {
    let mut rng = Rng(11);
    for case in 0..150 {
        let encoding = [Encoding::Utf8 { bom: false }, Encoding::Utf8 { bom: true }, Encoding::Utf16Le][case % 3];
        let bytes = encode(&messy_ndjson(&mut rng), encoding);
        let sniffed = Sniffed { format: Format::Ndjson, encoding, csv: None };
        assert_chunks_match_whole(&bytes, &sniffed, &TARGETS, true);
    }
}

fn json_element(rng: &mut Rng, i: usize) -> String {
    match rng.below(8) {
        0 => "null".into(),
        1 => r#""a string, with ] and } and \" and \\""#.into(),
        2 => "[1, [2, {\"x\": \"]\"}]]".into(),
        3 => format!("{}", rng.below(1000)),
        _ => format!(
            r#"{{ "id": {i}, "name": "n{i} [x] {{y}} \"q\" \\", "tags": ["a", "b"], "obj": {{"k": [{{}}]}}, "é": true }}"#
        ),
    }
}

fn messy_json(rng: &mut Rng) -> String {
    let ws = ["", " ", "\n", "\r\n  ", "\t"];
    let mut out = format!("{}[{}", rng.pick(&ws), rng.pick(&ws));
    let n = rng.below(25);
    for i in 0..n {
        out.push_str(&json_element(rng, i));
        out.push_str(rng.pick(&ws));
        if i + 1 < n {
            out.push(',');
            out.push_str(rng.pick(&ws));
        }
    }
    out.push(']');
    out.push_str(rng.pick(&ws));
    out
}

#[test]
fn json_array_chunks_read_back_as_the_whole_file() {
    let mut rng = Rng(13);
    for case in 0..150 {
        let encoding = [Encoding::Utf8 { bom: false }, Encoding::Utf8 { bom: true }, Encoding::Utf16Be][case % 3];
        let bytes = encode(&messy_json(&mut rng), encoding);
        let sniffed = Sniffed { format: Format::Json, encoding, csv: None };
        if let Err(ImportError::NotRecords { .. }) = records(&decode(&bytes, encoding), &sniffed, usize::MAX) {
            continue; // an array without any object is refused as a whole; a chunk of one is not
        }
        assert_chunks_match_whole(&bytes, &sniffed, &TARGETS, true);
    }
}

#[test]
fn malformed_json_arrays_are_refused() {
    let sniffed = Sniffed { format: Format::Json, encoding: Encoding::Utf8 { bom: false }, csv: None };
    for (text, what) in [
        ("[{\"a\":1},]", "expected an element"),
        ("[{\"a\":1} {\"a\":2}]", "expected `,` or `]`"),
        ("[{\"a\":1}", "ends inside the array"),
        ("[{\"a\":\"]}", "ends inside the array"),
        ("[{\"a\":1}] x", "after the closing"),
        ("[,{\"a\":1}]", "expected an element"),
    ] {
        match plan_chunks(text.as_bytes(), &sniffed, 10) {
            Err(ImportError::InvalidJson(m)) => assert!(m.contains(what), "{text}: {m}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    assert!(matches!(plan_chunks(&b"{\"a\": 1}"[..], &sniffed, 10), Err(ImportError::NotRecords { .. })));
    assert_eq!(plan_chunks(&b"  "[..], &sniffed, 10), Err(ImportError::Empty));
}

fn messy_xml(rng: &mut Rng) -> String {
    // Grouping tags balance over the whole document: one group is open around all records.
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- <contact> in a comment -->\n<book><group>");
    for i in 0..rng.below(20) {
        match rng.below(8) {
            0 => out.push_str("\n  </group><group name=\"g\">"),
            1 => out.push_str(&format!("<contact id=\"e{i}\" note=\"a > b\"/>")),
            2 => out.push_str(&format!(
                "<contact id=\"c{i}\"><name><![CDATA[</contact> & <x>]]></name><contact>inner</contact></contact>"
            )),
            3 => out.push_str("<other><contact-ish/></other><!-- </contact> -->"),
            _ => out.push_str(&format!(
                "\n  <contact id=\"c{i}\">\n    <name>Ann &amp; Co {i}</name><phone>1</phone><phone>2</phone>\n  </contact>"
            )),
        }
    }
    out.push_str("<contact><name>last</name></contact></group>\n</book>\n");
    out
}

#[test]
fn xml_chunks_read_back_as_the_whole_file() {
    let mut rng = Rng(17);
    for case in 0..120 {
        let text = messy_xml(&mut rng);
        let encoding = [Encoding::Utf8 { bom: false }, Encoding::Utf8 { bom: true }, Encoding::Utf16Le][case % 3];
        let bytes = encode(&text, encoding);
        let sniffed = Sniffed { format: Format::Xml { record_element: "contact".into() }, encoding, csv: None };
        assert_chunks_match_whole(&bytes, &sniffed, &TARGETS, false);
        let plan = plan_chunks(&bytes[..], &sniffed, 1).unwrap();
        if encoding == Encoding::Utf16Le {
            assert_eq!(plan.chunks.len(), 1, "UTF-16 XML is one chunk");
            assert_eq!(plan.chunks[0].start, 2, "after the byte-order mark");
        } else {
            assert_eq!(plan.chunks.len(), plan.total_rows, "one record per chunk at 1 byte");
            for c in &plan.chunks {
                let piece = std::str::from_utf8(&bytes[c.start as usize..c.end as usize]).unwrap();
                assert!(piece.starts_with("<contact") && piece.ends_with('>'), "{piece}");
            }
        }
    }
}

#[test]
fn xml_in_windows_1252() {
    let text = "<?xml version=\"1.0\" encoding=\"windows-1252\"?><r><rec><n>Liège</n></rec><rec><n>Zoë</n></rec></r>";
    let bytes = encode(text, Encoding::Windows1252);
    let sniffed =
        Sniffed { format: Format::Xml { record_element: "rec".into() }, encoding: Encoding::Windows1252, csv: None };
    let plan = plan_chunks(&bytes[..], &sniffed, 1).unwrap();
    assert_eq!(plan.chunks.len(), 2);
    let rows = rows_by_chunks(&bytes, &sniffed, &["n".to_string()], &plan);
    assert_eq!(rows[1].cells, [Some("Zoë".to_string())]);
}

#[test]
fn xml_entities_are_refused_while_planning() {
    let xml = b"<?xml version=\"1.0\"?>\n<!DOCTYPE r [ <!ENTITY x \"boom\"> ]>\n<r><rec>&x;</rec></r>";
    let sniffed = Sniffed {
        format: Format::Xml { record_element: "rec".into() },
        encoding: Encoding::Utf8 { bom: false },
        csv: None,
    };
    assert_eq!(plan_chunks(&xml[..], &sniffed, 10).unwrap_err(), ImportError::XmlEntities);
    // A chunk relying on an entity is refused when read, never expanded.
    let err = read_chunk(b"<rec>&x;</rec>", &sniffed, &["rec".into()], 1).unwrap_err();
    assert!(matches!(err, ImportError::InvalidXml(m) if m.contains("undefined entity")));
    assert!(matches!(plan_chunks(&b"<r><rec></r>"[..], &sniffed, 10), Err(ImportError::InvalidXml(_))));
}

#[test]
fn spreadsheets_are_not_byte_planned() {
    let sniffed = hw_import::sniff(b"PK\x03\x04rest", None).unwrap();
    assert_eq!(plan_chunks(&b"PK\x03\x04rest"[..], &sniffed, 10), Err(ImportError::Unsupported("Excel")));
    assert_eq!(read_chunk(b"PK", &sniffed, &[], 1), Err(ImportError::Unsupported("Excel")));
}

#[test]
fn a_chunk_keeps_keys_it_was_given_only() {
    let sniffed = Sniffed { format: Format::Ndjson, encoding: Encoding::Utf8 { bom: false }, csv: None };
    let t = read_chunk(b"{\"b\":1,\"late\":2}\n\n{\"a\":\"x\"}\n", &sniffed, &["a".into(), "b".into()], 40).unwrap();
    assert_eq!(t.columns, ["a", "b"]);
    assert_eq!(t.rows[0].cells, [None, Some("1".into())]);
    assert_eq!((t.rows[0].number, t.rows[1].number), (40, 42));
}

#[test]
fn chunk_keys_are_every_key_of_the_chunk_in_first_seen_order() {
    let utf8 = Encoding::Utf8 { bom: false };
    let cases = [
        (Format::Ndjson, "{\"a\": 1}\n{\"b\": 2, \"a\": 3}\n{\"c\": null}\n"),
        (Format::Json, "[{\"a\": 1},\n{\"b\": 2, \"a\": 3},\n{\"c\": null}]"),
        (Format::Xml { record_element: "r".into() }, "<root><r><a>1</a></r><r><b>2</b><a>3</a></r><r><c/></r></root>"),
    ];
    for (format, text) in cases {
        let sniffed = Sniffed { format: format.clone(), encoding: utf8, csv: None };
        let plan = plan_chunks(text.as_bytes(), &sniffed, 1 << 20).unwrap();
        assert_eq!(plan.chunks.len(), 1, "{format:?}");
        let c = &plan.chunks[0];
        let keys = hw_import::chunk_keys(&text.as_bytes()[c.start as usize..c.end as usize], &sniffed).unwrap();
        assert_eq!(keys, ["a", "b", "c"], "{format:?}");
    }
    let csv = csv_sniffed(utf8, b',', true);
    assert!(hw_import::chunk_keys(b"x,y\n1,2\n", &csv).unwrap().is_empty(), "CSV columns are its header");
}
