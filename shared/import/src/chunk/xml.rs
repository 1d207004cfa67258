//! Planning XML: the byte ranges of the record elements (top-level occurrences of `record_element`, not ones nested
//! inside a record), read with quick-xml from a buffered stream. A chunk runs from its first record's `<` to the end
//! of its last record's closing tag; what lies between chunks (whitespace, grouping tags) is not covered.
//!
//! Entities are never resolved: a DOCTYPE declaring any is refused here too, as `sniff` does for the sample.

use std::io::{BufRead, BufReader, Read};

use quick_xml::events::Event;

use super::{BLOCK, ByteChunk, ChunkPlan, Cutter, bom_len, read_some};
use crate::{Encoding, ImportError};

fn xml_err(e: impl std::fmt::Display) -> ImportError {
    ImportError::InvalidXml(e.to_string())
}

pub(super) fn plan_xml<R: Read>(
    reader: R,
    encoding: Encoding,
    record: &str,
    target: u64,
) -> Result<ChunkPlan, ImportError> {
    match encoding {
        Encoding::Utf8 { .. } => plan_bytes(reader, record.as_bytes(), target),
        Encoding::Windows1252 => {
            let (name, _, _) = encoding_rs::WINDOWS_1252.encode(record);
            plan_bytes(reader, &name, target)
        }
        Encoding::Utf16Le | Encoding::Utf16Be => plan_utf16(reader, encoding, record),
    }
}

/// quick-xml skips a UTF-8 byte-order mark without counting it in its positions, so the mark is taken off first and
/// its length added back.
fn plan_bytes<R: Read>(mut reader: R, name: &[u8], target: u64) -> Result<ChunkPlan, ImportError> {
    let mut head = [0u8; 3];
    let mut got = 0;
    while got < head.len() {
        let n = read_some(&mut reader, &mut head[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let bom = bom_len(&head[..got], Encoding::Utf8 { bom: true });
    let base = bom as u64;
    let rest = std::io::Cursor::new(head[bom..got].to_vec()).chain(reader);
    let mut cutter = Cutter::new(target);
    let mut last_end = 0u64;
    let mut xml = quick_xml::Reader::from_reader(BufReader::with_capacity(BLOCK, rest));
    records(&mut xml, name, |start, end, n| {
        cutter.record(base + start, n, last_end);
        last_end = base + end;
    })?;
    Ok(cutter.finish(last_end, 0))
}

/// Calls `found(start, end, number)` for each record element, with its byte range in the stream.
fn records<B: BufRead>(
    xml: &mut quick_xml::Reader<B>,
    name: &[u8],
    mut found: impl FnMut(u64, u64, usize),
) -> Result<(), ImportError> {
    let mut buf = Vec::new();
    // Inside a record: its start and the depth below it.
    let mut inside: Option<(u64, usize)> = None;
    let mut n = 0usize;
    loop {
        buf.clear();
        let before = xml.buffer_position();
        match xml.read_event_into(&mut buf).map_err(xml_err)? {
            Event::Start(e) => match &mut inside {
                None if e.name().as_ref() == name => inside = Some((before, 0)),
                None => {}
                Some((_, depth)) => *depth += 1,
            },
            Event::Empty(e) if inside.is_none() && e.name().as_ref() == name => {
                n += 1;
                found(before, xml.buffer_position(), n);
            }
            Event::End(_) => match &mut inside {
                Some((start, 0)) => {
                    n += 1;
                    found(*start, xml.buffer_position(), n);
                    inside = None;
                }
                Some((_, depth)) => *depth -= 1,
                None => {}
            },
            Event::DocType(d) => crate::sniff::refuse_xml_entities(&String::from_utf8_lossy(&d))?,
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// UTF-16 XML is transcoded to UTF-8 on the fly to count its records, and planned as one chunk after the byte-order
/// mark: offsets in the transcoded text are not offsets in the file.
fn plan_utf16<R: Read>(reader: R, encoding: Encoding, record: &str) -> Result<ChunkPlan, ImportError> {
    let enc = if encoding == Encoding::Utf16Be { encoding_rs::UTF_16BE } else { encoding_rs::UTF_16LE };
    let mut utf8 = Utf8Reader {
        inner: reader,
        decoder: enc.new_decoder_with_bom_removal(),
        input: vec![0; BLOCK],
        in_pos: 0,
        in_len: 0,
        eof: false,
        total: 0,
        head: Vec::new(),
    };
    let mut count = 0usize;
    let mut xml = quick_xml::Reader::from_reader(BufReader::with_capacity(BLOCK, &mut utf8));
    records(&mut xml, record.as_bytes(), |_, _, n| count = n)?;
    drop(xml);
    let start = bom_len(&utf8.head, encoding) as u64;
    let chunks = if count > 0 {
        vec![ByteChunk { index: 0, start, end: utf8.total, first_row: 1, rows: count }]
    } else {
        Vec::new()
    };
    Ok(ChunkPlan { chunks, total_rows: count, header_end: 0 })
}

/// A reader transcoding its input to UTF-8, counting the input bytes and keeping the first few (for the BOM).
struct Utf8Reader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    eof: bool,
    total: u64,
    head: Vec<u8>,
}

impl<R: Read> Read for Utf8Reader<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        // A UTF-8 character is at most 4 bytes: a smaller buffer could make no progress (`BufReader` passes its
        // whole 64 KiB buffer).
        if out.len() < 4 {
            return Err(std::io::Error::other("read buffer smaller than one UTF-8 character"));
        }
        loop {
            if self.in_pos == self.in_len && !self.eof {
                let n = read_some(&mut self.inner, &mut self.input).map_err(std::io::Error::other)?;
                if self.head.len() < 4 {
                    self.head.extend(&self.input[..n.min(4 - self.head.len())]);
                }
                self.total += n as u64;
                self.eof = n == 0;
                self.in_pos = 0;
                self.in_len = n;
            }
            let (_, read, written, _) =
                self.decoder.decode_to_utf8(&self.input[self.in_pos..self.in_len], out, self.eof);
            self.in_pos += read;
            if written > 0 || (self.eof && self.in_pos == self.in_len) {
                return Ok(written);
            }
        }
    }
}
