//! Format sniffing: magic bytes, encoding, then the first significant character decides between JSON, XML and CSV;
//! for CSV the delimiter and the header row are guessed from the sample.

use std::collections::{BTreeMap, HashSet};

use quick_xml::events::Event;

use crate::decode::{check_line_lengths, check_textual, decode, detect_encoding};
use crate::{CsvDialect, Format, ImportError, Sniffed, SpreadsheetKind};

/// Delimiters tried, in order of preference when they score the same.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];
/// Records looked at to choose a delimiter and a header.
const DIALECT_ROWS: usize = 100;

/// Tells what `sample` (the start of a file, possibly cut mid-record) is. `file_name` only breaks ties: a `.ndjson` /
/// `.jsonl` file holding a single object line is NDJSON.
pub fn sniff(sample: &[u8], file_name: Option<&str>) -> Result<Sniffed, ImportError> {
    if sample.is_empty() {
        return Err(ImportError::Empty);
    }
    if sample.starts_with(b"PK\x03\x04") {
        return Ok(spreadsheet(SpreadsheetKind::Xlsx));
    }
    if sample.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Ok(spreadsheet(SpreadsheetKind::Xls));
    }
    let encoding = detect_encoding(sample);
    let text = decode(sample, encoding);
    check_textual(&text)?;
    let body = text.trim_start();
    if body.is_empty() {
        return Err(ImportError::Empty);
    }
    let ext = file_name.and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase());
    let format = match body.as_bytes()[0] {
        b'[' => {
            check_json_array(body)?;
            Format::Json
        }
        b'{' => sniff_object_start(body, ext.as_deref())?,
        b'<' => Format::Xml { record_element: record_element(body)? },
        _ => {
            refuse_json_scalar(body)?;
            check_line_lengths(&text)?;
            return Ok(Sniffed { format: Format::Csv, encoding, csv: Some(csv_dialect(&text)) });
        }
    };
    Ok(Sniffed { format, encoding, csv: None })
}

fn spreadsheet(kind: SpreadsheetKind) -> Sniffed {
    // The encoding is meaningless for a binary workbook; UTF-8 is what its cells will be read as.
    Sniffed { format: Format::Spreadsheet { kind }, encoding: crate::Encoding::Utf8 { bom: false }, csv: None }
}

fn describe(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "a null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A whole-sample JSON scalar (`42`, `"x"`, `true`) is JSON that is not records; a one-cell CSV is refused with it,
/// which costs nothing real.
fn refuse_json_scalar(body: &str) -> Result<(), ImportError> {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v) => Err(ImportError::NotRecords { found: describe(&v).into() }),
        Err(_) => Ok(()),
    }
}

/// An array must hold objects. The sample may be cut, so a parse that fails only because the input ended is accepted
/// when the elements seen so far are objects.
fn check_json_array(body: &str) -> Result<(), ImportError> {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(items)) => {
            if items.is_empty() {
                return Err(ImportError::NotRecords { found: "an empty array".into() });
            }
            if let Some(bad) = items.iter().find(|v| !v.is_object()) {
                let kind = describe(bad).trim_start_matches("an ").trim_start_matches("a ");
                return Err(ImportError::NotRecords { found: format!("an array containing {kind}s") });
            }
            Ok(())
        }
        Ok(v) => Err(ImportError::NotRecords { found: describe(&v).into() }),
        Err(e) if e.is_eof() => match body[1..].trim_start().as_bytes().first() {
            Some(b'{') => Ok(()),
            _ => Err(ImportError::NotRecords { found: "an array whose first element is not an object".into() }),
        },
        Err(e) => Err(ImportError::InvalidJson(e.to_string())),
    }
}

/// `{` starts either NDJSON (the first line is a complete object) or a single, multi-line object, which is not a list
/// of records.
fn sniff_object_start(body: &str, ext: Option<&str>) -> Result<Format, ImportError> {
    let mut lines = body.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(first) {
        Ok(serde_json::Value::Object(_)) => {
            let more = lines.next().is_some_and(|l| l.starts_with('{'));
            if more || matches!(ext, Some("ndjson" | "jsonl")) || body.trim_end() == first {
                check_line_lengths(body)?;
                Ok(Format::Ndjson)
            } else {
                Err(ImportError::NotRecords { found: "a single JSON object".into() })
            }
        }
        _ => match serde_json::from_str::<serde_json::Value>(body) {
            Ok(_) => Err(ImportError::NotRecords { found: "a single JSON object".into() }),
            Err(e) if e.is_eof() => Err(ImportError::NotRecords { found: "a single (large) JSON object".into() }),
            Err(e) => Err(ImportError::InvalidJson(e.to_string())),
        },
    }
}

/// Refuses a DOCTYPE that declares entities: we never expand them (no billion laughs, no external entity reads) and
/// a document relying on them could not be read faithfully anyway.
pub(crate) fn refuse_xml_entities(doctype: &str) -> Result<(), ImportError> {
    if doctype.contains("<!ENTITY") || doctype.contains("ENTITY ") { Err(ImportError::XmlEntities) } else { Ok(()) }
}

/// The element that holds one record: the shallowest element path that repeats (ties: the most frequent, then the
/// first seen), so repeated children of a record (two `<phone>`s) do not win. With no repetition the root's first
/// child is the one record.
fn record_element(body: &str) -> Result<String, ImportError> {
    if let Some(pos) = body.find("<!DOCTYPE") {
        refuse_xml_entities(&body[pos..body[pos..].find("]>").map_or(body.len(), |e| pos + e)])?;
    }
    let mut reader = quick_xml::Reader::from_str(body);
    let mut path: Vec<String> = Vec::new();
    // path → (count, first seen order)
    let mut counts: BTreeMap<Vec<String>, (usize, usize)> = BTreeMap::new();
    let mut seen = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                path.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                seen += 1;
                counts.entry(path.clone()).or_insert((0, seen)).0 += 1;
            }
            Ok(Event::Empty(e)) => {
                path.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                seen += 1;
                counts.entry(path.clone()).or_insert((0, seen)).0 += 1;
                path.pop();
            }
            Ok(Event::End(_)) => {
                path.pop();
            }
            Ok(Event::DocType(d)) => refuse_xml_entities(&String::from_utf8_lossy(&d))?,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            // A cut sample ends mid-document; what was read before is enough.
            Err(_) if counts.len() > 1 => break,
            Err(e) => return Err(ImportError::InvalidXml(e.to_string())),
        }
    }
    let best = counts
        .iter()
        .filter(|(p, _)| p.len() >= 2)
        .max_by_key(|(p, (count, seen))| (*count >= 2, std::cmp::Reverse(p.len()), *count, std::cmp::Reverse(*seen)))
        .map(|(p, _)| p.last().cloned().unwrap_or_default());
    best.ok_or_else(|| ImportError::InvalidXml("no record elements: the root element has no children".into()))
}

/// Chooses the delimiter whose field counts are the most consistent over the sample (ties: more fields, then the
/// order of [`DELIMITERS`]) and guesses whether the first row is a header.
fn csv_dialect(text: &str) -> CsvDialect {
    // A sample cut mid-line would make its last row look ragged.
    let complete = match text.rfind('\n') {
        Some(i) if !text.ends_with('\n') => &text[..=i],
        _ => text,
    };
    let mut best: Option<(f64, usize, u8, Vec<Vec<String>>)> = None;
    for d in DELIMITERS {
        let rows = read_rows(complete, d);
        if rows.is_empty() {
            continue;
        }
        let mut freq: BTreeMap<usize, usize> = BTreeMap::new();
        for r in &rows {
            *freq.entry(r.len()).or_default() += 1;
        }
        let (fields, n) = freq.iter().max_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0))).map(|(f, n)| (*f, *n)).unwrap();
        if fields < 2 {
            continue;
        }
        let consistency = n as f64 / rows.len() as f64;
        if best.as_ref().is_none_or(|(c, f, _, _)| consistency > *c || (consistency == *c && fields > *f)) {
            best = Some((consistency, fields, d, rows));
        }
    }
    let (delimiter, rows) = match best {
        Some((_, _, d, rows)) => (d, rows),
        None => (b',', read_rows(complete, b',')),
    };
    CsvDialect { delimiter, quote: b'"', has_header: has_header(&rows) }
}

fn read_rows(text: &str, delimiter: u8) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .into_records()
        .take(DIALECT_ROWS)
        .map_while(Result::ok)
        .map(|r| r.iter().map(|c| c.trim().to_owned()).collect())
        .collect()
}

/// The first row is a header when its cells are all non-empty, untyped (no number, boolean or date) and distinct,
/// and either a later row has a typed value where the header has text, or no header cell reappears in its column
/// below (files of plain text are far more often headed than not).
fn has_header(rows: &[Vec<String>]) -> bool {
    let Some(first) = rows.first() else { return false };
    let distinct: HashSet<&str> = first.iter().map(String::as_str).collect();
    if distinct.len() != first.len() || first.iter().any(|c| c.is_empty() || crate::types::looks_typed(c)) {
        return false;
    }
    let rest = &rows[1..];
    if rest.is_empty() {
        return true;
    }
    let typed_below = rest.iter().any(|r| r.iter().any(|c| crate::types::looks_typed(c)));
    let repeated = first.iter().enumerate().any(|(i, h)| rest.iter().any(|r| r.get(i) == Some(h)));
    typed_below || !repeated
}
