//! Text → [`Table`]: CSV via the `csv` crate, JSON arrays and NDJSON flattened one level, XML record elements.

use std::collections::HashMap;

use quick_xml::events::Event;
use serde::Deserialize;
use serde_json::Value;

use crate::csv_lex::CsvRecords;
use crate::decode::check_line_lengths;
use crate::{CsvDialect, Format, ImportError, Row, Sniffed, Table};

/// Reads up to `limit` records of `text` (already decoded) as `sniffed` says. Problems with single rows are reported
/// on the row; only problems that make the whole text unreadable are errors.
pub fn records(text: &str, sniffed: &Sniffed, limit: usize) -> Result<Table, ImportError> {
    read(text, sniffed, &Reading { columns: None, first_row: 1, limit, chunk: false })
}

/// How a text is read: a whole file (column names from its header or its keys) or one chunk cut by the planner.
pub(crate) struct Reading<'c> {
    /// Column names to fill (chunks); `None` takes them from the text.
    pub columns: Option<&'c [String]>,
    /// Row number of the text's first row (line, record or element).
    pub first_row: usize,
    pub limit: usize,
    /// A chunk: CSV without header, JSON elements without the enclosing array, XML record elements without root.
    pub chunk: bool,
}

pub(crate) fn read(text: &str, sniffed: &Sniffed, how: &Reading) -> Result<Table, ImportError> {
    match &sniffed.format {
        Format::Csv => {
            let dialect = sniffed.csv.unwrap_or(CsvDialect { delimiter: b',', quote: b'"', has_header: true });
            csv_table(text, dialect, how)
        }
        Format::Json => json_table(text, how),
        Format::Ndjson => ndjson_table(text, how),
        Format::Xml { record_element } => xml_table(text, record_element, how),
        Format::Spreadsheet { .. } => Err(ImportError::Unsupported("Excel")),
    }
}

/// Column names from a header (or `column_N`), with blanks named by position and duplicates suffixed `_2`, `_3`…
pub(crate) fn unique_names(raw: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    raw.into_iter()
        .enumerate()
        .map(|(i, n)| {
            let n = n.trim();
            let base = if n.is_empty() { format!("column_{}", i + 1) } else { n.to_owned() };
            let k = seen.entry(base.clone()).or_default();
            *k += 1;
            if *k == 1 { base } else { format!("{base}_{k}") }
        })
        .collect()
}

/// A cell as the file holds it, or `None` when it is blank. Surrounding whitespace is kept: in a text field it is
/// data (an export of a value with spaces must import back the same); typed conversion ignores it, and the `trim`
/// rule removes it where a person wants that.
pub(crate) fn cell(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_owned())
}

/// CSV through the shared lexer. A record of one blank field is a blank line: skipped, but it keeps its row number.
/// Once `limit` rows are read the rest is still scanned, so an unterminated quote or an overlong record anywhere in
/// the text is reported as before.
fn csv_table(text: &str, d: CsvDialect, how: &Reading) -> Result<Table, ImportError> {
    let mut recs = CsvRecords::new(text, d, how.first_row);
    let mut columns: Option<Vec<String>> = how.columns.map(<[String]>::to_vec);
    let header = d.has_header && !how.chunk;
    let mut rows = Vec::new();
    while let Some(number) = recs.next_record()? {
        let count = recs.field_count();
        if count == 1 && recs.field(0).trim().is_empty() {
            continue;
        }
        let n = match &columns {
            Some(c) => c.len(),
            None if header => {
                columns = Some(unique_names((0..count).map(|i| recs.field(i).to_owned())));
                continue;
            }
            None => {
                columns = Some(unique_names((0..count).map(|_| String::new())));
                count
            }
        };
        if rows.len() >= how.limit {
            continue;
        }
        let problem = (count != n).then(|| {
            let what = if count > n { "extra fields dropped" } else { "missing fields left empty" };
            format!("row has {count} fields, expected {n} ({what})")
        });
        let mut cells: Vec<Option<String>> = (0..count.min(n)).map(|i| cell(recs.field(i))).collect();
        cells.resize(n, None);
        rows.push(Row { number, cells, problem });
    }
    Ok(Table { columns: columns.unwrap_or_default(), rows })
}

fn to_cell(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => cell(s),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        // Nested objects and arrays stay JSON text: a `json` field can take them, or a later step can split them.
        other => Some(other.to_string()),
    }
}

/// A record's position and its object, or what was wrong with it.
type Item = (usize, Result<Fields, String>);
/// An object's members in document order (`serde_json::Map` sorts them unless a workspace-wide feature is on, and
/// users expect their columns in file order).
type Fields = Vec<(String, Value)>;

struct Obj(Fields);

impl<'de> Deserialize<'de> for Obj {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Obj;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Obj, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = m.next_entry::<String, Value>()? {
                    fields.push(entry);
                }
                Ok(Obj(fields))
            }
        }
        d.deserialize_map(V)
    }
}

/// An array element: an object, or anything else (reported on its row).
#[derive(Deserialize)]
#[serde(untagged)]
enum Elem {
    Obj(Obj),
    Other(serde::de::IgnoredAny),
}

/// Builds a table from objects, columns in first-seen key order across all records, or the `given` columns (a
/// chunk's keys that are not among them are left out: the mapping was made on the given ones).
fn objects_table(items: Vec<Item>, given: Option<&[String]>) -> Table {
    let mut columns: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    if let Some(given) = given {
        for k in given {
            index.entry(k.clone()).or_insert(columns.len());
            columns.push(k.clone());
        }
    } else {
        for (_, obj) in &items {
            for (k, _) in obj.iter().flatten() {
                if !index.contains_key(k) {
                    index.insert(k.clone(), columns.len());
                    columns.push(k.clone());
                }
            }
        }
    }
    let rows = items
        .into_iter()
        .map(|(number, obj)| {
            let mut cells = vec![None; columns.len()];
            let problem = match obj {
                Ok(o) => {
                    for (k, v) in &o {
                        if let Some(&i) = index.get(k) {
                            cells[i] = to_cell(v);
                        }
                    }
                    None
                }
                Err(p) => Some(p),
            };
            Row { number, cells, problem }
        })
        .collect();
    Table { columns, rows }
}

/// A whole array, or (a chunk) the planner's cut of one: elements separated by commas, maybe with a trailing comma,
/// which is put back between brackets. A chunk may hold only non-objects: other chunks have the objects.
fn json_table(text: &str, how: &Reading) -> Result<Table, ImportError> {
    let wrapped;
    let text = if how.chunk {
        let body = text.trim();
        let body = body.strip_suffix(',').unwrap_or(body);
        wrapped = format!("[{body}]");
        wrapped.as_str()
    } else {
        text.trim_start()
    };
    if !text.starts_with('[') {
        return Err(ImportError::NotRecords { found: "a JSON value that is not an array".into() });
    }
    let items: Vec<Elem> = serde_json::from_str(text).map_err(|e| ImportError::InvalidJson(e.to_string()))?;
    if !how.chunk && !items.is_empty() && items.iter().all(|v| matches!(v, Elem::Other(_))) {
        return Err(ImportError::NotRecords { found: "an array without objects".into() });
    }
    let items = items
        .into_iter()
        .take(how.limit)
        .enumerate()
        .map(|(i, v)| match v {
            Elem::Obj(o) => (how.first_row + i, Ok(o.0)),
            Elem::Other(_) => (how.first_row + i, Err("element is not an object".to_owned())),
        })
        .collect();
    Ok(objects_table(items, how.columns))
}

fn ndjson_table(text: &str, how: &Reading) -> Result<Table, ImportError> {
    check_line_lengths(text)?;
    let items = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .take(how.limit)
        .map(|(i, l)| {
            let number = how.first_row + i;
            match serde_json::from_str::<Elem>(l) {
                Ok(Elem::Obj(o)) => (number, Ok(o.0)),
                Ok(Elem::Other(_)) => (number, Err("line is not a JSON object".to_owned())),
                Err(_) => (number, Err(format!("line is not valid JSON: {}", invalid_json(l)))),
            }
        })
        .collect();
    Ok(objects_table(items, how.columns))
}

/// serde_json's own message (an untagged enum only says that no variant matched).
fn invalid_json(line: &str) -> String {
    serde_json::from_str::<Value>(line).err().map_or_else(String::new, |e| e.to_string())
}

fn xml_err(e: impl std::fmt::Display) -> ImportError {
    ImportError::InvalidXml(e.to_string())
}

/// Each `record` element becomes one row: its attributes and its direct children are columns; a child's value is
/// all text below it (a repeated child's values joined with `; `). Entity references other than the five predefined
/// ones and character references are errors: nothing is ever expanded from a DTD.
///
/// A chunk holds record elements without their root, and the closing and opening tags of grouping elements between
/// them (`</group><group>`), so closing tags without an opening one are let through there.
fn xml_table(text: &str, record: &str, how: &Reading) -> Result<Table, ImportError> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().allow_unmatched_ends = how.chunk;
    let mut items = Vec::new();
    // Inside a record: (depth below the record, current child name, map being filled).
    let mut current: Option<(usize, Option<String>, Fields)> = None;
    let mut n = how.first_row.saturating_sub(1);
    loop {
        let event = reader.read_event().map_err(xml_err)?;
        match event {
            Event::DocType(d) => crate::sniff::refuse_xml_entities(&String::from_utf8_lossy(&d))?,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let add = |map: &mut Fields, key: String, val: String| {
                    if !map.iter().any(|(k, _)| *k == key) {
                        map.push((key, Value::String(val)));
                    }
                };
                match current.as_mut() {
                    None if name == record => {
                        let mut map = Fields::new();
                        for a in e.attributes() {
                            let a = a.map_err(xml_err)?;
                            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                            add(
                                &mut map,
                                key,
                                a.decode_and_unescape_value(reader.decoder()).map_err(xml_err)?.into_owned(),
                            );
                        }
                        n += 1;
                        if empty {
                            items.push((n, Ok(map)));
                        } else {
                            current = Some((0, None, map));
                        }
                    }
                    None => {}
                    Some((depth, child, map)) => {
                        if *depth == 0 {
                            // A repeated child (two `<phone>`s) gives one cell, its values joined with "; ".
                            match map.iter_mut().find(|(k, _)| *k == name) {
                                Some((_, Value::String(v))) if !v.trim().is_empty() && !empty => v.push_str("; "),
                                _ => add(map, name.clone(), String::new()),
                            }
                            *child = (!empty).then_some(name);
                        }
                        if !empty {
                            *depth += 1;
                        }
                    }
                }
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                let piece = match &event {
                    Event::Text(t) => t.xml_content().map_err(xml_err)?.into_owned(),
                    Event::CData(t) => t.decode().map_err(xml_err)?.into_owned(),
                    Event::GeneralRef(r) => {
                        if let Some(c) = r.resolve_char_ref().map_err(xml_err)? {
                            c.to_string()
                        } else {
                            let name = r.decode().map_err(xml_err)?;
                            quick_xml::escape::resolve_predefined_entity(&name)
                                .ok_or_else(|| xml_err(format!("undefined entity &{name};")))?
                                .to_owned()
                        }
                    }
                    _ => unreachable!(),
                };
                if let Some((_, Some(child), map)) = current.as_mut()
                    && let Some((_, Value::String(s))) = map.iter_mut().find(|(k, _)| k == child)
                {
                    s.push_str(&piece);
                }
            }
            Event::End(_) => {
                if let Some((depth, child, map)) = current.as_mut() {
                    if *depth == 0 {
                        let map = std::mem::take(map);
                        items.push((n, Ok(map)));
                        current = None;
                        if items.len() >= how.limit {
                            break;
                        }
                    } else {
                        *depth -= 1;
                        if *depth == 0 {
                            *child = None;
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if items.is_empty() {
        return Err(ImportError::InvalidXml(format!("no <{record}> elements")));
    }
    Ok(objects_table(items, how.columns))
}
