//! XLSX: one worksheet named after the entity, a bold header row, then one row per record.
//!
//! Memory: an XLSX file is a zip archive whose central directory comes last, so it cannot be streamed row by row
//! into an arbitrary `Write`. The worksheet uses rust_xlsxwriter's constant-memory mode: each finished row is
//! flushed to a temporary file (strings are written inline, no shared-string table grows in memory), so memory stays
//! flat whatever the row count. At [`Renderer::finish`] the workbook is zipped into a second, already-unlinked
//! temporary file, which is then copied to the output. Disk use is therefore about the uncompressed sheet XML plus
//! the zipped file, in the system temp dir (`TMPDIR`; `/tmp` on Lambda, 512 MB by default, which bounds the size of
//! an XLSX export: the runner should cap XLSX row counts or raise ephemeral storage).
//!
//! Cells are typed from the model: integers and decimals are number cells, booleans boolean cells, dates and
//! datetimes date cells with a `yyyy-mm-dd` / `yyyy-mm-dd hh:mm:ss` format (datetimes in UTC, as stored), JSON values
//! compact JSON text, `null` empty. Strings are always written with `write_string`, never as formulas, and are
//! neutralised like CSV cells so that a later save-as-CSV cannot turn them into formulas either. Excel limits
//! (1,048,576 rows, 32,767 characters per cell) fail the export with the record and column named.

use std::io::{Seek, SeekFrom, Write};

use hw_domain::model::FieldType;
use hw_domain::record::Record;
use rust_xlsxwriter::{Format as CellFormat, Workbook, Worksheet, XlsxError};
use serde_json::Value;

use crate::cell::neutralise;
use crate::{Columns, ExportError, Renderer};

/// Largest integer a spreadsheet number (an f64) holds exactly; larger ones are written as text to keep digits.
const MAX_EXACT_INTEGER: u64 = 1 << 53;
/// Excel's limit on sheet name length.
const SHEET_NAME_MAX: usize = 31;

struct Formats {
    header: CellFormat,
    date: CellFormat,
    datetime: CellFormat,
}

/// Renders records into the rows of a single worksheet.
pub struct XlsxRenderer<W: Write> {
    columns: Columns,
    workbook: Workbook,
    formats: Formats,
    out: W,
    /// The next row to write; 0 until the header row is written.
    row: u32,
}

impl<W: Write> XlsxRenderer<W> {
    pub fn new(columns: Columns, out: W) -> Self {
        let mut workbook = Workbook::new();
        workbook.add_worksheet_with_constant_memory();
        let formats = Formats {
            header: CellFormat::new().set_bold(),
            date: CellFormat::new().set_num_format("yyyy-mm-dd"),
            datetime: CellFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        };
        Self { columns, workbook, formats, out, row: 0 }
    }
}

fn xlsx_err(at: &str) -> impl Fn(XlsxError) -> ExportError + '_ {
    move |e| ExportError::Xlsx(format!("{at}: {e}"))
}

/// Writes one cell typed after the column's model type (see the module docs).
fn write_cell(
    ws: &mut Worksheet,
    (row, col): (u32, u16),
    kind: FieldType,
    value: &Value,
    formats: &Formats,
) -> Result<(), XlsxError> {
    match value {
        Value::Null => {}
        Value::Bool(b) => {
            ws.write_boolean(row, col, *b)?;
        }
        Value::Number(n) => {
            let too_big = n.as_u64().map(|u| u > MAX_EXACT_INTEGER).unwrap_or(false)
                || n.as_i64().map(|i| i.unsigned_abs() > MAX_EXACT_INTEGER).unwrap_or(false);
            match n.as_f64() {
                Some(f) if !too_big => ws.write_number(row, col, f)?,
                _ => ws.write_string(row, col, n.to_string())?,
            };
        }
        Value::String(s) => {
            let date = match kind {
                FieldType::Date => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .map(|d| ws.write_date_with_format(row, col, d, &formats.date)),
                FieldType::Datetime => chrono::DateTime::parse_from_rfc3339(s)
                    .ok()
                    .map(|t| ws.write_datetime_with_format(row, col, t.naive_utc(), &formats.datetime)),
                _ => None,
            };
            match date {
                Some(written) => {
                    written?;
                }
                None => {
                    ws.write_string(row, col, neutralise(s))?;
                }
            }
        }
        Value::Array(_) | Value::Object(_) => {
            ws.write_string(row, col, neutralise(&value.to_string()))?;
        }
    }
    Ok(())
}

impl<W: Write> Renderer for XlsxRenderer<W> {
    fn begin(&mut self) -> Result<(), ExportError> {
        if self.row > 0 {
            return Ok(());
        }
        let ws = self.workbook.worksheet_from_index(0).map_err(xlsx_err("worksheet"))?;
        let name: String = self.columns.entity().chars().take(SHEET_NAME_MAX).collect();
        ws.set_name(&name).map_err(xlsx_err("sheet name"))?;
        for (col, name) in (0u16..).zip(self.columns.names()) {
            ws.write_string_with_format(0, col, name, &self.formats.header).map_err(xlsx_err("header"))?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_err("header"))?;
        self.row = 1;
        Ok(())
    }

    fn write(&mut self, record: &Record) -> Result<(), ExportError> {
        self.begin()?;
        let ws = self.workbook.worksheet_from_index(0).map_err(xlsx_err("worksheet"))?;
        for (col, c) in (0u16..).zip(self.columns.iter()) {
            write_cell(ws, (self.row, col), c.kind.value_type(), &c.value(record), &self.formats)
                .map_err(|e| ExportError::Xlsx(format!("record {}, column {}: {e}", record.id, c.name)))?;
        }
        self.row += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.begin()?;
        let mut zipped = tempfile::tempfile()?;
        self.workbook.save_to_writer(&mut zipped).map_err(xlsx_err("saving the workbook"))?;
        zipped.seek(SeekFrom::Start(0))?;
        std::io::copy(&mut zipped, &mut self.out)?;
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Range, Reader, Xlsx, open_workbook_from_rs};
    use serde_json::json;

    use crate::Format;
    use crate::fixtures::{all_columns, record, records, render};

    fn read(bytes: Vec<u8>) -> (Vec<String>, Range<Data>) {
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        assert_eq!(wb.sheet_names(), ["contact"]);
        let range = wb.worksheet_range("contact").unwrap();
        let header = range.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
        (header, range)
    }

    fn at<'a>(range: &'a Range<Data>, header: &[String], row: usize, name: &str) -> &'a Data {
        let col = header.iter().position(|h| h == name).unwrap();
        range.get((row, col)).unwrap_or(&Data::Empty)
    }

    #[test]
    fn renders_typed_cells() {
        let (header, range) = read(render(Format::Xlsx, all_columns(), &records()));
        assert_eq!(header.len(), 16);
        assert_eq!(header[0], "id");
        assert_eq!(range.height(), 4);
        let cell = |row, name| at(&range, &header, row, name).clone();
        assert_eq!(cell(1, "id"), Data::String("01A".into()));
        assert_eq!(cell(1, "name"), Data::String("Ada".into()));
        assert_eq!(cell(1, "notes"), Data::String("line1\nline2".into()));
        assert_eq!(cell(1, "age"), Data::Float(-42.0));
        assert_eq!(cell(1, "balance"), Data::Float(1234.5));
        assert_eq!(cell(1, "active"), Data::Bool(true));
        assert_eq!(cell(2, "active"), Data::Bool(false));
        assert_eq!(cell(1, "email"), Data::String("ada@example.com".into()));
        assert_eq!(cell(1, "tier"), Data::String("gold".into()));
        assert_eq!(cell(1, "extra"), Data::String(r#"{"a":"x","b":[1,2]}"#.into()));
        assert_eq!(cell(1, "version"), Data::Float(3.0));
        assert_eq!(cell(2, "notes"), Data::Empty, "absent attributes are empty cells");
        let date = |row, name| match cell(row, name) {
            Data::DateTime(d) => d.as_datetime().unwrap().to_string(),
            other => panic!("{name} is not a date cell: {other:?}"),
        };
        assert_eq!(date(1, "birthday"), "1990-12-31 00:00:00");
        assert_eq!(date(1, "last_seen"), "2026-01-31 09:30:00");
        assert_eq!(date(1, "created_at"), "2026-01-02 03:04:05");
        assert!(!header.contains(&"secret".to_owned()));
    }

    #[test]
    fn neutralises_formulas_and_keeps_negative_numbers() {
        let dangerous = ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd"];
        let recs: Vec<_> = dangerous
            .iter()
            .enumerate()
            .map(|(i, s)| record(&format!("r{i}"), json!({"name": s, "age": -7, "extra": [s]})))
            .collect();
        let bytes = render(Format::Xlsx, all_columns(), &recs);
        let (header, range) = read(bytes.clone());
        for (i, s) in dangerous.iter().enumerate() {
            // calamine normalises CR to LF when reading; compare the first character only for that case.
            let got = at(&range, &header, i + 1, "name").to_string();
            assert!(got.starts_with('\''), "{s:?} → {got:?}");
            assert_eq!(got.chars().count(), s.chars().count() + 1);
            assert_eq!(at(&range, &header, i + 1, "age"), &Data::Float(-7.0));
        }
        // Never written as a formula.
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let formulas = wb.worksheet_formula("contact").unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
    }

    #[test]
    fn huge_integers_keep_their_digits_as_text() {
        let recs = [record("big", json!({"age": 9_007_199_254_740_993_i64, "balance": -3}))];
        let (header, range) = read(render(Format::Xlsx, all_columns(), &recs));
        assert_eq!(at(&range, &header, 1, "age"), &Data::String("9007199254740993".into()));
        assert_eq!(at(&range, &header, 1, "balance"), &Data::Float(-3.0));
    }

    #[test]
    fn a_cell_beyond_excel_limits_fails_naming_record_and_column() {
        let long = "x".repeat(40_000);
        let mut r = crate::renderer(
            Format::Xlsx,
            all_columns(),
            crate::CsvOptions::default(),
            crate::fixtures::SharedBuf::default(),
        );
        let err = r.write(&record("r1", json!({"notes": long}))).unwrap_err().to_string();
        assert!(err.contains("record r1") && err.contains("column notes"), "{err}");
    }

    #[test]
    fn empty_export_is_a_workbook_with_the_header_row() {
        let (header, range) = read(render(Format::Xlsx, all_columns(), &[]));
        assert_eq!(range.height(), 1);
        assert_eq!(header[..3], ["id", "name", "notes"]);
    }
}
