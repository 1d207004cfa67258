//! The pure core of imports, free of AWS and of any I/O but a `Read` it is handed: everything from the uploaded bytes
//! to the typed fields of records.
//!
//! 1. **Preview** (on a byte sample, typically the first 1 MiB): [`sniff`] finds the format, text encoding and CSV
//!    dialect, [`decode`] + [`records`] turn the sample into a [`Table`], [`detect_types`] proposes a field type per
//!    column and [`suggest_mapping`] a column → field mapping onto an existing model.
//! 2. **Planning** (the whole file, streamed once in bounded memory): [`plan_chunks`] cuts text files into byte
//!    ranges of whole records ([`ChunkPlan`]), each fetchable with one ranged GET. Excel workbooks are opened with
//!    [`open_workbook`] (XLSX archives are audited against zip bombs first, see [`SpreadsheetLimits`]),
//!    [`Workbook::sheet`] finds the header and extent of a sheet, and [`plan_sheet_chunks`] cuts it into row ranges.
//! 3. **Chunk processing**: [`read_chunk`] (or [`Workbook::rows`]) reads one chunk into a [`Table`] numbered as the
//!    whole file would be; [`validate_spec`] checks the user's [`ImportSpec`] (mapping and per-field [`Rule`]s) once
//!    and compiles it; [`collect_lookups`] gathers reference values to resolve in one batch; [`apply`] turns each row
//!    into typed record fields ([`convert`] per field type) or per-cell [`CellError`]s.
//!
//! Row numbers ([`Row::number`]) are what a person sees: a CSV row is a record as a spreadsheet application shows it
//! (the header is row 1, blank lines count, a line break inside quotes does not), a worksheet row its own number.
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

pub use chunk::{ByteChunk, ChunkPlan, chunk_keys, plan_chunks, read_chunk};
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
    /// An Excel workbook, recognised by magic bytes; read with [`open_workbook`], not as text.
    Spreadsheet {
        kind: SpreadsheetKind,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpreadsheetKind {
    /// A zip container (`PK\x03\x04`), as `.xlsx` files are; `sniff` does not inspect the entries.
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
