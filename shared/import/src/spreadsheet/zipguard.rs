//! Zip-bomb protection for XLSX, before calamine inflates anything: the archive's central directory is audited (entry
//! count, declared uncompressed sizes, compression ratios), then every entry is inflated once into nothing, never
//! past its declared size, because declared sizes are only claims and calamine reads shared strings and styles
//! whole into memory.

use std::io::{Cursor, Read};

use super::SpreadsheetLimits;
use crate::ImportError;

const EOCD: &[u8; 4] = b"PK\x05\x06";
const ZIP64_LOCATOR: &[u8; 4] = b"PK\x06\x07";
const ZIP64_EOCD: &[u8; 4] = b"PK\x06\x06";
/// The end-of-central-directory record is 22 bytes plus a comment of at most 65,535.
const EOCD_SEARCH: usize = 22 + 65_535;

fn invalid(e: impl std::fmt::Display) -> ImportError {
    ImportError::InvalidSpreadsheet(format!("not a readable XLSX (zip) archive: {e}"))
}

fn too_large(what: String) -> ImportError {
    ImportError::SpreadsheetTooLarge(what)
}

pub(super) fn check(bytes: &[u8], limits: &SpreadsheetLimits) -> Result<(), ImportError> {
    // The zip crate reads the whole central directory into memory, so the declared count is checked first.
    let declared = declared_entries(bytes)?;
    if declared > limits.max_entries as u64 {
        return Err(too_large(format!("{declared} zip entries, more than {}", limits.max_entries)));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(invalid)?;
    if archive.len() > limits.max_entries {
        return Err(too_large(format!("{} zip entries, more than {}", archive.len(), limits.max_entries)));
    }
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(invalid)?;
        let (size, packed) = (entry.size(), entry.compressed_size());
        total = total.saturating_add(size);
        if total > limits.max_uncompressed_bytes {
            return Err(too_large(format!(
                "the entries declare more than {} bytes uncompressed (limit {})",
                total, limits.max_uncompressed_bytes
            )));
        }
        if size > limits.ratio_floor_bytes && size / packed.max(1) > limits.max_ratio {
            return Err(too_large(format!(
                "entry {} expands {}:1 ({} to {} bytes), more than {}:1",
                entry.name(),
                size / packed.max(1),
                packed,
                size,
                limits.max_ratio
            )));
        }
    }
    let mut sink = std::io::sink();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(invalid)?;
        let declared = entry.size();
        let name = entry.name().to_owned();
        let inflated = std::io::copy(&mut (&mut entry).take(declared.saturating_add(1)), &mut sink)
            .map_err(|e| invalid(format!("entry {name}: {e}")))?;
        if inflated > declared {
            return Err(too_large(format!("entry {name} inflates past its declared {declared} bytes")));
        }
    }
    Ok(())
}

/// The entry count the end-of-central-directory record declares (its ZIP64 variant when the short one is maxed out).
fn declared_entries(bytes: &[u8]) -> Result<u64, ImportError> {
    let from = bytes.len().saturating_sub(EOCD_SEARCH);
    let eocd = (from..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| &bytes[i..i + 4] == EOCD)
        .ok_or_else(|| invalid("no end of central directory (truncated?)"))?;
    let short = u64::from(u16::from_le_bytes([bytes[eocd + 10], bytes[eocd + 11]]));
    if short != 0xFFFF {
        return Ok(short);
    }
    let zip64 = eocd
        .checked_sub(20)
        .filter(|&l| &bytes[l..l + 4] == ZIP64_LOCATOR)
        .and_then(|l| u64_at(bytes, l + 8))
        .and_then(|at| usize::try_from(at).ok())
        .filter(|&at| bytes.get(at..at + 4) == Some(ZIP64_EOCD))
        .and_then(|at| u64_at(bytes, at + 32));
    Ok(zip64.unwrap_or(short))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    bytes.get(at..at + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
}
