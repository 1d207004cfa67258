//! The query model of record lists: filters (`filter[field][op]=value`), sort (`sort=-updated_at,name`), how they
//! are evaluated against records and how records compare. Pure: no I/O, so every rule is unit-tested here.
//!
//! Semantics, in one place:
//! - Filters AND together. A filter on a field the record does not hold is false, except `ne` (true: the value is
//!   not the one named) and `isNull=true`.
//! - Emails compare ignoring case (as their uniqueness does); every other text compares exactly.
//! - Datetimes (and `created_at`/`updated_at`) compare as instants, whatever offset the filter value uses.
//! - Sort keys compare by type; absent values sort last ascending (first descending); the record id is always the
//!   final tie-breaker (ascending), so every order is total and cursors are stable.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::ids::is_valid_record_id;
use crate::model::{FieldDef, FieldType, Model};
use crate::record::Record;

/// Most values an `in` filter may list.
pub const MAX_IN_VALUES: usize = 100;
/// Most filters one request may carry.
pub const MAX_FILTERS: usize = 20;
/// Most sort keys.
pub const MAX_SORT_KEYS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Contains,
    StartsWith,
    IsNull,
}

impl Op {
    pub const ALL: [Op; 10] =
        [Op::Eq, Op::Ne, Op::Gt, Op::Gte, Op::Lt, Op::Lte, Op::In, Op::Contains, Op::StartsWith, Op::IsNull];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::In => "in",
            Op::Contains => "contains",
            Op::StartsWith => "startsWith",
            Op::IsNull => "isNull",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == s)
    }
}

/// What a filterable field holds, as far as parsing and comparing go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// string, text, url
    Text,
    /// compared ignoring case
    Email,
    Integer,
    Decimal,
    Boolean,
    Date,
    /// datetime fields and the `created_at`/`updated_at` system attributes
    Instant,
    Enum,
    Reference,
    /// the record id
    Id,
    Json,
}

impl Kind {
    fn of(t: FieldType) -> Kind {
        match t {
            FieldType::String | FieldType::Text | FieldType::Url => Kind::Text,
            FieldType::Email => Kind::Email,
            FieldType::Integer => Kind::Integer,
            FieldType::Decimal => Kind::Decimal,
            FieldType::Boolean => Kind::Boolean,
            FieldType::Date => Kind::Date,
            FieldType::Datetime => Kind::Instant,
            FieldType::Enum => Kind::Enum,
            FieldType::Reference => Kind::Reference,
            FieldType::Json => Kind::Json,
        }
    }

    /// The operators that make sense on this kind of value.
    pub fn ops(self) -> &'static [Op] {
        use Op::*;
        match self {
            Kind::Text | Kind::Email => &[Eq, Ne, Gt, Gte, Lt, Lte, In, Contains, StartsWith, IsNull],
            Kind::Integer | Kind::Decimal | Kind::Date | Kind::Instant => &[Eq, Ne, Gt, Gte, Lt, Lte, In, IsNull],
            Kind::Boolean => &[Eq, Ne, IsNull],
            Kind::Enum | Kind::Reference => &[Eq, Ne, In, IsNull],
            Kind::Id => &[Eq, Ne, Gt, Gte, Lt, Lte, In, StartsWith],
            Kind::Json => &[IsNull],
        }
    }
}

/// A field a query may name: a model field or one of the system attributes `id`, `created_at`, `updated_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    pub name: String,
    pub kind: Kind,
    /// `id`, `created_at` or `updated_at`: never absent.
    pub system: bool,
    pub sensitive: bool,
    /// Allowed values of an enum.
    pub values: Vec<String>,
}

impl FieldRef {
    /// Resolves `name` against the model; `None` when the model has no such field.
    pub fn resolve(model: &Model, name: &str) -> Option<FieldRef> {
        let system =
            |kind| Some(FieldRef { name: name.to_owned(), kind, system: true, sensitive: false, values: vec![] });
        match name {
            "id" => system(Kind::Id),
            "created_at" | "updated_at" => system(Kind::Instant),
            _ => model.field(name).map(|f: &FieldDef| FieldRef {
                name: f.name.clone(),
                kind: Kind::of(f.field_type),
                system: false,
                sensitive: f.sensitive,
                values: f.values.clone().unwrap_or_default(),
            }),
        }
    }

    /// The raw JSON value the record holds for this field (`Null` when absent).
    pub fn raw(&self, r: &Record) -> Value {
        match self.name.as_str() {
            "id" if self.system => Value::String(r.id.clone()),
            "created_at" if self.system => Value::String(r.created_at.clone()),
            "updated_at" if self.system => Value::String(r.updated_at.clone()),
            _ => r.attributes.get(&self.name).cloned().unwrap_or(Value::Null),
        }
    }

    /// The comparable value the record holds for this field.
    pub fn value(&self, r: &Record) -> Option<Scalar> {
        self.scalar(&self.raw(r))
    }

    /// A stored JSON value as a comparable scalar; `None` for null (and for values of no comparable shape).
    pub fn scalar(&self, v: &Value) -> Option<Scalar> {
        match self.kind {
            Kind::Text | Kind::Enum | Kind::Reference | Kind::Id => v.as_str().map(|s| Scalar::Str(s.to_owned())),
            Kind::Email => v.as_str().map(|s| Scalar::Str(s.to_lowercase())),
            Kind::Integer => v.as_i64().map(Scalar::Int).or_else(|| v.as_f64().map(Scalar::Num)),
            Kind::Decimal => v.as_f64().map(Scalar::Num),
            Kind::Boolean => v.as_bool().map(Scalar::Bool),
            Kind::Date => v.as_str().and_then(parse_date).map(Scalar::Date),
            Kind::Instant => v.as_str().and_then(parse_instant).map(Scalar::Instant),
            Kind::Json => None,
        }
    }

    /// Parses a filter value given in a query string for this field.
    pub fn parse_value(&self, raw: &str) -> Result<Scalar, String> {
        let name = &self.name;
        match self.kind {
            Kind::Text => Ok(Scalar::Str(raw.to_owned())),
            Kind::Email => Ok(Scalar::Str(raw.trim().to_lowercase())),
            Kind::Integer => raw
                .trim()
                .parse::<i64>()
                .map(Scalar::Int)
                .map_err(|_| format!("`{name}` is an integer field; `{raw}` is not a whole number")),
            Kind::Decimal => raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Scalar::Num)
                .ok_or_else(|| format!("`{name}` is a decimal field; `{raw}` is not a number")),
            Kind::Boolean => match raw {
                "true" => Ok(Scalar::Bool(true)),
                "false" => Ok(Scalar::Bool(false)),
                _ => Err(format!("`{name}` is a boolean field; use true or false, not `{raw}`")),
            },
            Kind::Date => parse_date(raw)
                .map(Scalar::Date)
                .ok_or_else(|| format!("`{name}` is a date field; `{raw}` is not a date in the form YYYY-MM-DD")),
            Kind::Instant => parse_instant(raw)
                // `+` in an unencoded query string arrives as a space
                .or_else(|| parse_instant(&raw.replace(' ', "+")))
                .map(Scalar::Instant)
                .ok_or_else(|| {
                    format!("`{name}` is a date-time; `{raw}` is not an RFC 3339 date-time (e.g. 2026-01-31T09:30:00Z)")
                }),
            Kind::Enum => {
                if self.values.iter().any(|v| v == raw) {
                    Ok(Scalar::Str(raw.to_owned()))
                } else {
                    Err(format!("`{raw}` is not a value of the enum `{name}` (one of: {})", self.values.join(", ")))
                }
            }
            Kind::Reference | Kind::Id => {
                if is_valid_record_id(raw) {
                    Ok(Scalar::Str(raw.to_owned()))
                } else {
                    Err(format!("`{raw}` is not a record id"))
                }
            }
            Kind::Json => Err(format!("`{name}` is a json field; only isNull applies to it")),
        }
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().filter(|_| s.len() == 10)
}

fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// A comparable value.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Str(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

impl Scalar {
    /// Orders two values of one field. Integers and decimals compare numerically across the two.
    pub fn compare(&self, other: &Scalar) -> Ordering {
        use Scalar::*;
        match (self, other) {
            (Str(a), Str(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Int(a), Num(b)) => (*a as f64).total_cmp(b),
            (Num(a), Int(b)) => a.total_cmp(&(*b as f64)),
            (Num(a), Num(b)) => a.total_cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Instant(a), Instant(b)) => a.cmp(b),
            // values of one field share a kind; mixed shapes only come from corrupt data and compare equal
            _ => Ordering::Equal,
        }
    }
}

/// One parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: FieldRef,
    pub op: Op,
    /// One value, or the list of `in`; empty for `isNull`.
    pub values: Vec<Scalar>,
    /// The value of `isNull`.
    pub is_null: bool,
}

impl Filter {
    pub fn matches(&self, r: &Record) -> bool {
        if self.op == Op::IsNull {
            return self.field.raw(r).is_null() == self.is_null;
        }
        let Some(v) = self.field.value(r) else {
            return self.op == Op::Ne;
        };
        let first = || self.values.first();
        let cmp = || first().map(|x| v.compare(x));
        match self.op {
            Op::Eq => cmp() == Some(Ordering::Equal),
            Op::Ne => cmp() != Some(Ordering::Equal),
            Op::Gt => cmp() == Some(Ordering::Greater),
            Op::Gte => matches!(cmp(), Some(Ordering::Greater | Ordering::Equal)),
            Op::Lt => cmp() == Some(Ordering::Less),
            Op::Lte => matches!(cmp(), Some(Ordering::Less | Ordering::Equal)),
            Op::In => self.values.iter().any(|x| v.compare(x) == Ordering::Equal),
            Op::Contains | Op::StartsWith => match (&v, first()) {
                (Scalar::Str(s), Some(Scalar::Str(needle))) => {
                    if self.op == Op::Contains {
                        s.contains(needle.as_str())
                    } else {
                        s.starts_with(needle.as_str())
                    }
                }
                _ => false,
            },
            Op::IsNull => unreachable!("handled above"),
        }
    }

    /// A canonical text of the filter, for the query fingerprint.
    fn canonical(&self) -> String {
        format!("{}\u{1f}{}\u{1f}{}\u{1f}{:?}", self.field.name, self.op.as_str(), self.is_null, self.values)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub field: FieldRef,
    pub descending: bool,
}

/// Why a query parameter was refused: the parameter (`source.parameter`), a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub parameter: String,
    pub code: &'static str,
    pub detail: String,
}

impl QueryError {
    pub fn new(parameter: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        Self { parameter: parameter.into(), code, detail: detail.into() }
    }
}

/// A bound of an id range (`inclusive` or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdBound {
    pub id: String,
    pub inclusive: bool,
}

/// What the filters on `id` say about which ids can match: the key conditions a store can serve directly.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdPlan {
    pub lower: Option<IdBound>,
    pub upper: Option<IdBound>,
    /// From `eq`/`in` filters: only these ids can match (sorted, distinct).
    pub ids: Option<Vec<String>>,
}

impl IdPlan {
    /// Narrows the lower bound (keeps the tighter of the two).
    pub fn raise_lower(&mut self, b: IdBound) {
        let tighter = match &self.lower {
            None => true,
            Some(cur) => b.id > cur.id || (b.id == cur.id && !b.inclusive),
        };
        if tighter {
            self.lower = Some(b);
        }
    }

    /// Narrows the upper bound (keeps the tighter of the two).
    pub fn lower_upper(&mut self, b: IdBound) {
        let tighter = match &self.upper {
            None => true,
            Some(cur) => b.id < cur.id || (b.id == cur.id && !b.inclusive),
        };
        if tighter {
            self.upper = Some(b);
        }
    }

    /// True when no id can satisfy the bounds.
    pub fn is_empty(&self) -> bool {
        if self.ids.as_ref().is_some_and(Vec::is_empty) {
            return true;
        }
        match (&self.lower, &self.upper) {
            (Some(l), Some(u)) => l.id > u.id || (l.id == u.id && !(l.inclusive && u.inclusive)),
            _ => false,
        }
    }

    /// Whether an id lies within the bounds.
    pub fn admits(&self, id: &str) -> bool {
        let above = self.lower.as_ref().is_none_or(|l| id > l.id.as_str() || (l.inclusive && id == l.id));
        let below = self.upper.as_ref().is_none_or(|u| id < u.id.as_str() || (u.inclusive && id == u.id));
        above && below
    }
}

/// A boolean combination of filters (GraphQL's `and`/`or`/`not`); the query string only ever ANDs.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Leaf(Filter),
}

impl Condition {
    pub fn matches(&self, r: &Record) -> bool {
        match self {
            Condition::All(cs) => cs.iter().all(|c| c.matches(r)),
            Condition::Any(cs) => cs.iter().any(|c| c.matches(r)),
            Condition::Not(c) => !c.matches(r),
            Condition::Leaf(f) => f.matches(r),
        }
    }

    fn canonical(&self) -> String {
        let many = |tag: &str, cs: &[Condition]| {
            let mut parts: Vec<String> = cs.iter().map(Condition::canonical).collect();
            parts.sort();
            format!("{tag}({})", parts.join("\u{1c}"))
        };
        match self {
            Condition::All(cs) => many("all", cs),
            Condition::Any(cs) => many("any", cs),
            Condition::Not(c) => format!("not({})", c.canonical()),
            Condition::Leaf(f) => f.canonical(),
        }
    }
}

/// Filters and sort of one list request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// Filters every record must match (the ones the store can turn into key conditions are taken from here).
    pub filters: Vec<Filter>,
    /// A further condition with `or`/`not`, evaluated on each record read.
    pub condition: Option<Condition>,
    pub sort: Vec<SortKey>,
}

/// A sort position: the sort-key values of a record (as stored JSON) and its id. Cursors carry one.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub key: Vec<Option<Scalar>>,
    pub id: String,
}

impl Query {
    /// Parses the `filter[...]` and `sort` parameters among `params` (others are left to the caller).
    pub fn parse(model: &Model, params: &[(String, String)]) -> Result<Query, QueryError> {
        let mut q = Query::default();
        let mut sort_seen = false;
        for (k, v) in params {
            if k == "sort" {
                if sort_seen {
                    return Err(QueryError::new("sort", "invalid-parameter", "`sort` may be given once"));
                }
                sort_seen = true;
                q.sort = parse_sort(model, v)?;
            } else if k.starts_with("filter[") || k == "filter" {
                q.filters.push(parse_filter(model, k, v)?);
                if q.filters.len() > MAX_FILTERS {
                    return Err(QueryError::new(
                        k.clone(),
                        "too-many-filters",
                        format!("a request may carry at most {MAX_FILTERS} filters"),
                    ));
                }
            }
        }
        Ok(q)
    }

    pub fn matches(&self, r: &Record) -> bool {
        self.filters.iter().all(|f| f.matches(r)) && self.condition.as_ref().is_none_or(|c| c.matches(r))
    }

    /// `Some(descending)` when the order is the id order the store keeps (no sort, or `sort=id` / `sort=-id`).
    pub fn id_order(&self) -> Option<bool> {
        match self.sort.as_slice() {
            [] => Some(false),
            [k] if k.field.kind == Kind::Id => Some(k.descending),
            _ => None,
        }
    }

    /// The sort key of a record.
    pub fn key_of(&self, r: &Record) -> Vec<Option<Scalar>> {
        self.sort.iter().map(|k| k.field.value(r)).collect()
    }

    /// The sort-key values of a record as stored JSON (what a cursor carries).
    pub fn raw_key_of(&self, r: &Record) -> Vec<Value> {
        self.sort.iter().map(|k| k.field.raw(r)).collect()
    }

    /// A cursor's JSON values back into a position; `None` when they do not fit the sort (a forged cursor, or a
    /// model that changed type underneath it).
    pub fn position(&self, values: &[Value], id: &str) -> Option<Position> {
        if values.len() != self.sort.len() || !is_valid_record_id(id) {
            return None;
        }
        let mut key = Vec::with_capacity(values.len());
        for (k, v) in self.sort.iter().zip(values) {
            match (v, k.field.scalar(v)) {
                (Value::Null, _) => key.push(None),
                (_, Some(s)) => key.push(Some(s)),
                (_, None) => return None,
            }
        }
        Some(Position { key, id: id.to_owned() })
    }

    /// Orders two (key, id) pairs by the sort, nulls last ascending, id ascending as the final tie-breaker.
    pub fn compare_keys(&self, a: &[Option<Scalar>], a_id: &str, b: &[Option<Scalar>], b_id: &str) -> Ordering {
        for ((k, x), y) in self.sort.iter().zip(a).zip(b) {
            let o = match (x, y) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => x.compare(y),
            };
            let o = if k.descending { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a_id.cmp(b_id)
    }

    pub fn compare(&self, a: &Record, b: &Record) -> Ordering {
        self.compare_keys(&self.key_of(a), &a.id, &self.key_of(b), &b.id)
    }

    /// Whether `r` comes strictly after `p` in this query's order.
    pub fn is_after(&self, r: &Record, p: &Position) -> bool {
        self.compare_keys(&self.key_of(r), &r.id, &p.key, &p.id) == Ordering::Greater
    }

    /// What the `id` filters allow, as key conditions.
    pub fn id_plan(&self) -> IdPlan {
        let mut plan = IdPlan::default();
        for f in self.filters.iter().filter(|f| f.field.kind == Kind::Id) {
            let ids: Vec<String> =
                f.values.iter().filter_map(|v| if let Scalar::Str(s) = v { Some(s.clone()) } else { None }).collect();
            let Some(first) = ids.first().cloned() else { continue };
            let bound = |inclusive| IdBound { id: first.clone(), inclusive };
            match f.op {
                Op::Eq | Op::In => {
                    let mut set: Vec<String> = match plan.ids.take() {
                        None => ids,
                        Some(prev) => prev.into_iter().filter(|i| ids.contains(i)).collect(),
                    };
                    set.sort();
                    set.dedup();
                    plan.ids = Some(set);
                }
                Op::Gt => plan.raise_lower(bound(false)),
                Op::Gte => plan.raise_lower(bound(true)),
                Op::Lt => plan.lower_upper(bound(false)),
                Op::Lte => plan.lower_upper(bound(true)),
                Op::StartsWith => {
                    // Ids use only characters up to `z`, so every id starting with p lies in [p, p + "{").
                    plan.raise_lower(bound(true));
                    plan.lower_upper(IdBound { id: format!("{first}{{"), inclusive: false });
                }
                _ => {}
            }
        }
        plan
    }

    /// A fingerprint of what the query selects and how it orders, bound into cursors: a cursor made for one
    /// query is refused by another. Filter order does not matter (they AND together).
    pub fn fingerprint(&self, entity: &str) -> String {
        let mut filters: Vec<String> = self.filters.iter().map(Filter::canonical).collect();
        filters.sort();
        let sort: Vec<String> =
            self.sort.iter().map(|k| format!("{}{}", if k.descending { "-" } else { "" }, k.field.name)).collect();
        if let Some(c) = &self.condition {
            filters.push(c.canonical());
        }
        let text = format!("{entity}\u{1e}{}\u{1e}{}", filters.join("\u{1d}"), sort.join(","));
        hex::encode(&Sha256::digest(text.as_bytes())[..16])
    }
}

mod parse;
use parse::{parse_filter, parse_sort};

#[cfg(test)]
mod tests;
