//! The detected format, in a form that is stored with the job and shown by the API.

use hw_import::{CsvDialect, Encoding, Format, Sniffed, SpreadsheetKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatInfo {
    /// `csv`, `json`, `ndjson`, `xml`, `xlsx` or `xls`.
    pub kind: String,
    /// `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be` or `windows-1252`.
    pub encoding: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_header: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_element: Option<String>,
    /// Workbooks: every sheet, and the one read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sheets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
}

impl FormatInfo {
    pub fn from_sniffed(s: &Sniffed) -> Self {
        let (kind, record_element) = match &s.format {
            Format::Csv => ("csv", None),
            Format::Json => ("json", None),
            Format::Ndjson => ("ndjson", None),
            Format::Xml { record_element } => ("xml", Some(record_element.clone())),
            Format::Spreadsheet { kind: SpreadsheetKind::Xlsx } => ("xlsx", None),
            Format::Spreadsheet { kind: SpreadsheetKind::Xls } => ("xls", None),
        };
        let encoding = match s.encoding {
            Encoding::Utf8 { bom: false } => "utf-8",
            Encoding::Utf8 { bom: true } => "utf-8-bom",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Windows1252 => "windows-1252",
        };
        Self {
            kind: kind.to_owned(),
            encoding: encoding.to_owned(),
            delimiter: s.csv.map(|d| (d.delimiter as char).to_string()),
            has_header: s.csv.map(|d| d.has_header),
            record_element,
            sheets: Vec::new(),
            sheet: None,
        }
    }

    /// Back to what the parsers take; `None` for a value no release of ours wrote.
    pub fn to_sniffed(&self) -> Option<Sniffed> {
        let format = match self.kind.as_str() {
            "csv" => Format::Csv,
            "json" => Format::Json,
            "ndjson" => Format::Ndjson,
            "xml" => Format::Xml { record_element: self.record_element.clone()? },
            "xlsx" => Format::Spreadsheet { kind: SpreadsheetKind::Xlsx },
            "xls" => Format::Spreadsheet { kind: SpreadsheetKind::Xls },
            _ => return None,
        };
        let encoding = match self.encoding.as_str() {
            "utf-8" => Encoding::Utf8 { bom: false },
            "utf-8-bom" => Encoding::Utf8 { bom: true },
            "utf-16le" => Encoding::Utf16Le,
            "utf-16be" => Encoding::Utf16Be,
            "windows-1252" => Encoding::Windows1252,
            _ => return None,
        };
        let csv = match format {
            Format::Csv => Some(CsvDialect {
                delimiter: *self.delimiter.as_ref()?.as_bytes().first()?,
                quote: b'"',
                has_header: self.has_header?,
            }),
            _ => None,
        };
        Some(Sniffed { format, encoding, csv })
    }

    pub fn is_spreadsheet(&self) -> bool {
        matches!(self.kind.as_str(), "xlsx" | "xls")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_format() {
        let dialect = CsvDialect { delimiter: b';', quote: b'"', has_header: true };
        for s in [
            Sniffed { format: Format::Csv, encoding: Encoding::Windows1252, csv: Some(dialect) },
            Sniffed { format: Format::Ndjson, encoding: Encoding::Utf8 { bom: true }, csv: None },
            Sniffed { format: Format::Json, encoding: Encoding::Utf16Le, csv: None },
            Sniffed {
                format: Format::Xml { record_element: "row".into() },
                encoding: Encoding::Utf8 { bom: false },
                csv: None,
            },
            Sniffed {
                format: Format::Spreadsheet { kind: SpreadsheetKind::Xlsx },
                encoding: Encoding::Utf8 { bom: false },
                csv: None,
            },
        ] {
            let info = FormatInfo::from_sniffed(&s);
            assert_eq!(info.to_sniffed().as_ref(), Some(&s), "{info:?}");
        }
        let mut bad =
            FormatInfo::from_sniffed(&Sniffed { format: Format::Csv, encoding: Encoding::Utf16Be, csv: Some(dialect) });
        bad.kind = "parquet".into();
        assert!(bad.to_sniffed().is_none());
    }
}
