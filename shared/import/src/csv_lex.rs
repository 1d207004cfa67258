//! The CSV record grammar as one byte-at-a-time state machine, shared by whole-text reading ([`crate::records`]),
//! chunk planning over a stream ([`crate::plan_chunks`]) and chunk reading ([`crate::read_chunk`]), so all three
//! agree on where records start and end and on how rows are numbered.
//!
//! The grammar mirrors csv-core, the parser of the `csv` crate that `sniff` uses to guess the dialect: a quote opens a
//! quoted field only at the start of a field, `""` inside quotes is one quote, text after a closing quote is kept
//! literally, a quote inside an unquoted field is literal, and `\r`, `\n` and `\r\n` all end a record.
//!
//! Row numbers are what a spreadsheet application shows when it opens the file: every record terminator ends a row,
//! including the terminator of a blank line, and a line break inside a quoted field does not. Without multi-line
//! fields this is the line number.

use crate::{CsvDialect, ImportError, MAX_LINE_BYTES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a record: terminators here are blank rows.
    StartRecord,
    /// After a `\r` that ended a row: a `\n` now belongs to that terminator.
    AfterCr,
    StartField,
    InField,
    InQuoted,
    /// A quote inside a quoted field: the field closes unless another quote follows (`""`).
    QuoteInQuoted,
}

/// What one byte was, as far as the record structure goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// A terminator outside any record: an empty row.
    BlankRow,
    /// The `\n` of a `\r\n` whose `\r` already ended a row.
    CrlfTail,
    /// A byte of the current field's value.
    Content,
    /// A quote that opens or closes a quoted field (not part of the value).
    Quote,
    /// The delimiter after a field.
    FieldEnd,
    /// The terminator after a record's last field.
    RecordEnd,
}

#[derive(Debug, Clone)]
pub(crate) struct Lexer {
    state: State,
    delimiter: u8,
    quote: u8,
}

impl Lexer {
    pub(crate) fn new(d: CsvDialect) -> Self {
        Self { state: State::StartRecord, delimiter: d.delimiter, quote: d.quote }
    }

    /// True when the next byte that is not a terminator starts a new record.
    #[inline]
    pub(crate) fn between_records(&self) -> bool {
        matches!(self.state, State::StartRecord | State::AfterCr)
    }

    #[inline]
    pub(crate) fn in_quotes(&self) -> bool {
        self.state == State::InQuoted
    }

    /// Ends the input: an open record ends with it.
    pub(crate) fn reset(&mut self) {
        self.state = State::StartRecord;
    }

    #[inline]
    pub(crate) fn step(&mut self, b: u8) -> Action {
        match self.state {
            State::AfterCr if b == b'\n' => {
                self.state = State::StartRecord;
                Action::CrlfTail
            }
            State::StartRecord | State::AfterCr => match b {
                b'\r' => {
                    self.state = State::AfterCr;
                    Action::BlankRow
                }
                b'\n' => {
                    self.state = State::StartRecord;
                    Action::BlankRow
                }
                _ => self.start_field(b),
            },
            State::StartField => self.start_field(b),
            State::InField => self.in_field(b),
            State::InQuoted => {
                if b == self.quote {
                    self.state = State::QuoteInQuoted;
                    Action::Quote
                } else {
                    Action::Content
                }
            }
            State::QuoteInQuoted => {
                if b == self.quote {
                    self.state = State::InQuoted;
                    Action::Content
                } else {
                    self.in_field(b)
                }
            }
        }
    }

    #[inline]
    fn start_field(&mut self, b: u8) -> Action {
        if b == self.quote {
            self.state = State::InQuoted;
            Action::Quote
        } else {
            self.in_field(b)
        }
    }

    #[inline]
    fn in_field(&mut self, b: u8) -> Action {
        if b == self.delimiter {
            self.state = State::StartField;
            Action::FieldEnd
        } else if b == b'\r' {
            self.state = State::AfterCr;
            Action::RecordEnd
        } else if b == b'\n' {
            self.state = State::StartRecord;
            Action::RecordEnd
        } else {
            self.state = State::InField;
            Action::Content
        }
    }
}

/// Records of a decoded text, one at a time, with their row numbers. The fields of the current record live in one
/// reused buffer, so reading allocates nothing per record.
pub(crate) struct CsvRecords<'t> {
    text: &'t [u8],
    pos: usize,
    lexer: Lexer,
    /// Row number of the next row to end.
    row: usize,
    /// Physical line (1 + line feeds so far), for unterminated-quote messages.
    line: usize,
    /// Row and line of the last opening quote.
    quote_open: (usize, usize),
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl<'t> CsvRecords<'t> {
    /// Reads `text` as CSV in dialect `d`; its first row is row `first_row` (and line `first_row`).
    pub(crate) fn new(text: &'t str, d: CsvDialect, first_row: usize) -> Self {
        Self {
            text: text.as_bytes(),
            pos: 0,
            lexer: Lexer::new(d),
            row: first_row,
            line: first_row,
            quote_open: (first_row, first_row),
            buf: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Reads the next record and returns its row number, `None` at the end of the text.
    pub(crate) fn next_record(&mut self) -> Result<Option<usize>, ImportError> {
        let mut start = self.pos;
        let mut number = self.row;
        while self.pos < self.text.len() {
            let b = self.text[self.pos];
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
            }
            let starting = self.lexer.between_records();
            let action = self.lexer.step(b);
            if starting && !matches!(action, Action::BlankRow | Action::CrlfTail) {
                start = self.pos - 1;
                number = self.row;
                self.buf.clear();
                self.ends.clear();
            }
            match action {
                Action::BlankRow => self.row += 1,
                Action::CrlfTail => {}
                Action::Content => self.content(b),
                Action::Quote => {
                    if self.lexer.in_quotes() {
                        self.quote_open = (self.row, self.line);
                    }
                }
                Action::FieldEnd => self.ends.push(self.buf.len()),
                Action::RecordEnd => {
                    self.ends.push(self.buf.len());
                    self.row += 1;
                    check_length(self.pos - 1 - start, number)?;
                    return Ok(Some(number));
                }
            }
        }
        if self.lexer.in_quotes() {
            let (row, line) = self.quote_open;
            return Err(ImportError::UnterminatedQuote { row, line });
        }
        if self.lexer.between_records() {
            return Ok(None);
        }
        // The last record has no terminator.
        self.lexer.reset();
        self.ends.push(self.buf.len());
        self.row += 1;
        check_length(self.pos - start, number)?;
        Ok(Some(number))
    }

    /// Copies a run of content bytes at once: everything up to the next byte that may be structure.
    #[inline]
    fn content(&mut self, b: u8) {
        self.buf.push(b);
        let (q, d) = (self.lexer.quote, self.lexer.delimiter);
        let quoted = self.lexer.in_quotes();
        let rest = &self.text[self.pos..];
        let run = rest
            .iter()
            .position(|&c| c == q || c == b'\n' || (!quoted && (c == d || c == b'\r')))
            .unwrap_or(rest.len());
        self.buf.extend_from_slice(&rest[..run]);
        self.pos += run;
    }

    pub(crate) fn field_count(&self) -> usize {
        self.ends.len()
    }

    /// Field `i` of the current record. Fields are cut at ASCII bytes of valid UTF-8, so they are valid UTF-8.
    pub(crate) fn field(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        let bytes = &self.buf[start..self.ends[i]];
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

fn check_length(len: usize, row: usize) -> Result<(), ImportError> {
    if len > MAX_LINE_BYTES { Err(ImportError::LineTooLong { line: row, max: MAX_LINE_BYTES }) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, delimiter: u8) -> Result<Vec<(usize, Vec<String>)>, ImportError> {
        let mut r = CsvRecords::new(text, CsvDialect { delimiter, quote: b'"', has_header: false }, 1);
        let mut out = Vec::new();
        while let Some(n) = r.next_record()? {
            out.push((n, (0..r.field_count()).map(|i| r.field(i).to_owned()).collect()));
        }
        Ok(out)
    }

    fn same_as_csv_crate(text: &str, delimiter: u8) {
        let ours: Vec<Vec<String>> = read(text, delimiter).unwrap().into_iter().map(|(_, f)| f).collect();
        let theirs: Vec<Vec<String>> = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes())
            .into_records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(ours, theirs, "{text:?}");
    }

    #[test]
    fn agrees_with_the_csv_crate_on_odd_quoting() {
        for text in [
            "a,b\n1,2\n",
            "a,b\r\n1,2\r\n",
            "a,b\r1,2\r",
            "\n\n a ,b\n\r\n\rc,\n",
            "\"x\ny\",\"say \"\"hi\"\"\"\n",
            "\"ab\"cd,e\n",
            "a\"b,c\"d\n",
            "\"a\" \"b\",c\n",
            "a,b,\n,\n",
            "\"\"\n\"\"\"\"\n",
            "last,line,no,newline",
            "trailing,delimiter,",
            "é,\u{a0}\n",
        ] {
            same_as_csv_crate(text, b',');
        }
        same_as_csv_crate("a;\"b;c\"\r\nd;e\n", b';');
        same_as_csv_crate("a\t\"b\tc\"\n", b'\t');
    }

    #[test]
    fn rows_count_terminators_not_lines() {
        let rows: Vec<usize> =
            read("h\n\"multi\nline\"\n\nnext\r\n\r\nlast\rafter_cr\n", b',').unwrap().iter().map(|r| r.0).collect();
        // h=1, the quoted record=2, blank=3, next=4, blank CRLF=5, last=6, after_cr=7.
        assert_eq!(rows, [1, 2, 4, 6, 7]);
    }

    #[test]
    fn unterminated_quote_points_at_the_opening_quote() {
        assert_eq!(read("a\nb\n\"c\nd\n", b','), Err(ImportError::UnterminatedQuote { row: 3, line: 3 }));
        assert_eq!(
            read("\"x\ny\"\n\"open\n", b','),
            Err(ImportError::UnterminatedQuote { row: 2, line: 3 }),
            "the row counts records, the line counts line feeds"
        );
    }

    #[test]
    fn overlong_records_are_refused() {
        let long = format!("a\n{}\n", "x".repeat(MAX_LINE_BYTES + 1));
        assert_eq!(read(&long, b','), Err(ImportError::LineTooLong { line: 2, max: MAX_LINE_BYTES }));
        let just = format!("{}\n", "x".repeat(MAX_LINE_BYTES));
        assert_eq!(read(&just, b',').unwrap().len(), 1);
    }
}
