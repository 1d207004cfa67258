//! CSV (RFC 4180): header row of column names, CRLF line ends, fields quoted only when needed (delimiter, quote,
//! CR or LF inside), quotes doubled. Strings that would start a formula are neutralised.

use std::io::Write;

use hw_domain::record::Record;

use crate::cell::spreadsheet_text;
use crate::{Columns, ExportError, Renderer};

/// CSV dialect options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// Start the file with a UTF-8 byte order mark: Excel needs it to read UTF-8 (otherwise it guesses the ANSI
    /// code page and mangles accents); most other tools prefer the file without, hence off by default.
    pub bom: bool,
    /// Field delimiter; `,` by default (`;` suits Excel in locales whose decimal separator is a comma).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self { bom: false, delimiter: b',' }
    }
}

/// Renders records as CSV rows.
pub struct CsvRenderer<W: Write> {
    columns: Columns,
    options: CsvOptions,
    /// The raw output until `begin` (the BOM goes before the csv writer takes it over).
    out: Option<W>,
    writer: Option<::csv::Writer<W>>,
}

impl<W: Write> CsvRenderer<W> {
    pub fn new(columns: Columns, options: CsvOptions, out: W) -> Self {
        Self { columns, options, out: Some(out), writer: None }
    }

    fn writer(&mut self) -> Result<&mut ::csv::Writer<W>, ExportError> {
        if self.writer.is_none() {
            self.begin()?;
        }
        Ok(self.writer.as_mut().expect("begin sets the writer"))
    }
}

impl<W: Write> Renderer for CsvRenderer<W> {
    fn begin(&mut self) -> Result<(), ExportError> {
        let Some(mut out) = self.out.take() else { return Ok(()) };
        if self.options.bom {
            out.write_all("\u{feff}".as_bytes())?;
        }
        let mut writer = ::csv::WriterBuilder::new()
            .delimiter(self.options.delimiter)
            .terminator(::csv::Terminator::CRLF)
            .from_writer(out);
        writer.write_record(self.columns.names())?;
        self.writer = Some(writer);
        Ok(())
    }

    fn write(&mut self, record: &Record) -> Result<(), ExportError> {
        let row: Vec<String> = self.columns.iter().map(|c| spreadsheet_text(&c.value(record)).into_owned()).collect();
        self.writer()?.write_record(&row)?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        let writer = self.writer()?;
        writer.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::fixtures::{all_columns, record, records, render, render_csv_with};
    use crate::{CsvOptions, Format};

    fn read(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
        let mut r = ::csv::Reader::from_reader(bytes);
        let header = r.headers().unwrap().iter().map(str::to_owned).collect();
        let rows = r.records().map(|row| row.unwrap().iter().map(str::to_owned).collect()).collect();
        (header, rows)
    }

    #[test]
    fn renders_every_field_type() {
        let bytes = render(Format::Csv, all_columns(), &records());
        let (header, rows) = read(&bytes);
        assert_eq!(
            header,
            [
                "id",
                "name",
                "notes",
                "age",
                "balance",
                "active",
                "birthday",
                "last_seen",
                "email",
                "website",
                "tier",
                "company",
                "extra",
                "created_at",
                "updated_at",
                "version"
            ]
        );
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            [
                "01A",
                "Ada",
                "line1\nline2",
                "-42",
                "1234.5",
                "true",
                "1990-12-31",
                "2026-01-31T09:30:00Z",
                "ada@example.com",
                "https://example.com/a?b=1&c=2",
                "gold",
                "01COMPANY",
                r#"{"a":"x","b":[1,2]}"#,
                "2026-01-02T03:04:05Z",
                "2026-01-03T04:05:06Z",
                "3"
            ]
        );
        // Missing attributes are empty cells.
        assert_eq!(rows[1][2], "");
        assert_eq!(rows[1][5], "false");
        assert!(String::from_utf8(bytes).unwrap().contains("\r\n"), "RFC 4180 line ends");
    }

    #[test]
    fn escapes_quotes_commas_and_newlines() {
        let bytes = render(Format::Csv, all_columns(), &records());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains(r#""Quote ""me"", please""#), "{text}");
        assert!(text.contains("\"line1\nline2\""), "{text}");
        let (_, rows) = read(&bytes);
        assert_eq!(rows[2][1], "Quote \"me\", please");
        assert_eq!(rows[2][2], "<tag> & \"q\" 'a'");
    }

    #[test]
    fn neutralises_formulas_but_not_numbers() {
        let dangerous = ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd"];
        let recs: Vec<_> = dangerous
            .iter()
            .enumerate()
            .map(|(i, s)| record(&format!("r{i}"), json!({"name": s, "age": -7, "balance": -0.5, "extra": s})))
            .collect();
        let (header, rows) = read(&render(Format::Csv, all_columns(), &recs));
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        for (row, s) in rows.iter().zip(dangerous) {
            assert_eq!(row[col("name")], format!("'{s}"));
            assert_eq!(row[col("extra")], format!("'{s}"), "a json string is text too");
            assert_eq!(row[col("age")], "-7");
            assert_eq!(row[col("balance")], "-0.5");
        }
    }

    #[test]
    fn bom_and_delimiter_options() {
        let opts = CsvOptions { bom: true, delimiter: b';' };
        let bytes = render_csv_with(Format::Csv, all_columns(), opts, &records()[..1]);
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
        let mut r = ::csv::ReaderBuilder::new().delimiter(b';').from_reader(&bytes[3..]);
        assert_eq!(r.headers().unwrap().get(0), Some("id"));
        assert_eq!(r.records().next().unwrap().unwrap().get(1), Some("Ada"));
        assert!(!render(Format::Csv, all_columns(), &[]).starts_with(&[0xEF]));
    }

    #[test]
    fn empty_export_is_the_header_only() {
        let bytes = render(Format::Csv, all_columns(), &[]);
        let (header, rows) = read(&bytes);
        assert_eq!(header.len(), 16);
        assert!(rows.is_empty());
        assert!(String::from_utf8(bytes).unwrap().starts_with("id,name,"));
    }
}
