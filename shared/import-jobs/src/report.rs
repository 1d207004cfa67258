//! The error report: one CSV line per problem (row number, column, offending value, reason), so a person can fix
//! the file in a spreadsheet and import the failed rows again.

/// First line of every report.
pub const HEADER: &str = "row,column,value,reason\r\n";

use hw_export::neutralise;

/// Longest value copied into the report.
const MAX_VALUE_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: u64,
    /// The column (or field, when no single column is to blame); empty for the whole row.
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// Renders errors as CSV lines without the header (a part of the report). Values that spreadsheets would execute
/// are neutralised by the exports' own rule, since the report echoes user data.
pub fn render(errors: &[RowError]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for e in errors {
        let value: String = e.value.chars().take(MAX_VALUE_CHARS).collect();
        let row = e.row.to_string();
        let record = [row.as_str(), &*neutralise(&e.column), &*neutralise(&value), &*neutralise(&e.reason)];
        w.write_record(record).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_quoted_neutralised_lines() {
        let out = render(&[
            RowError { row: 3, column: "email".into(), value: "not, an email".into(), reason: "invalid email".into() },
            RowError { row: 9, column: "name".into(), value: "=HYPERLINK(\"x\")".into(), reason: "too long".into() },
        ]);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "3,email,\"not, an email\",invalid email\r\n9,name,\"'=HYPERLINK(\"\"x\"\")\",too long\r\n");
    }
}
