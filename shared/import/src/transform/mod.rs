//! What the user confirms after the preview: which column feeds which field, and per field a list of rules that
//! rework the text before it is converted to the field's type. The types deserialize straight from an HTTP body
//! (unknown members refused), [`validate_spec`] checks them against the columns and the model once and compiles
//! them, and [`apply`] turns each row into the typed fields of a record.
//!
//! Rules run in order on the field's text: the mapped column's cell, or nothing when the field has no column (then a
//! `concat` or `default` rule provides it). An empty result leaves the field out of the record, so the platform's
//! defaults and required-field checks apply as for any other write.
//!
//! Reference lookups need I/O the library cannot do: [`collect_lookups`] gathers the distinct values of a table to
//! look up, the caller resolves them in one batch per target (e.g. into a [`LookupTable`]), and [`apply`] reads them
//! back through the [`Lookup`] trait.

mod apply;
mod compile;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

pub use apply::{apply, collect_lookups};
pub use compile::{CompiledSpec, validate_spec, validate_spec_with_targets};

/// Longest `regex_replace` pattern accepted (as for model field patterns).
pub const MAX_PATTERN_LEN: usize = 512;
/// Longest offending value quoted in a [`CellError`] (characters).
pub const MAX_ERROR_VALUE_CHARS: usize = 200;

/// The confirmed import: column → field, and field → rules.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSpec {
    /// Source column → target field.
    pub mapping: BTreeMap<String, String>,
    /// Target field → rules, applied in order.
    #[serde(default)]
    pub rules: BTreeMap<String, Vec<Rule>>,
}

/// One step reworking a field's text, as `{"op": "...", ...}`. The variants without parameters are empty structs,
/// not unit variants, because serde lets unknown members through on unit variants of a tagged enum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Removes surrounding whitespace.
    Trim {},
    Lowercase {},
    Uppercase {},
    /// Upper-cases the first letter of every word (`jean-luc o'neil` → `Jean-Luc O'Neil`), lower-cases the rest.
    Titlecase {},
    /// Fills an empty value. Numbers and booleans are taken as their text; objects and arrays as JSON text.
    Default {
        value: serde_json::Value,
    },
    /// Replaces a value found among the keys; others pass unchanged.
    ValueMap {
        map: BTreeMap<String, String>,
        #[serde(default)]
        ignore_case: bool,
    },
    /// Reads a date or date-time written in this chrono format (`%d/%m/%Y`) and passes it on as ISO 8601.
    DateFormat {
        format: String,
    },
    /// Keeps part `index` (from 0) of the value split at `separator`, trimmed; no such part leaves it empty.
    Split {
        separator: String,
        index: usize,
    },
    /// Builds the value from the non-empty cells of `columns`, joined with `separator` (replaces any value so far).
    Concat {
        columns: Vec<String>,
        #[serde(default)]
        separator: String,
    },
    /// Replaces every match of `pattern` (regex syntax) with `replacement` (`$1` for groups).
    RegexReplace {
        pattern: String,
        replacement: String,
    },
    /// Replaces the value with the id of the `entity` record whose unique `field` equals it. Last rule only, on a
    /// reference field targeting `entity`.
    Lookup {
        entity: String,
        field: String,
    },
}

/// A problem with a spec, at a JSON pointer into it (`/mapping/E-mail`, `/rules/email/1/pattern`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecError {
    pub path: String,
    pub code: &'static str,
    pub message: String,
}

/// A value of a row that could not become its field's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellError {
    /// The row's number ([`crate::Row::number`]).
    pub row: usize,
    /// The source column, or the field's name when the value was built by `concat` or `default`.
    pub column: String,
    pub field: String,
    /// The offending value as it was when it failed, cut to [`MAX_ERROR_VALUE_CHARS`] characters.
    pub value: String,
    pub reason: String,
}

/// Resolves reference lookups: the id of the `entity` record whose unique `field` equals `value`.
pub trait Lookup {
    fn resolve(&self, entity: &str, field: &str, value: &str) -> Option<String>;
}

/// For specs without `lookup` rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLookups;

impl Lookup for NoLookups {
    fn resolve(&self, _: &str, _: &str, _: &str) -> Option<String> {
        None
    }
}

/// Values to look up for one `lookup` target, distinct, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupRequest {
    pub entity: String,
    pub field: String,
    pub values: BTreeSet<String>,
}

/// Resolved lookups held in memory: fill it from one batch query per [`LookupRequest`].
#[derive(Debug, Clone, Default)]
pub struct LookupTable {
    ids: HashMap<(String, String), HashMap<String, String>>,
}

impl LookupTable {
    pub fn insert(&mut self, entity: &str, field: &str, value: impl Into<String>, id: impl Into<String>) {
        self.ids.entry((entity.to_owned(), field.to_owned())).or_default().insert(value.into(), id.into());
    }
}

impl Lookup for LookupTable {
    fn resolve(&self, entity: &str, field: &str, value: &str) -> Option<String> {
        // Allocating the key pair per call would cost more than the scan over the few targets a spec has.
        self.ids.iter().find(|((e, f), _)| e == entity && f == field).and_then(|(_, m)| m.get(value).cloned())
    }
}

/// RFC 6901 escaping of one pointer segment.
fn pointer_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn truncate(value: &str) -> String {
    match value.char_indices().nth(MAX_ERROR_VALUE_CHARS) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_owned(),
    }
}
