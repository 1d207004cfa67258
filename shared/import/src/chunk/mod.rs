//! Cutting a whole file into chunks of whole records, reading it once from a stream in bounded memory, and reading
//! one chunk back into a [`Table`].
//!
//! The planner never holds more than one 64 KiB block plus the record being scanned (at most [`MAX_LINE_BYTES`] for
//! line-oriented formats). Chunk boundaries fall on record starts (CSV, NDJSON, JSON arrays) or around record
//! elements (XML), so each chunk can be fetched with one ranged GET and read on its own by [`read_chunk`], numbering
//! its rows from [`ByteChunk::first_row`] exactly as reading the whole file would.
//!
//! Encodings: in UTF-8 and Windows-1252 every character the planners look for (quotes, delimiters, brackets, line
//! breaks, `<`) is one ASCII byte that never occurs inside a multi-byte character, so byte scanning is exact. UTF-16
//! is scanned as 16-bit code units for the same reason: those characters are single units, and no unit of another
//! character (surrogates included) is ASCII. Only XML in UTF-16 is not cut: the XML parser reads ASCII-compatible
//! bytes only, so such a file is transcoded while counting its records and planned as one chunk.

mod json;
mod text;
mod xml;

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::table::{self, Reading};
use crate::{Encoding, Format, ImportError, MAX_LINE_BYTES, Sniffed, Table, decode};

/// Bytes read from the stream at a time.
const BLOCK: usize = 64 * 1024;

/// Where to cut a file: contiguous chunks of whole records, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChunkPlan {
    pub chunks: Vec<ByteChunk>,
    /// Records in the file (rows of data: blank lines and a CSV header are not records).
    pub total_rows: usize,
    /// Byte offset just after the CSV header row (its terminator included), 0 without a header.
    pub header_end: u64,
}

/// One chunk: the bytes `start..end` of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteChunk {
    /// Position of the chunk in the plan, from 0.
    pub index: usize,
    pub start: u64,
    /// Exclusive.
    pub end: u64,
    /// Row number ([`crate::Row::number`]) of the chunk's first record; pass it to [`read_chunk`].
    pub first_row: usize,
    /// Records in the chunk.
    pub rows: usize,
}

/// Reads the whole file from `reader` once and cuts it into chunks of about `target_bytes` (at least that much,
/// except the last one, plus up to one record). A file without records gives no chunks.
///
/// Errors are the ones reading the whole file would give: an unterminated quote, a record longer than
/// [`MAX_LINE_BYTES`], JSON that is not one array, XML that does not parse. Spreadsheets are planned by rows
/// ([`crate::plan_sheet_chunks`]), not by bytes.
pub fn plan_chunks<R: Read>(reader: R, sniffed: &Sniffed, target_bytes: usize) -> Result<ChunkPlan, ImportError> {
    let target = target_bytes.max(1) as u64;
    match &sniffed.format {
        Format::Csv => {
            let dialect = sniffed.csv.unwrap_or(crate::CsvDialect { delimiter: b',', quote: b'"', has_header: true });
            text::plan_csv(reader, sniffed.encoding, dialect, target)
        }
        Format::Ndjson => text::plan_ndjson(reader, sniffed.encoding, target),
        Format::Json => json::plan_json(reader, sniffed.encoding, target),
        Format::Xml { record_element } => xml::plan_xml(reader, sniffed.encoding, record_element, target),
        Format::Spreadsheet { .. } => Err(ImportError::Unsupported("Excel")),
    }
}

/// Reads one chunk cut by [`plan_chunks`] (the bytes `start..end` of the file) into a table with the given
/// `columns` (the ones of the preview the mapping was made on), numbering rows from `first_row`.
///
/// CSV chunks have no header; ragged rows are padded or cut and flagged in [`crate::Row::problem`] as
/// [`crate::records`] does. JSON and XML keys that are not among `columns` are left out. Reading every chunk of a
/// plan gives the same rows, cells and numbers as reading the whole file with [`crate::records`].
pub fn read_chunk(bytes: &[u8], sniffed: &Sniffed, columns: &[String], first_row: usize) -> Result<Table, ImportError> {
    let text = decode(bytes, sniffed.encoding);
    let how = Reading { columns: Some(columns), first_row, limit: usize::MAX, chunk: true };
    table::read(&text, sniffed, &how)
}

/// The keys (JSON) or child elements (XML) of a chunk's records, in first-seen order; nothing for CSV, whose columns
/// are its header. The planner reads every chunk with it, so that a key first seen deep in a file is a column too.
pub fn chunk_keys(bytes: &[u8], sniffed: &Sniffed) -> Result<Vec<String>, ImportError> {
    if matches!(sniffed.format, crate::Format::Csv | crate::Format::Spreadsheet { .. }) {
        return Ok(Vec::new());
    }
    let text = decode(bytes, sniffed.encoding);
    let how = Reading { columns: None, first_row: 1, limit: usize::MAX, chunk: true };
    Ok(table::read(&text, sniffed, &how)?.columns)
}

/// Collects records into chunks as the planners find them.
struct Cutter {
    target: u64,
    chunks: Vec<ByteChunk>,
    open: Option<ByteChunk>,
    total: usize,
}

impl Cutter {
    fn new(target: u64) -> Self {
        Self { target, chunks: Vec::new(), open: None, total: 0 }
    }

    /// A record starting at `start` with row number `row`. When the open chunk is already big enough it is closed at
    /// `close_at` (the record's start for contiguous formats, the previous record's end for XML) and the record
    /// opens the next chunk.
    fn record(&mut self, start: u64, row: usize, close_at: u64) {
        self.total += 1;
        if let Some(open) = &mut self.open {
            if start - open.start < self.target {
                open.rows += 1;
                return;
            }
            open.end = close_at;
            self.chunks.extend(self.open.take());
        }
        self.open = Some(ByteChunk { index: self.chunks.len(), start, end: start, first_row: row, rows: 1 });
    }

    fn finish(mut self, end: u64, header_end: u64) -> ChunkPlan {
        if let Some(mut open) = self.open.take() {
            open.end = end;
            self.chunks.push(open);
        }
        ChunkPlan { chunks: self.chunks, total_rows: self.total, header_end }
    }
}

/// Bytes per code unit, and whether 16-bit units are big-endian.
fn unit_shape(encoding: Encoding) -> (usize, bool) {
    match encoding {
        Encoding::Utf16Le => (2, false),
        Encoding::Utf16Be => (2, true),
        Encoding::Utf8 { .. } | Encoding::Windows1252 => (1, false),
    }
}

fn bom_len(head: &[u8], encoding: Encoding) -> usize {
    let bom: &[u8] = match encoding {
        Encoding::Utf8 { .. } => &[0xEF, 0xBB, 0xBF],
        Encoding::Utf16Le => &[0xFF, 0xFE],
        Encoding::Utf16Be => &[0xFE, 0xFF],
        Encoding::Windows1252 => &[],
    };
    if !bom.is_empty() && head.starts_with(bom) { bom.len() } else { 0 }
}

fn read_some<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize, ImportError> {
    loop {
        match reader.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ImportError::Read(e.to_string())),
        }
    }
}

/// Streams the file as code units (bytes, or 16-bit units for UTF-16) with their byte offsets, after the byte-order
/// mark, and returns the file length. A last odd byte of UTF-16 is passed as U+FFFD, which is what decoding makes
/// of it.
fn scan_units<R: Read>(
    mut reader: R,
    encoding: Encoding,
    mut f: impl FnMut(u16, u64) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    let (width, big_endian) = unit_shape(encoding);
    let mut buf = vec![0u8; BLOCK];
    let mut len = 0;
    let mut eof = false;
    while len < 3 && !eof {
        let n = read_some(&mut reader, &mut buf[len..])?;
        eof = n == 0;
        len += n;
    }
    let mut start = bom_len(&buf[..len], encoding);
    let mut base = 0u64;
    loop {
        let usable = start + (len - start) / width * width;
        if width == 1 {
            for (i, &b) in buf[start..usable].iter().enumerate() {
                f(u16::from(b), base + (start + i) as u64)?;
            }
        } else {
            for i in (start..usable).step_by(2) {
                let pair = [buf[i], buf[i + 1]];
                let unit = if big_endian { u16::from_be_bytes(pair) } else { u16::from_le_bytes(pair) };
                f(unit, base + i as u64)?;
            }
        }
        if eof {
            if usable < len {
                f(0xFFFD, base + usable as u64)?;
            }
            return Ok(base + len as u64);
        }
        buf.copy_within(usable..len, 0);
        base += usable as u64;
        len -= usable;
        start = 0;
        let n = read_some(&mut reader, &mut buf[len..])?;
        eof = n == 0;
        len += n;
    }
}

/// Whether the current record or line is blank the way `str::trim` sees it after decoding: ASCII units are decided
/// on the spot, other characters are kept (raw) and decoded at the end, so Unicode spaces count as blank too.
struct BlankProbe {
    encoding: Encoding,
    possible: bool,
    pending: Vec<u8>,
}

impl BlankProbe {
    fn new(encoding: Encoding) -> Self {
        Self { encoding, possible: true, pending: Vec::new() }
    }

    fn reset(&mut self) {
        self.possible = true;
        self.pending.clear();
    }

    fn not_blank(&mut self) {
        self.possible = false;
    }

    #[inline]
    fn content(&mut self, unit: u16) {
        if !self.possible {
            return;
        }
        if unit < 0x80 {
            if !char::from(unit as u8).is_whitespace() {
                self.possible = false;
            }
            return;
        }
        match unit_shape(self.encoding) {
            (1, _) => self.pending.push(unit as u8),
            (_, true) => self.pending.extend(unit.to_be_bytes()),
            (_, false) => self.pending.extend(unit.to_le_bytes()),
        }
    }

    fn is_blank(&self) -> bool {
        self.possible && crate::decode::decode_piece(&self.pending, self.encoding).trim().is_empty()
    }
}

fn too_long(len: u64, line: usize) -> Result<(), ImportError> {
    if len > MAX_LINE_BYTES as u64 { Err(ImportError::LineTooLong { line, max: MAX_LINE_BYTES }) } else { Ok(()) }
}
