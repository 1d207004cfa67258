//! Shared by the integration tests: a small deterministic generator (no proptest in the workspace) and helpers that
//! check a chunk plan against reading the whole file.

#![allow(dead_code)]

use std::io::Read;

use hw_import::{ChunkPlan, Encoding, ImportError, Row, Sniffed, Table, decode, plan_chunks, read_chunk, records};

/// SplitMix64: tiny, deterministic, good enough to shuffle test inputs.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// A reader handing out a few bytes at a time, so block boundaries fall everywhere (inside CRLF, inside UTF-16 units,
/// inside multi-byte characters).
pub struct Trickle<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
    pub step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step % 13 + 1;
        let n = self.step.min(buf.len()).min(self.bytes.len() - self.pos);
        buf[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Encodes test text in `encoding`, with a byte-order mark where the encoding has one in the variant.
pub fn encode(text: &str, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Utf8 { bom } => {
            let mut out = if bom { vec![0xEF, 0xBB, 0xBF] } else { Vec::new() };
            out.extend(text.as_bytes());
            out
        }
        Encoding::Windows1252 => {
            let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
            assert!(!unmappable, "test text not representable in Windows-1252");
            bytes.into_owned()
        }
        Encoding::Utf16Le => {
            let mut out = vec![0xFF, 0xFE];
            out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            out
        }
        Encoding::Utf16Be => {
            let mut out = vec![0xFE, 0xFF];
            out.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
            out
        }
    }
}

/// Reads every chunk of `plan` and returns all rows in order, checking the plan's own bookkeeping on the way.
pub fn rows_by_chunks(bytes: &[u8], sniffed: &Sniffed, columns: &[String], plan: &ChunkPlan) -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, c) in plan.chunks.iter().enumerate() {
        assert_eq!(c.index, i);
        assert!(c.start < c.end && c.end <= bytes.len() as u64, "{c:?} in {} bytes", bytes.len());
        let t: Table = read_chunk(&bytes[c.start as usize..c.end as usize], sniffed, columns, c.first_row)
            .unwrap_or_else(|e| panic!("chunk {c:?}: {e}"));
        assert_eq!(t.columns, columns);
        assert_eq!(t.rows.len(), c.rows, "chunk {c:?}");
        assert_eq!(t.rows.first().map(|r| r.number), Some(c.first_row), "chunk {c:?}");
        rows.extend(t.rows);
    }
    assert_eq!(plan.chunks.iter().map(|c| c.rows).sum::<usize>(), plan.total_rows);
    rows
}

/// The property: for every target size and both a block reader and a trickling one, reading all chunks gives the
/// rows of reading the whole file (or the same error).
pub fn assert_chunks_match_whole(bytes: &[u8], sniffed: &Sniffed, targets: &[usize], contiguous: bool) {
    let whole = records(&decode(bytes, sniffed.encoding), sniffed, usize::MAX);
    for &target in targets {
        for trickle in [false, true] {
            let plan: Result<ChunkPlan, ImportError> = if trickle {
                plan_chunks(Trickle { bytes, pos: 0, step: target }, sniffed, target)
            } else {
                plan_chunks(bytes, sniffed, target)
            };
            let whole = match &whole {
                Ok(t) => t,
                Err(e) => {
                    assert_eq!(plan.as_ref().err(), Some(e), "target {target}: {}", show(bytes, sniffed));
                    continue;
                }
            };
            let plan = plan.unwrap_or_else(|e| panic!("target {target}: {e}\n{}", show(bytes, sniffed)));
            let rows = rows_by_chunks(bytes, sniffed, &whole.columns, &plan);
            assert_eq!(plan.total_rows, whole.rows.len(), "target {target}: {}", show(bytes, sniffed));
            assert_eq!(rows, whole.rows, "target {target}: {}", show(bytes, sniffed));
            if contiguous {
                for pair in plan.chunks.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start);
                }
            }
            if let Some(first) = plan.chunks.first() {
                assert!(first.start >= plan.header_end);
            }
        }
    }
}

fn show(bytes: &[u8], sniffed: &Sniffed) -> String {
    format!("{sniffed:?}\n{:?}", decode(bytes, sniffed.encoding))
}
