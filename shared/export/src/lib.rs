//! Streaming renderers of records into export files (CSV, XLSX, JSON, NDJSON, XML).
//!
//! The `export-runner` Lambda queries records page by page and pushes each one through a [`Renderer`] that writes
//! into any [`std::io::Write`] (an S3 multipart upload in production, a `Vec<u8>` in tests). Rendering is pure: no
//! AWS here, so every format is unit-tested by reading its output back with an independent parser.
//!
//! Lifecycle: [`Renderer::begin`] (header / opening bracket), [`Renderer::write`] per record, then
//! [`Renderer::finish`] (closing bracket, flush). `write` and `finish` call `begin` themselves when the caller
//! skipped it, so a renderer always produces a well-formed file, even an empty one.
//!
//! Memory: CSV, JSON, NDJSON and XML hold one record at a time (plus the writer's small buffer). XLSX cannot be
//! streamed into a plain `Write` (a workbook is a zip whose directory comes last), see [`xlsx`] for how it is kept
//! off the heap.

mod cell;
pub mod columns;
pub mod csv;
pub mod json;
pub mod xlsx;
pub mod xml;

#[cfg(test)]
mod fixtures;

use std::io::Write;

use hw_domain::record::Record;

pub use crate::cell::neutralise;
pub use crate::columns::{Column, ColumnKind, Columns};
pub use crate::csv::{CsvOptions, CsvRenderer};
pub use crate::json::{JsonRenderer, NdjsonRenderer};
pub use crate::xlsx::XlsxRenderer;
pub use crate::xml::XmlRenderer;

/// Why an export could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("unknown export format `{0}`: use csv, xlsx, json, ndjson or xml")]
    UnknownFormat(String),
    #[error("unknown field `{field}` on entity `{entity}`")]
    UnknownField { entity: String, field: String },
    #[error("field `{0}` is requested twice")]
    DuplicateField(String),
    #[error("writing the export failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("XML: {0}")]
    Xml(String),
    /// Includes the record and column when a cell was refused (e.g. a text longer than Excel's 32,767 characters
    /// or more than 1,048,576 rows): the export fails loudly instead of silently truncating data.
    #[error("XLSX: {0}")]
    Xlsx(String),
}

/// The file formats an export can be rendered into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
    Ndjson,
    Xml,
}

impl Format {
    /// Parses the name used in the API (`csv`, `xlsx`, `json`, `ndjson`, `xml`; case-insensitive).
    pub fn parse(s: &str) -> Result<Self, ExportError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "xlsx" => Ok(Self::Xlsx),
            "json" => Ok(Self::Json),
            "ndjson" => Ok(Self::Ndjson),
            "xml" => Ok(Self::Xml),
            _ => Err(ExportError::UnknownFormat(s.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Xml => "xml",
        }
    }

    /// The `Content-Type` of the S3 object (and of the download).
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Json => "application/json",
            Self::Ndjson => "application/x-ndjson",
            Self::Xml => "application/xml",
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
}

/// Renders records one at a time into an output chosen at construction.
pub trait Renderer {
    /// Writes what precedes the first record (CSV header, `[`, XML declaration, worksheet header row).
    fn begin(&mut self) -> Result<(), ExportError>;
    /// Renders one record, in the column order of the [`Columns`] the renderer was built with.
    fn write(&mut self, record: &Record) -> Result<(), ExportError>;
    /// Writes what follows the last record and flushes the output. Consumes the renderer, which drops the
    /// output: pass a writer whose completion does not depend on being handed back (or a handle to one).
    fn finish(self: Box<Self>) -> Result<(), ExportError>;
}

/// A renderer of `format` over `columns` writing into `out`. `csv` only matters for [`Format::Csv`].
pub fn renderer<W: Write + Send + 'static>(
    format: Format,
    columns: Columns,
    csv: CsvOptions,
    out: W,
) -> Box<dyn Renderer + Send> {
    match format {
        Format::Csv => Box::new(CsvRenderer::new(columns, csv, out)),
        Format::Xlsx => Box::new(XlsxRenderer::new(columns, out)),
        Format::Json => Box::new(JsonRenderer::new(columns, out)),
        Format::Ndjson => Box::new(NdjsonRenderer::new(columns, out)),
        Format::Xml => Box::new(XmlRenderer::new(columns, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_describe_themselves() {
        for (name, f) in [
            ("csv", Format::Csv),
            ("xlsx", Format::Xlsx),
            ("json", Format::Json),
            ("ndjson", Format::Ndjson),
            ("xml", Format::Xml),
        ] {
            assert_eq!(Format::parse(name).unwrap(), f);
            assert_eq!(f.extension(), name);
            assert!(!f.content_type().is_empty());
        }
        assert_eq!(Format::parse("CSV").unwrap(), Format::Csv);
        assert!(matches!(Format::parse("pdf"), Err(ExportError::UnknownFormat(s)) if s == "pdf"));
        assert_eq!(Format::Ndjson.content_type(), "application/x-ndjson");
    }

    /// `begin` is optional: a caller that forgets it still gets the same, well-formed file.
    #[test]
    fn write_and_finish_begin_implicitly() {
        use crate::fixtures::{SharedBuf, all_columns, records, render};
        for format in [Format::Csv, Format::Json, Format::Ndjson, Format::Xml] {
            let buf = SharedBuf::default();
            let mut r = renderer(format, all_columns(), CsvOptions::default(), buf.clone());
            for rec in &records() {
                r.write(rec).unwrap();
            }
            r.finish().unwrap();
            assert_eq!(buf.take(), render(format, all_columns(), &records()), "{format:?}");

            let buf = SharedBuf::default();
            renderer(format, all_columns(), CsvOptions::default(), buf.clone()).finish().unwrap();
            assert_eq!(buf.take(), render(format, all_columns(), &[]), "{format:?} empty");
        }
        let buf = SharedBuf::default();
        renderer(Format::Xlsx, all_columns(), CsvOptions::default(), buf.clone()).finish().unwrap();
        assert!(buf.take().starts_with(b"PK"), "an xlsx is a zip archive");
    }
}
