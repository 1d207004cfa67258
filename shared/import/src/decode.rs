//! Byte → text: encoding detection by byte-order mark and UTF-8 validity, and lossless-enough decoding.

use std::borrow::Cow;

use crate::{Encoding, ImportError};

/// Decodes `bytes` as `encoding`, dropping a leading byte-order mark so it never ends up in the first column name.
/// Malformed sequences become U+FFFD rather than failing: the preview should show what it can.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Cow<'_, str> {
    // `decode_with_bom_removal` only strips the BOM of the given encoding, which is what we detected.
    let (text, _had_errors) = encoding_rs_of(encoding).decode_with_bom_removal(bytes);
    text
}

fn encoding_rs_of(encoding: Encoding) -> &'static encoding_rs::Encoding {
    match encoding {
        Encoding::Utf8 { .. } => encoding_rs::UTF_8,
        Encoding::Utf16Le => encoding_rs::UTF_16LE,
        Encoding::Utf16Be => encoding_rs::UTF_16BE,
        Encoding::Windows1252 => encoding_rs::WINDOWS_1252,
    }
}

/// Decodes a piece cut from the middle of a text: a leading U+FEFF there is a character, not a byte-order mark.
pub(crate) fn decode_piece(bytes: &[u8], encoding: Encoding) -> Cow<'_, str> {
    encoding_rs_of(encoding).decode_without_bom_handling(bytes).0
}

/// Detects the encoding of a sample. The sample may be cut anywhere, so an incomplete UTF-8 sequence at its very end
/// does not disqualify UTF-8.
pub(crate) fn detect_encoding(sample: &[u8]) -> Encoding {
    if sample.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Encoding::Utf8 { bom: true };
    }
    if sample.starts_with(&[0xFF, 0xFE]) {
        return Encoding::Utf16Le;
    }
    if sample.starts_with(&[0xFE, 0xFF]) {
        return Encoding::Utf16Be;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => Encoding::Utf8 { bom: false },
        Err(e) if e.error_len().is_none() => Encoding::Utf8 { bom: false },
        Err(_) => Encoding::Windows1252,
    }
}

/// Refuses text that is evidently not text: any NUL, or more than 1 % control characters other than tab, CR, LF and
/// form feed. Windows-1252 maps every byte to some character, so this is what catches random binary data.
pub(crate) fn check_textual(text: &str) -> Result<(), ImportError> {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars().take(1 << 20) {
        total += 1;
        if c == '\0' {
            return Err(ImportError::Binary);
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c') {
            control += 1;
        }
    }
    if control * 100 > total { Err(ImportError::Binary) } else { Ok(()) }
}

/// Refuses any line longer than [`crate::MAX_LINE_BYTES`] (line-oriented formats only).
pub(crate) fn check_line_lengths(text: &str) -> Result<(), ImportError> {
    for (i, line) in text.split('\n').enumerate() {
        if line.len() > crate::MAX_LINE_BYTES {
            return Err(ImportError::LineTooLong { line: i + 1, max: crate::MAX_LINE_BYTES });
        }
    }
    Ok(())
}
