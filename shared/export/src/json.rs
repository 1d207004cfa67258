//! JSON (one array of objects, streamed element by element) and NDJSON (one object per line).
//!
//! Objects carry every column, with `null` for absent attributes, so all elements have the same shape; keys are in
//! column order (written by hand, since `serde_json::Map` would sort them). Values keep their JSON types.

use std::io::Write;

use hw_domain::record::Record;

use crate::{Columns, ExportError, Renderer};

/// Writes one record as a JSON object in column order.
fn write_object<W: Write>(out: &mut W, columns: &Columns, record: &Record) -> Result<(), ExportError> {
    out.write_all(b"{")?;
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &c.name)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, &c.value(record))?;
    }
    out.write_all(b"}")?;
    Ok(())
}

/// Renders `[{...},\n{...}]`: valid JSON at the end, without holding more than one record.
pub struct JsonRenderer<W: Write> {
    columns: Columns,
    out: std::io::BufWriter<W>,
    begun: bool,
    written: u64,
}

impl<W: Write> JsonRenderer<W> {
    pub fn new(columns: Columns, out: W) -> Self {
        Self { columns, out: std::io::BufWriter::new(out), begun: false, written: 0 }
    }
}

impl<W: Write> Renderer for JsonRenderer<W> {
    fn begin(&mut self) -> Result<(), ExportError> {
        if !self.begun {
            self.out.write_all(b"[")?;
            self.begun = true;
        }
        Ok(())
    }

    fn write(&mut self, record: &Record) -> Result<(), ExportError> {
        self.begin()?;
        self.out.write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
        write_object(&mut self.out, &self.columns, record)?;
        self.written += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.begin()?;
        self.out.write_all(if self.written == 0 { b"]\n" } else { b"\n]\n" })?;
        self.out.flush()?;
        Ok(())
    }
}

/// Renders one object per line (`\n`-terminated); an empty export is an empty file.
pub struct NdjsonRenderer<W: Write> {
    columns: Columns,
    out: std::io::BufWriter<W>,
}

impl<W: Write> NdjsonRenderer<W> {
    pub fn new(columns: Columns, out: W) -> Self {
        Self { columns, out: std::io::BufWriter::new(out) }
    }
}

impl<W: Write> Renderer for NdjsonRenderer<W> {
    fn begin(&mut self) -> Result<(), ExportError> {
        Ok(())
    }

    fn write(&mut self, record: &Record) -> Result<(), ExportError> {
        write_object(&mut self.out, &self.columns, record)?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::Format;
    use crate::fixtures::{all_columns, records, render};

    fn expected_first() -> Value {
        json!({
            "id": "01A", "name": "Ada", "notes": "line1\nline2", "age": -42, "balance": 1234.5, "active": true,
            "birthday": "1990-12-31", "last_seen": "2026-01-31T09:30:00Z", "email": "ada@example.com",
            "website": "https://example.com/a?b=1&c=2", "tier": "gold", "company": "01COMPANY",
            "extra": {"b": [1, 2], "a": "x"},
            "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-03T04:05:06Z", "version": 3
        })
    }

    #[test]
    fn json_renders_an_array_of_typed_objects_in_column_order() {
        let bytes = render(Format::Json, all_columns(), &records());
        let v: Vec<Value> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0], expected_first());
        assert_eq!(v[1]["notes"], Value::Null, "absent attributes are null");
        assert_eq!(v[1]["age"], json!(7));
        assert_eq!(v[2]["name"], "Quote \"me\", please");
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("[\n{\"id\":\"01A\",\"name\":\"Ada\",\"notes\""), "{text}");
        assert!(!text.contains("secret") && !text.contains("hunter2"), "sensitive field excluded");
    }

    #[test]
    fn ndjson_renders_one_object_per_line() {
        let bytes = render(Format::Ndjson, all_columns(), &records());
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(text.ends_with('\n'));
        let first: Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(first, expected_first());
        let third: Value = serde_json::from_str(lines[2]).unwrap();
        assert_eq!(third["notes"], "<tag> & \"q\" 'a'");
    }

    #[test]
    fn empty_exports_are_valid() {
        let json = render(Format::Json, all_columns(), &[]);
        assert_eq!(serde_json::from_slice::<Vec<Value>>(&json).unwrap(), Vec::<Value>::new());
        assert!(render(Format::Ndjson, all_columns(), &[]).is_empty());
    }
}
