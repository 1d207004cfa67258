//! The pure core of imports: find out what a user uploaded (format, text encoding, CSV dialect), turn a sample of it
//! into a table, propose a platform field type per column and a column → field mapping onto an existing model.
//!
//! Everything works on a byte *sample* (typically the first 1 MiB of the file), free of AWS, so the import planner
//! Lambda can show a typed preview before anything is written. Excel files are recognised by their magic bytes only
//! (reported as [`Format::Spreadsheet`]); reading them is left to a later step.

mod chunk;
mod convert;
mod csv_lex;
mod decode;
mod mapping;
mod sniff;
mod spreadsheet;
mod table;
mod transform;
mod types;

pub use chunk::{ByteChunk, ChunkPlan, plan_chunks, read_chunk};
pub use convert::convert;
pub use decode::decode;
pub use mapping::suggest_mapping;
pub use sniff::sniff;
pub use spreadsheet::{RowChunk, SheetInfo, SpreadsheetLimits, Workbook, open_workbook, plan_sheet_chunks};
pub use table::records;
pub use transform::{
    CellError, CompiledSpec, ImportSpec, Lookup, LookupRequest, LookupTable, MAX_ERROR_VALUE_CHARS, MAX_PATTERN_LEN,
    NoLookups, Rule, SpecError, apply, collect_lookups, validate_spec, validate_spec_with_targets,
};
pub use types::{ColumnType, detect_types};

/// Longest line accepted in line-oriented formats (CSV, NDJSON): anything longer is almost surely not tabular text.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// What was uploaded, as far as the sample tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub format: Format,
    pub encoding: Encoding,
    /// Set for [`Format::Csv`] only.
    pub csv: Option<CsvDialect>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// An XML document whose repeating element `record_element` holds one record each.
    Xml {
        record_element: String,
    },
    /// An Excel workbook, recognised by magic bytes only (not read by this crate).
    Spreadsheet {
        kind: SpreadsheetKind,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpreadsheetKind {
    /// A zip container (`PK\x03\x04`), as `.xlsx` files are; the entries are not inspected.
    Xlsx,
    /// An OLE2 compound document (`D0 CF 11 E0 A1 B1 1A E1`), as legacy `.xls` files are.
    Xls,
}

/// Text encodings we recognise. Anything that is not valid UTF-8 and has no UTF-16 byte-order mark is read as
/// Windows-1252, the encoding spreadsheet tools on Western-European Windows still export by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8 { bom: bool },
    Utf16Le,
    Utf16Be,
    Windows1252,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvDialect {
    /// One of `,` `;` `\t` `|`.
    pub delimiter: u8,
    /// Always `"` for now.
    pub quote: u8,
    pub has_header: bool,
}

/// Rows decoded from a sample, with one name per column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

/// One record. `cells` always has exactly one entry per column (`None` = empty or missing), so a ragged CSV row is
/// padded or cut, and `problem` says what was wrong with it instead of failing the whole preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based row number in the source, for messages to people: the row a spreadsheet application shows (CSV: every
    /// record terminator ends a row, blank lines included, line breaks inside quoted fields not, the header is row 1;
    /// a worksheet's own row number), the line (NDJSON) or the record position (JSON array, XML).
    pub number: usize,
    pub cells: Vec<Option<String>>,
    pub problem: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("the file is empty")]
    Empty,
    #[error("the file looks binary (control characters or NUL bytes), not text, JSON, XML or CSV")]
    Binary,
    #[error("the JSON holds no records: expected an array of objects or one object per line, found {found}")]
    NotRecords { found: String },
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("invalid CSV: {0}")]
    InvalidCsv(String),
    #[error("invalid XML: {0}")]
    InvalidXml(String),
    #[error("XML documents declaring entities (<!DOCTYPE … <!ENTITY …>) are refused: entities are never expanded")]
    XmlEntities,
    #[error("unterminated quoted field at EOF: the quote opened in row {row} (line {line}) is never closed")]
    UnterminatedQuote { row: usize, line: usize },
    #[error("line {line} is longer than {max} bytes")]
    LineTooLong { line: usize, max: usize },
    #[error("{0} files are binary workbooks: they are read with `open_workbook`, not as text")]
    Unsupported(&'static str),
    #[error("reading the file failed: {0}")]
    Read(String),
    #[error("the workbook cannot be read: {0}")]
    InvalidSpreadsheet(String),
    #[error("the workbook exceeds a safety limit: {0}")]
    SpreadsheetTooLarge(String),
    #[error("the workbook has no sheet named {0:?}")]
    SheetNotFound(String),
}
