//! Excel workbooks (XLSX and legacy XLS) through calamine: sheets, the header row, and tables of row ranges for the
//! preview and for chunks.
//!
//! A workbook is planned by rows, not bytes: [`Workbook::sheet`] reads the chosen sheet once to find its header and
//! extent, [`plan_sheet_chunks`] cuts the data rows into ranges, and each chunk processor reads its range with
//! [`Workbook::rows`]. Row numbers are the worksheet's own (1-based, what Excel shows), and rows without any value are
//! skipped like blank CSV lines.
//!
//! Memory: the file's bytes are borrowed, never copied. XLSX sheets are streamed cell by cell (only the requested
//! rows are kept), and a range read stops after its last row, relying on the rows being stored in ascending order as
//! the format requires and every writer does. XLSX shared strings and styles are held in memory by calamine, bounded
//! by the zip limits checked before it starts ([`SpreadsheetLimits`]). Legacy XLS files are parsed whole by calamine
//! into dense cell grids when opened: the BIFF8 format caps a sheet at 65,536 × 256 cells, but a crafted sparse sheet
//! can still expand to hundreds of megabytes, so XLS imports should run with that headroom.
//!
//! calamine is not hardened against every malformed file; a panic inside it is caught and reported as
//! [`ImportError::InvalidSpreadsheet`] (the release profile unwinds).

mod cells;
mod zipguard;

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{Reader, SheetType};
use serde::{Deserialize, Serialize};

use self::cells::Cell;
use crate::table::unique_names;
use crate::{ImportError, Row, SpreadsheetKind, Table};

/// Safety limits for reading workbooks. The defaults suit a 256 MB Lambda reading files of up to ~100 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpreadsheetLimits {
    /// Sum of the uncompressed sizes the XLSX entries declare. Default 200 MiB: the XML of a sheet of a million
    /// typical rows, and about what calamine's in-memory shared strings can afford.
    pub max_uncompressed_bytes: u64,
    /// Highest uncompressed:compressed ratio of an XLSX entry larger than `ratio_floor_bytes`. Default 100: real sheet
    /// XML deflates 5–20×; zip bombs reach 1000× and more.
    pub max_ratio: u64,
    /// Entries up to this size are exempt from the ratio check (small, very regular parts compress well). 1 MiB.
    pub ratio_floor_bytes: u64,
    /// Most XLSX zip entries. Default 10,000: a workbook has a few per sheet.
    pub max_entries: usize,
    /// Highest row count (any cell below is refused). Default 1,048,576, Excel's own maximum.
    pub max_rows: usize,
    /// Highest column count. Default 16,384 (column XFD), Excel's own maximum.
    pub max_columns: usize,
}

impl Default for SpreadsheetLimits {
    fn default() -> Self {
        Self {
            max_uncompressed_bytes: 200 << 20,
            max_ratio: 100,
            ratio_floor_bytes: 1 << 20,
            max_entries: 10_000,
            max_rows: 1_048_576,
            max_columns: 16_384,
        }
    }
}

/// An opened workbook, borrowing the file's bytes.
pub struct Workbook<'a> {
    book: Book<'a>,
    limits: SpreadsheetLimits,
    sheet_names: Vec<String>,
}

enum Book<'a> {
    Xlsx(Box<calamine::Xlsx<Cursor<&'a [u8]>>>),
    Xls(Box<calamine::Xls<Cursor<&'a [u8]>>>),
}

/// What [`Workbook::sheet`] found out about a sheet; keep it to read chunks of the sheet later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetInfo {
    pub name: String,
    /// Row number (1-based) of the header: the first row with a value.
    pub header_row: usize,
    /// Column names from the header (blank ones named by position, duplicates suffixed), from column A on.
    pub columns: Vec<String>,
    /// Row number of the last row with a value.
    pub last_row: usize,
    /// Rows with a value below the header.
    pub data_rows: usize,
}

/// A range of worksheet rows, `start_row..end_row` (1-based row numbers, end exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowChunk {
    pub index: usize,
    pub start_row: usize,
    pub end_row: usize,
}

/// Opens a workbook. For XLSX the zip archive is audited against `limits` first (see [`SpreadsheetLimits`]), so
/// nothing is inflated beyond them. Corrupt, truncated or encrypted files give [`ImportError::InvalidSpreadsheet`].
pub fn open_workbook<'a>(
    bytes: &'a [u8],
    kind: SpreadsheetKind,
    limits: &SpreadsheetLimits,
) -> Result<Workbook<'a>, ImportError> {
    let book = match kind {
        SpreadsheetKind::Xlsx => {
            zipguard::check(bytes, limits)?;
            Book::Xlsx(Box::new(guarded(|| calamine::Xlsx::new(Cursor::new(bytes)).map_err(invalid))?))
        }
        SpreadsheetKind::Xls => {
            Book::Xls(Box::new(guarded(|| calamine::Xls::new(Cursor::new(bytes)).map_err(invalid))?))
        }
    };
    let sheets = match &book {
        Book::Xlsx(x) => x.sheets_metadata(),
        Book::Xls(x) => x.sheets_metadata(),
    };
    // Chart sheets and macro sheets hold no table.
    let sheet_names = sheets.iter().filter(|s| s.typ == SheetType::WorkSheet).map(|s| s.name.clone()).collect();
    Ok(Workbook { book, limits: *limits, sheet_names })
}

fn invalid(e: impl std::fmt::Display) -> ImportError {
    ImportError::InvalidSpreadsheet(e.to_string())
}

/// Runs a calamine call, turning a panic on a malformed file into an error.
fn guarded<T>(f: impl FnOnce() -> Result<T, ImportError>) -> Result<T, ImportError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(ImportError::InvalidSpreadsheet("the workbook is malformed (its reader failed)".into()))
    })
}

/// `A`, `B`, … `Z`, `AA`, … for a 0-based column index.
fn column_letters(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl Workbook<'_> {
    /// The worksheets, in workbook order.
    pub fn sheet_names(&self) -> &[String] {
        &self.sheet_names
    }

    /// Describes the sheet `name`, or the first sheet with any value when `None`. Reads the whole sheet once.
    pub fn sheet(&mut self, name: Option<&str>) -> Result<SheetInfo, ImportError> {
        let name = match name {
            Some(n) => self
                .sheet_names
                .iter()
                .find(|s| *s == n)
                .cloned()
                .ok_or_else(|| ImportError::SheetNotFound(n.into()))?,
            None => self.first_non_empty()?.ok_or(ImportError::Empty)?,
        };
        let mut header_row: Option<u32> = None;
        let mut header: Vec<(u32, Cell)> = Vec::new();
        let (mut last_row, mut data_rows, mut current) = (0u32, 0usize, None);
        self.for_each_cell(&name, |row, col, cell| {
            match header_row {
                None => {
                    header_row = Some(row);
                    header.push((col, cell));
                }
                Some(h) if h == row => header.push((col, cell)),
                Some(_) => {
                    if current != Some(row) {
                        current = Some(row);
                        data_rows += 1;
                    }
                }
            }
            last_row = last_row.max(row);
            true
        })?;
        let header_row = header_row.ok_or(ImportError::Empty)?;
        let width = header.iter().map(|(c, _)| *c as usize + 1).max().unwrap_or(0);
        let mut names = vec![String::new(); width];
        for (col, cell) in header {
            if let Cell::Text(t) = cell {
                names[col as usize] = t;
            }
        }
        Ok(SheetInfo {
            name,
            header_row: header_row as usize + 1,
            columns: unique_names(names),
            last_row: last_row as usize + 1,
            data_rows,
        })
    }

    fn first_non_empty(&mut self) -> Result<Option<String>, ImportError> {
        for name in self.sheet_names.clone() {
            let mut any = false;
            self.for_each_cell(&name, |_, _, _| {
                any = true;
                false
            })?;
            if any {
                return Ok(Some(name));
            }
        }
        Ok(None)
    }

    /// The data rows of `sheet` numbered `start_row..end_row` (1-based, end exclusive; rows up to the header are never
    /// data). Cells right of the last header column are dropped and error values (`#DIV/0!`) left empty, both noted
    /// in [`Row::problem`].
    pub fn rows(&mut self, sheet: &SheetInfo, start_row: usize, end_row: usize) -> Result<Table, ImportError> {
        let first = start_row.max(sheet.header_row + 1);
        let width = sheet.columns.len();
        let mut rows: Vec<Row> = Vec::new();
        let mut problems: Vec<String> = Vec::new();
        let flush = |rows: &mut Vec<Row>, problems: &mut Vec<String>| {
            if let Some(last) = rows.last_mut()
                && !problems.is_empty()
            {
                last.problem = Some(problems.join("; "));
                problems.clear();
            }
        };
        self.for_each_cell(&sheet.name, |row, col, cell| {
            let number = row as usize + 1;
            if number < first {
                return true;
            }
            if number >= end_row {
                return false;
            }
            if rows.last().is_none_or(|r| r.number != number) {
                flush(&mut rows, &mut problems);
                rows.push(Row { number, cells: vec![None; width], problem: None });
            }
            let Some(current) = rows.last_mut() else { return false };
            match cell {
                Cell::Text(t) if (col as usize) < width => current.cells[col as usize] = Some(t),
                Cell::Text(_) => {
                    let note = format!("values right of column {} dropped", column_letters(width.max(1) as u32 - 1));
                    if !problems.contains(&note) {
                        problems.push(note);
                    }
                }
                Cell::Error(e) => problems.push(format!("cell {}{number} holds the error {e}", column_letters(col))),
                Cell::Empty => {}
            }
            true
        })?;
        flush(&mut rows, &mut problems);
        Ok(Table { columns: sheet.columns.clone(), rows })
    }

    /// Streams the non-empty cells of `sheet` in row order (0-based positions); `f` returns false to stop. Cells
    /// beyond the row or column limit are refused.
    fn for_each_cell(&mut self, sheet: &str, mut f: impl FnMut(u32, u32, Cell) -> bool) -> Result<(), ImportError> {
        let limits = self.limits;
        let check = |row: u32, col: u32| {
            if row as usize >= limits.max_rows {
                Err(ImportError::SpreadsheetTooLarge(format!("sheet {sheet} has more than {} rows", limits.max_rows)))
            } else if col as usize >= limits.max_columns {
                let max = limits.max_columns;
                Err(ImportError::SpreadsheetTooLarge(format!("sheet {sheet} has more than {max} columns")))
            } else {
                Ok(())
            }
        };
        match &mut self.book {
            Book::Xlsx(x) => guarded(|| {
                let mut cells = x.worksheet_cells_reader(sheet).map_err(invalid)?;
                while let Some(c) = cells.next_cell().map_err(invalid)? {
                    let (row, col) = c.get_position();
                    check(row, col)?;
                    let cell = cells::from_data_ref(c.get_value());
                    if cell != Cell::Empty && !f(row, col, cell) {
                        break;
                    }
                }
                Ok(())
            }),
            Book::Xls(x) => guarded(|| {
                let range = x.worksheet_range(sheet).map_err(invalid)?;
                let Some((r0, c0)) = range.start() else { return Ok(()) };
                for (r, c, data) in range.used_cells() {
                    let (row, col) = (r0 + r as u32, c0 + c as u32);
                    check(row, col)?;
                    let cell = cells::from_data(data);
                    if cell != Cell::Empty && !f(row, col, cell) {
                        break;
                    }
                }
                Ok(())
            }),
        }
    }
}

/// Cuts the data rows of `sheet` into ranges of `rows_per_chunk` worksheet rows (blank rows included, so a chunk may
/// hold fewer records). No data rows, no chunks.
pub fn plan_sheet_chunks(sheet: &SheetInfo, rows_per_chunk: usize) -> Vec<RowChunk> {
    let per = rows_per_chunk.max(1);
    let mut chunks = Vec::new();
    if sheet.data_rows == 0 {
        return chunks;
    }
    let (mut start, end) = (sheet.header_row + 1, sheet.last_row + 1);
    while start < end {
        let stop = start.saturating_add(per).min(end);
        chunks.push(RowChunk { index: chunks.len(), start_row: start, end_row: stop });
        start = stop;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_like_excel() {
        let names: Vec<String> = [0, 25, 26, 51, 52, 701, 702, 16_383].into_iter().map(column_letters).collect();
        assert_eq!(names, ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD"]);
    }

    #[test]
    fn sheet_chunks_cover_the_data_rows() {
        let info = SheetInfo { name: "s".into(), header_row: 3, columns: vec![], last_row: 10, data_rows: 5 };
        let chunks = plan_sheet_chunks(&info, 3);
        let ranges: Vec<(usize, usize)> = chunks.iter().map(|c| (c.start_row, c.end_row)).collect();
        assert_eq!(ranges, [(4, 7), (7, 10), (10, 11)]);
        assert!(plan_sheet_chunks(&SheetInfo { data_rows: 0, last_row: 3, ..info }, 3).is_empty());
    }
}
