//! Planning a JSON array: the elements of the top-level array, found by tracking strings (with escapes) and nesting
//! depth. Element contents are not validated here; reading the chunk does that.
//!
//! A chunk is the text from its first element's start to the next chunk's first element (or to the closing bracket):
//! elements separated by commas, ending with a comma and whitespace except in the last chunk. That is what the chunk
//! reader puts back between brackets.

use std::io::Read;

use super::{ChunkPlan, Cutter, scan_units};
use crate::{Encoding, ImportError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening bracket.
    Before,
    /// After `[`: an element or `]`.
    First,
    /// After a comma: an element.
    Next,
    /// Inside a number or a literal (`true`, `null`) at the top level.
    Scalar,
    /// Inside an object or array element, at this depth (1 = directly inside the element).
    Nested(usize),
    /// After an element: a comma or `]`.
    After,
    /// After the closing bracket: only whitespace may follow.
    Done,
}

struct JsonPlanner {
    state: State,
    in_string: bool,
    escaped: bool,
    elements: usize,
    close: u64,
    cutter: Cutter,
}

pub(super) fn plan_json<R: Read>(reader: R, encoding: Encoding, target: u64) -> Result<ChunkPlan, ImportError> {
    let mut p = JsonPlanner {
        state: State::Before,
        in_string: false,
        escaped: false,
        elements: 0,
        close: 0,
        cutter: Cutter::new(target),
    };
    scan_units(reader, encoding, |unit, offset| p.unit(unit, offset))?;
    match p.state {
        State::Done => Ok(p.cutter.finish(p.close, 0)),
        State::Before => Err(ImportError::Empty),
        _ => Err(ImportError::InvalidJson(format!("the file ends inside the array, in element {}", p.elements))),
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl JsonPlanner {
    #[inline]
    fn unit(&mut self, unit: u16, offset: u64) -> Result<(), ImportError> {
        let b = if unit < 0x80 { unit as u8 } else { 0x80 };
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.state == State::Scalar {
                    self.state = State::After;
                }
            }
            return Ok(());
        }
        let invalid = |what: String| Err(ImportError::InvalidJson(what));
        match self.state {
            _ if is_ws(b) && !matches!(self.state, State::Scalar) => {}
            State::Before if b == b'[' => self.state = State::First,
            State::Before => {
                return Err(ImportError::NotRecords { found: "a JSON value that is not an array".into() });
            }
            State::First if b == b']' => self.close(offset),
            State::First | State::Next => {
                if b == b']' || b == b',' {
                    return invalid(format!("expected an element after element {}", self.elements));
                }
                self.elements += 1;
                self.cutter.record(offset, self.elements, offset);
                match b {
                    b'{' | b'[' => self.state = State::Nested(1),
                    b'"' => {
                        // A string element: `Scalar` until its closing quote, then `After`.
                        self.state = State::Scalar;
                        self.in_string = true;
                    }
                    _ => self.state = State::Scalar,
                }
            }
            State::Scalar => match b {
                b',' => self.state = State::Next,
                b']' => self.close(offset),
                _ if is_ws(b) => self.state = State::After,
                _ => {}
            },
            State::Nested(depth) => match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.state = State::Nested(depth + 1),
                b'}' | b']' if depth == 1 => self.state = State::After,
                b'}' | b']' => self.state = State::Nested(depth - 1),
                _ => {}
            },
            State::After => match b {
                b',' => self.state = State::Next,
                b']' => self.close(offset),
                _ => return invalid(format!("expected `,` or `]` after element {}", self.elements)),
            },
            State::Done => return invalid("characters after the closing `]` of the array".into()),
        }
        Ok(())
    }

    fn close(&mut self, offset: u64) {
        self.close = offset;
        self.state = State::Done;
    }
}
