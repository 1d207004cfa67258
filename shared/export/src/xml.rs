//! XML: `<records entity="contact"><record id="..."><email>...</email>...</record></records>`.
//!
//! One element per column, named after the column: model field names are `[a-z][a-z0-9_]{0,62}`
//! (`hw_domain::model::is_valid_name`), always valid XML names, which keeps the document easy to query (`//email`).
//! A name that would not be safe (not a valid model name, or starting with the reserved `xml` prefix) is written as
//! `<field name="...">` instead. The id is the `id` attribute of `<record>`; absent/`null` attributes have no
//! element (so `<x></x>` always means the empty string); JSON values are compact JSON text. Text and attributes are
//! escaped by quick-xml; characters XML 1.0 cannot carry at all (C0 controls other than tab, LF and CR) are replaced
//! with U+FFFD, since no escape makes them legal and a parser would reject the whole file.

use std::borrow::Cow;
use std::io::Write;

use hw_domain::model::is_valid_name;
use hw_domain::record::Record;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::cell::text;
use crate::columns::ColumnKind;
use crate::{Columns, ExportError, Renderer};

impl From<quick_xml::Error> for ExportError {
    fn from(e: quick_xml::Error) -> Self {
        Self::Xml(e.to_string())
    }
}

fn is_xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// `s` with the characters XML 1.0 forbids replaced by U+FFFD.
fn xml_safe(s: &str) -> Cow<'_, str> {
    if s.chars().all(is_xml_char) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().map(|c| if is_xml_char(c) { c } else { '\u{fffd}' }).collect())
    }
}

fn element_name_is_safe(name: &str) -> bool {
    is_valid_name(name) && !name.starts_with("xml")
}

/// Renders records as `<record>` elements inside `<records>`.
pub struct XmlRenderer<W: Write> {
    columns: Columns,
    writer: Writer<std::io::BufWriter<W>>,
    begun: bool,
    /// Whether `<records>` was opened; an export without records ends up as the empty element `<records .../>`.
    opened: bool,
}

impl<W: Write> XmlRenderer<W> {
    pub fn new(columns: Columns, out: W) -> Self {
        Self { columns, writer: Writer::new(std::io::BufWriter::new(out)), begun: false, opened: false }
    }

    fn root(&self) -> BytesStart<'_> {
        BytesStart::new("records").with_attributes([("entity", self.columns.entity())])
    }
}

impl<W: Write> Renderer for XmlRenderer<W> {
    fn begin(&mut self) -> Result<(), ExportError> {
        if !self.begun {
            self.writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
            self.begun = true;
        }
        Ok(())
    }

    fn write(&mut self, record: &Record) -> Result<(), ExportError> {
        self.begin()?;
        if !self.opened {
            let root = self.root().into_owned();
            self.writer.write_event(Event::Start(root))?;
            self.opened = true;
        }
        let id = xml_safe(&record.id);
        self.writer.write_event(Event::Start(BytesStart::new("record").with_attributes([("id", id.as_ref())])))?;
        for c in self.columns.iter().filter(|c| c.kind != ColumnKind::Id) {
            let value = c.value(record);
            let Some(t) = text(&value) else { continue };
            let (start, end) = if element_name_is_safe(&c.name) {
                (BytesStart::new(c.name.as_str()), c.name.as_str())
            } else {
                (BytesStart::new("field").with_attributes([("name", xml_safe(&c.name).as_ref())]), "field")
            };
            self.writer.write_event(Event::Start(start))?;
            self.writer.write_event(Event::Text(BytesText::new(&xml_safe(&t))))?;
            self.writer.write_event(Event::End(BytesEnd::new(end)))?;
        }
        self.writer.write_event(Event::End(BytesEnd::new("record")))?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.begin()?;
        if self.opened {
            self.writer.write_event(Event::End(BytesEnd::new("records")))?;
        } else {
            let root = self.root().into_owned();
            self.writer.write_event(Event::Empty(root))?;
        }
        self.writer.get_mut().write_all(b"\n")?;
        self.writer.get_mut().flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use quick_xml::Reader;
    use quick_xml::events::Event;
    use serde_json::json;

    use super::*;
    use crate::Format;
    use crate::fixtures::{all_columns, record, records, render};

    /// Parsed `<record>`s: id and element name → text; plus the root's name and `entity`.
    type Parsed = (String, Option<String>, Vec<(String, BTreeMap<String, String>)>);

    fn parse(bytes: &[u8]) -> Parsed {
        let mut reader = Reader::from_reader(bytes);
        let (mut root, mut entity, mut out) = (String::new(), None, Vec::new());
        let mut current: Option<String> = None;
        let decoder = reader.decoder();
        let mut text = String::new();
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) | Event::Empty(e) if root.is_empty() => {
                    root = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                    entity = e
                        .try_get_attribute("entity")
                        .unwrap()
                        .map(|a| a.decode_and_unescape_value(decoder).unwrap().into_owned());
                }
                Event::Start(e) if e.name().as_ref() == b"record" => {
                    let id = e
                        .try_get_attribute("id")
                        .unwrap()
                        .unwrap()
                        .decode_and_unescape_value(decoder)
                        .unwrap()
                        .into_owned();
                    out.push((id, BTreeMap::new()));
                }
                Event::Start(e) => {
                    current = Some(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                    text.clear();
                }
                Event::Text(t) => text.push_str(&t.decode().unwrap()),
                Event::GeneralRef(r) => {
                    let raw = format!("&{};", r.decode().unwrap());
                    text.push_str(&quick_xml::escape::unescape(&raw).unwrap());
                }
                Event::End(_) => {
                    if let Some(name) = current.take() {
                        out.last_mut().unwrap().1.insert(name, std::mem::take(&mut text));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        (root, entity, out)
    }

    #[test]
    fn renders_every_field_type_as_elements() {
        let bytes = render(Format::Xml, all_columns(), &records());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{text}");
        let (root, entity, recs) = parse(&bytes);
        assert_eq!((root.as_str(), entity.as_deref()), ("records", Some("contact")));
        assert_eq!(recs.len(), 3);
        let (id, first) = &recs[0];
        assert_eq!(id, "01A");
        let get = |k: &str| first.get(k).map(String::as_str);
        assert_eq!(get("name"), Some("Ada"));
        assert_eq!(get("notes"), Some("line1\nline2"));
        assert_eq!(get("age"), Some("-42"));
        assert_eq!(get("balance"), Some("1234.5"));
        assert_eq!(get("active"), Some("true"));
        assert_eq!(get("birthday"), Some("1990-12-31"));
        assert_eq!(get("last_seen"), Some("2026-01-31T09:30:00Z"));
        assert_eq!(get("website"), Some("https://example.com/a?b=1&c=2"));
        assert_eq!(get("extra"), Some(r#"{"a":"x","b":[1,2]}"#));
        assert_eq!(get("version"), Some("3"));
        assert_eq!(get("secret"), None, "sensitive field excluded");
        assert!(!recs[1].1.contains_key("notes"), "absent attributes have no element");
        assert_eq!(recs[1].1.get("active").map(String::as_str), Some("false"));
    }

    #[test]
    fn escapes_markup_characters() {
        let recs = vec![record("a\"<&>", json!({"name": "<b>&amp;\"x\"</b>", "notes": "bell\u{7}here"}))];
        let bytes = render(Format::Xml, all_columns(), &recs);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.contains("<b>"), "{text}");
        assert!(text.contains("&lt;b&gt;&amp;amp;"), "{text}");
        let (_, _, parsed) = parse(&bytes);
        assert_eq!(parsed[0].0, "a\"<&>");
        assert_eq!(parsed[0].1["name"], "<b>&amp;\"x\"</b>");
        assert_eq!(parsed[0].1["notes"], "bell\u{fffd}here", "control characters cannot appear in XML 1.0");
    }

    #[test]
    fn unsafe_element_names_fall_back_to_a_name_attribute() {
        assert!(element_name_is_safe("email"));
        assert!(!element_name_is_safe("xml_data"));
        assert!(!element_name_is_safe("Bad Name"));
    }

    #[test]
    fn empty_export_is_an_empty_root_element() {
        let bytes = render(Format::Xml, all_columns(), &[]);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("<records entity=\"contact\"/>"), "{text}");
        let (root, entity, recs) = parse(&bytes);
        assert_eq!((root.as_str(), entity.as_deref(), recs.len()), ("records", Some("contact"), 0));
    }
}
