//! Reading the rows of one chunk from the uploaded file: a ranged read of its bytes (text formats), or the
//! workbook and a row range of its sheet (spreadsheets, which cannot be read in pieces).

use hw_files::FileStore;
use hw_import::{Table, read_chunk};

use crate::processor::ChunkError;
use crate::{ChunkRange, ImportJob, Plan};

#[derive(Debug, Clone, Default)]
pub struct Source {
    pub spreadsheet_limits: hw_import::SpreadsheetLimits,
}

impl Source {
    pub async fn rows(
        &self,
        files: &dyn FileStore,
        job: &ImportJob,
        plan: &Plan,
        range: &ChunkRange,
        columns: &[String],
    ) -> Result<Table, ChunkError> {
        let sniffed = plan
            .format
            .to_sniffed()
            .ok_or_else(|| ChunkError::Permanent(format!("unknown stored format {:?}", plan.format)))?;
        if let hw_import::Format::Spreadsheet { kind } = sniffed.format {
            let bytes = files.get_range(&job.file_key, 0, u64::MAX).await.map_err(transient)?;
            let sheet = plan.sheet.as_ref().ok_or_else(|| ChunkError::Permanent("the plan names no sheet".into()))?;
            let mut workbook = hw_import::open_workbook(&bytes, kind, &self.spreadsheet_limits)
                .map_err(|e| ChunkError::Permanent(e.to_string()))?;
            return workbook
                .rows(sheet, range.start as usize, range.end as usize)
                .map_err(|e| ChunkError::Permanent(e.to_string()));
        }
        let bytes = files.get_range(&job.file_key, range.start, range.end).await.map_err(transient)?;
        read_chunk(&bytes, &sniffed, columns, range.first_row as usize)
            .map_err(|e| ChunkError::Permanent(e.to_string()))
    }
}

fn transient(e: hw_files::FileError) -> ChunkError {
    ChunkError::Transient(format!("reading the uploaded file: {e}"))
}
