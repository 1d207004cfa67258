//! Workbooks (XLSX, XLS): read through hw-import's spreadsheet reader.

#[derive(Debug, Clone, Default)]
pub struct SpreadsheetLimits;

pub struct Workbook;

impl Workbook {
    pub fn sheet_names(&self) -> Vec<String> {
        Vec::new()
    }
    pub fn default_sheet(&self) -> Option<String> {
        None
    }
    pub fn data_rows(&self, _sheet: &str) -> Result<usize, hw_import::ImportError> {
        Err(hw_import::ImportError::Unsupported("Excel"))
    }
    pub fn table(
        &self,
        _sheet: &str,
        _start: usize,
        _end: usize,
        _columns: Option<&[String]>,
    ) -> Result<hw_import::Table, hw_import::ImportError> {
        Err(hw_import::ImportError::Unsupported("Excel"))
    }
}

pub fn open_workbook(
    _bytes: &[u8],
    _kind: hw_import::SpreadsheetKind,
    _limits: &SpreadsheetLimits,
) -> Result<Workbook, hw_import::ImportError> {
    Err(hw_import::ImportError::Unsupported("Excel"))
}
