//! Planning line-oriented formats: CSV through the shared lexer (quote-aware, so a line break inside quotes is no
//! boundary), NDJSON by line feeds.

use std::io::Read;

use super::{BlankProbe, ChunkPlan, Cutter, scan_units, too_long, unit_shape};
use crate::csv_lex::{Action, Lexer};
use crate::{CsvDialect, Encoding, ImportError};

pub(super) fn plan_csv<R: Read>(
    reader: R,
    encoding: Encoding,
    dialect: CsvDialect,
    target: u64,
) -> Result<ChunkPlan, ImportError> {
    let mut p = CsvPlanner {
        lexer: Lexer::new(dialect),
        width: unit_shape(encoding).0 as u64,
        row: 1,
        line: 1,
        quote_open: (1, 1),
        record: (0, 1),
        blank: BlankProbe::new(encoding),
        header_pending: dialect.has_header,
        header_end: 0,
        header_ended_with_cr: false,
        cutter: Cutter::new(target),
    };
    let end = scan_units(reader, encoding, |unit, offset| p.unit(unit, offset))?;
    if p.lexer.in_quotes() {
        let (row, line) = p.quote_open;
        return Err(ImportError::UnterminatedQuote { row, line });
    }
    if !p.lexer.between_records() {
        // The last record has no terminator.
        p.end_record(end, false);
    }
    Ok(p.cutter.finish(end, p.header_end))
}

/// The scan state. Row numbers follow [`crate::csv_lex`]: every record terminator ends a row.
struct CsvPlanner {
    lexer: Lexer,
    width: u64,
    /// Number of the row the next terminator ends.
    row: usize,
    /// Physical line, for unterminated-quote messages.
    line: usize,
    quote_open: (usize, usize),
    /// Start offset and row number of the current record.
    record: (u64, usize),
    blank: BlankProbe,
    header_pending: bool,
    header_end: u64,
    /// The header ended with `\r`: a `\n` right after it still belongs to the header row.
    header_ended_with_cr: bool,
    cutter: Cutter,
}

impl CsvPlanner {
    #[inline]
    fn unit(&mut self, unit: u16, offset: u64) -> Result<(), ImportError> {
        // Non-ASCII units are never structure; 0x80 stands for all of them.
        let b = if unit < 0x80 { unit as u8 } else { 0x80 };
        if b == b'\n' {
            self.line += 1;
        }
        let starting = self.lexer.between_records();
        let action = self.lexer.step(b);
        match action {
            Action::BlankRow => {
                self.row += 1;
                self.header_ended_with_cr = false;
                return Ok(());
            }
            Action::CrlfTail => {
                if std::mem::take(&mut self.header_ended_with_cr) {
                    self.header_end = offset + self.width;
                }
                return Ok(());
            }
            _ => {}
        }
        if starting {
            self.record = (offset, self.row);
            self.blank.reset();
            self.header_ended_with_cr = false;
        }
        match action {
            Action::Content => self.blank.content(unit),
            Action::Quote => {
                if self.lexer.in_quotes() {
                    self.quote_open = (self.row, self.line);
                }
            }
            Action::FieldEnd => self.blank.not_blank(),
            Action::RecordEnd => {
                too_long(offset - self.record.0, self.record.1)?;
                self.end_record(offset + self.width, b == b'\r');
                return Ok(());
            }
            Action::BlankRow | Action::CrlfTail => {}
        }
        too_long(offset + self.width - self.record.0, self.record.1)
    }

    /// A record ended at `end` (after its terminator). Blank records (one blank field) are skipped as when reading;
    /// the first other one is the header when the dialect has one.
    fn end_record(&mut self, end: u64, with_cr: bool) {
        self.row += 1;
        if self.blank.is_blank() {
            return;
        }
        if std::mem::take(&mut self.header_pending) {
            self.header_end = end;
            self.header_ended_with_cr = with_cr;
            return;
        }
        let (start, row) = self.record;
        self.cutter.record(start, row, start);
    }
}

/// NDJSON: one record per line (`\n`, a `\r` before it is part of the line); blank lines keep their number but are
/// no records, as when reading.
pub(super) fn plan_ndjson<R: Read>(reader: R, encoding: Encoding, target: u64) -> Result<ChunkPlan, ImportError> {
    let mut cutter = Cutter::new(target);
    let mut blank = BlankProbe::new(encoding);
    let mut line = 1usize;
    let mut line_start: Option<u64> = None;
    let width = unit_shape(encoding).0 as u64;
    let mut end_line = |start: u64, line: usize, blank: &BlankProbe| {
        if !blank.is_blank() {
            cutter.record(start, line, start);
        }
    };
    let end = scan_units(reader, encoding, |unit, offset| {
        let start = *line_start.get_or_insert_with(|| {
            blank.reset();
            offset
        });
        if unit == u16::from(b'\n') {
            too_long(offset - start, line)?;
            end_line(start, line, &blank);
            line += 1;
            line_start = None;
            return Ok(());
        }
        blank.content(unit);
        too_long(offset + width - start, line)
    })?;
    if let Some(start) = line_start {
        end_line(start, line, &blank);
    }
    Ok(cutter.finish(end, 0))
}
