//! Excel workbooks: typed cells as text, header detection, sheet choice, row ranges and chunks, limits, zip bombs and
//! corrupt files. XLSX files are written with rust_xlsxwriter; zip bombs are crafted with the zip crate.

use std::io::Write;

use chrono::{NaiveDate, NaiveDateTime};
use hw_domain::model::FieldType;
use hw_import::{
    ImportError, SheetInfo, SpreadsheetKind, SpreadsheetLimits, Workbook, detect_types, open_workbook,
    plan_sheet_chunks,
};
use rust_xlsxwriter::{Format, Formula};

fn at(date: (i32, u32, u32), time: (u32, u32, u32)) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap().and_hms_opt(time.0, time.1, time.2).unwrap()
}

/// An empty first sheet, then "People" (header on row 2 after a blank row, typed cells, a blank row, an error, a
/// value right of the header), then "Notes".
fn people_workbook() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().set_name("Empty").unwrap();
    let ws = wb.add_worksheet().set_name("People").unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (c, h) in ["id", "name", "score", "active", "signup", "last_seen", "ratio", ""].iter().enumerate() {
        if !h.is_empty() {
            ws.write_string(1, c as u16, *h).unwrap();
        }
    }
    ws.write_string(1, 8, "name").unwrap();
    // row 3
    ws.write_number(2, 0, 1).unwrap();
    ws.write_string(2, 1, "  Ann  ").unwrap();
    ws.write_number(2, 2, 12.5).unwrap();
    ws.write_boolean(2, 3, true).unwrap();
    ws.write_datetime_with_format(2, 4, at((2024, 1, 31), (0, 0, 0)), &date).unwrap();
    ws.write_datetime_with_format(2, 5, at((2024, 2, 1), (13, 45, 30)), &datetime).unwrap();
    ws.write_number(2, 6, 0.1 + 0.2).unwrap();
    // row 4
    ws.write_number(3, 0, 2).unwrap();
    ws.write_string(3, 1, "Bob").unwrap();
    ws.write_formula(3, 2, Formula::new("=1/0").set_result("#DIV/0!")).unwrap();
    ws.write_boolean(3, 3, false).unwrap();
    ws.write_string(3, 9, "stray").unwrap();
    // row 5 is blank; row 6
    ws.write_number(5, 0, 3).unwrap();
    ws.write_number(5, 2, -40_000_000_000.0).unwrap();
    ws.write_datetime_with_format(5, 4, at((1999, 12, 31), (0, 0, 0)), &date).unwrap();
    // rows 7..=12
    for r in 6..12u32 {
        ws.write_number(r, 0, f64::from(r) - 2.0).unwrap();
        ws.write_string(r, 1, format!("person {r}")).unwrap();
    }
    let notes = wb.add_worksheet().set_name("Notes").unwrap();
    notes.write_string(0, 0, "note").unwrap();
    notes.write_string(1, 0, "hello").unwrap();
    wb.save_to_buffer().unwrap()
}

fn open(bytes: &[u8]) -> Workbook<'_> {
    open_workbook(bytes, SpreadsheetKind::Xlsx, &SpreadsheetLimits::default()).unwrap()
}

fn texts(cells: &[Option<String>]) -> Vec<Option<&str>> {
    cells.iter().map(|c| c.as_deref()).collect()
}

#[test]
fn sheets_and_the_default_choice() {
    let bytes = people_workbook();
    let mut wb = open(&bytes);
    assert_eq!(wb.sheet_names(), ["Empty", "People", "Notes"]);
    let info = wb.sheet(None).unwrap();
    assert_eq!(info.name, "People", "the first sheet with a value");
    assert_eq!(info.header_row, 2);
    assert_eq!(info.last_row, 12);
    assert_eq!(info.data_rows, 9);
    assert_eq!(info.columns, ["id", "name", "score", "active", "signup", "last_seen", "ratio", "column_8", "name_2"]);
    assert_eq!(wb.sheet(Some("Notes")).unwrap().columns, ["note"]);
    assert_eq!(wb.sheet(Some("Nope")).unwrap_err(), ImportError::SheetNotFound("Nope".into()));
    assert_eq!(wb.sheet(Some("Empty")).unwrap_err(), ImportError::Empty);
}

#[test]
fn typed_cells_become_text_the_crate_understands() {
    let bytes = people_workbook();
    let mut wb = open(&bytes);
    let info = wb.sheet(Some("People")).unwrap();
    let t = wb.rows(&info, 0, usize::MAX).unwrap();
    let numbers: Vec<usize> = t.rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [3, 4, 6, 7, 8, 9, 10, 11, 12], "worksheet row numbers; the blank row 5 is skipped");
    assert_eq!(
        texts(&t.rows[0].cells),
        [
            Some("1"),
            Some("  Ann  "), // spaces around text are data: kept (typed conversion and the trim rule drop them)
            Some("12.5"),
            Some("true"),
            Some("2024-01-31"),
            Some("2024-02-01T13:45:30"),
            Some("0.30000000000000004"),
            None,
            None
        ]
    );
    assert!(t.rows[0].problem.is_none());
    let bob = &t.rows[1];
    assert_eq!(texts(&bob.cells[..4]), [Some("2"), Some("Bob"), None, Some("false")]);
    let problem = bob.problem.as_deref().unwrap();
    assert!(problem.contains("cell C4 holds the error #DIV/0!"), "{problem}");
    assert!(problem.contains("right of column I dropped"), "{problem}");
    assert_eq!(texts(&t.rows[2].cells[..5]), [Some("3"), None, Some("-40000000000"), None, Some("1999-12-31")]);

    let types = detect_types(&t);
    assert_eq!(types[0].field_type, FieldType::Integer);
    assert_eq!(types[4].field_type, FieldType::Date);
    assert_eq!(types[4].date_format.as_deref(), Some("%Y-%m-%d"));
}

#[test]
fn row_ranges_and_chunks_read_back_as_the_whole_sheet() {
    let bytes = people_workbook();
    let mut wb = open(&bytes);
    let info = wb.sheet(None).unwrap();
    let whole = wb.rows(&info, 0, usize::MAX).unwrap();
    let part = wb.rows(&info, 5, 8).unwrap();
    assert_eq!(part.rows.iter().map(|r| r.number).collect::<Vec<_>>(), [6, 7]);
    assert!(wb.rows(&info, 1, 3).unwrap().rows.is_empty(), "rows up to the header are never data");
    for per in [1, 2, 4, 100] {
        let chunks = plan_sheet_chunks(&info, per);
        let mut rows = Vec::new();
        for c in &chunks {
            // A chunk processor opens the workbook on its own.
            let mut wb = open(&bytes);
            rows.extend(wb.rows(&info, c.start_row, c.end_row).unwrap().rows);
        }
        assert_eq!(rows, whole.rows, "{per} rows per chunk");
    }
    // The sheet description travels between Lambdas as JSON.
    let json = serde_json::to_string(&info).unwrap();
    assert_eq!(serde_json::from_str::<SheetInfo>(&json).unwrap(), info);
}

#[test]
fn row_and_column_limits() {
    let bytes = people_workbook();
    let rows = SpreadsheetLimits { max_rows: 6, ..SpreadsheetLimits::default() };
    let mut wb = open_workbook(&bytes, SpreadsheetKind::Xlsx, &rows).unwrap();
    assert!(matches!(wb.sheet(Some("People")), Err(ImportError::SpreadsheetTooLarge(m)) if m.contains("6 rows")));
    let cols = SpreadsheetLimits { max_columns: 5, ..SpreadsheetLimits::default() };
    let mut wb = open_workbook(&bytes, SpreadsheetKind::Xlsx, &cols).unwrap();
    assert!(matches!(wb.sheet(Some("People")), Err(ImportError::SpreadsheetTooLarge(m)) if m.contains("5 columns")));
    let tiny = SpreadsheetLimits { max_uncompressed_bytes: 1000, ..SpreadsheetLimits::default() };
    let err = open_workbook(&bytes, SpreadsheetKind::Xlsx, &tiny).err().unwrap();
    assert!(matches!(err, ImportError::SpreadsheetTooLarge(m) if m.contains("uncompressed")));
    let few = SpreadsheetLimits { max_entries: 3, ..SpreadsheetLimits::default() };
    let err = open_workbook(&bytes, SpreadsheetKind::Xlsx, &few).err().unwrap();
    assert!(matches!(err, ImportError::SpreadsheetTooLarge(m) if m.contains("zip entries")));
}

/// A zip with one deflated entry of `size` zero bytes.
fn zeros_zip(name: &str, size: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(false);
    zip.start_file(name, options).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..size / block.len() {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn a_zip_bomb_is_refused_before_anything_is_inflated() {
    let bomb = zeros_zip("xl/sharedStrings.xml", 16 << 20);
    assert!(bomb.len() < 100_000, "deflated zeros are tiny: {}", bomb.len());
    let err = open_workbook(&bomb, SpreadsheetKind::Xlsx, &SpreadsheetLimits::default()).err().unwrap();
    assert!(matches!(&err, ImportError::SpreadsheetTooLarge(m) if m.contains("expands") && m.contains(":1")), "{err}");
}

/// Patches the uncompressed size of every entry (local header and central directory) to `size`.
fn lie_about_sizes(mut bytes: Vec<u8>, size: u32) -> Vec<u8> {
    let mut i = 0;
    while i + 30 < bytes.len() {
        let at = match &bytes[i..i + 4] {
            b"PK\x03\x04" => Some(i + 22),
            b"PK\x01\x02" => Some(i + 24),
            _ => None,
        };
        if let Some(at) = at {
            bytes[at..at + 4].copy_from_slice(&size.to_le_bytes());
        }
        i += 1;
    }
    bytes
}

#[test]
fn an_entry_inflating_past_its_declared_size_is_refused() {
    let liar = lie_about_sizes(zeros_zip("xl/sharedStrings.xml", 4 << 20), 1000);
    let err = open_workbook(&liar, SpreadsheetKind::Xlsx, &SpreadsheetLimits::default()).err().unwrap();
    assert!(matches!(&err, ImportError::SpreadsheetTooLarge(m) if m.contains("past its declared")), "{err}");
}

#[test]
fn corrupt_and_truncated_files_are_errors_not_panics() {
    let bytes = people_workbook();
    for cut in [bytes.len() / 2, bytes.len() - 10, 30, 4] {
        let err = open_workbook(&bytes[..cut], SpreadsheetKind::Xlsx, &SpreadsheetLimits::default()).err();
        assert!(matches!(err, Some(ImportError::InvalidSpreadsheet(_))), "cut at {cut}: {err:?}");
    }
    // A valid zip that is not a workbook.
    let not_xlsx = zeros_zip("hello.txt", 0);
    let err = open_workbook(&not_xlsx, SpreadsheetKind::Xlsx, &SpreadsheetLimits::default()).err();
    assert!(matches!(err, Some(ImportError::InvalidSpreadsheet(_))), "{err:?}");
    // Flipped bytes in the middle of the compressed data.
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 3;
    for b in &mut flipped[mid..mid + 64] {
        *b ^= 0x5A;
    }
    match open_workbook(&flipped, SpreadsheetKind::Xlsx, &SpreadsheetLimits::default()) {
        Err(ImportError::InvalidSpreadsheet(_)) => {}
        Err(other) => panic!("{other:?}"),
        // The damage may hit an entry calamine never reads; then reading the sheet must still not panic.
        Ok(mut wb) => {
            if let Ok(info) = wb.sheet(None) {
                let _ = wb.rows(&info, 0, usize::MAX);
            }
        }
    }
}

#[test]
fn corrupt_xls_is_an_error() {
    let mut fake = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    fake.extend(std::iter::repeat_n(0x42, 600));
    for bytes in [&fake[..], &fake[..8], &[][..]] {
        let err = open_workbook(bytes, SpreadsheetKind::Xls, &SpreadsheetLimits::default()).err();
        assert!(matches!(err, Some(ImportError::InvalidSpreadsheet(_))), "{err:?}");
    }
    // An XLSX handed over as XLS is refused the same way.
    let xlsx = people_workbook();
    let err = open_workbook(&xlsx, SpreadsheetKind::Xls, &SpreadsheetLimits::default()).err();
    assert!(matches!(err, Some(ImportError::InvalidSpreadsheet(_))), "{err:?}");
}
