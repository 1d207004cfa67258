//! Checking a spec against the columns and the model, and compiling it once (column indices, regexes, date formats,
//! case-folded value maps) so applying it to each row does no parsing.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{FixedOffset, TimeZone};
use hw_domain::model::{FieldType, Model};
use regex::Regex;
use serde_json::Value;

use super::{ImportSpec, MAX_PATTERN_LEN, Rule, SpecError, pointer_segment};

/// A validated spec, ready for [`super::apply`].
#[derive(Debug, Clone)]
pub struct CompiledSpec {
    pub(super) fields: Vec<Field>,
}

impl CompiledSpec {
    /// The fields the spec fills, in model order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }
}

#[derive(Debug, Clone)]
pub(super) struct Field {
    pub name: String,
    pub field_type: FieldType,
    /// Index of the mapped column.
    pub column: Option<usize>,
    /// What errors call the source: the column, or the field for built values.
    pub source: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub(super) enum Step {
    Trim,
    Lower,
    Upper,
    Title,
    Default(String),
    ValueMap { map: HashMap<String, String>, ignore_case: bool },
    DateFormat(DateFormat),
    Split { separator: String, index: usize },
    Concat { columns: Vec<usize>, separator: String },
    Replace { regex: Regex, replacement: String },
    Lookup { entity: String, field: String },
}

/// A chrono format parsed once, and what it can produce.
#[derive(Debug, Clone)]
pub(super) struct DateFormat {
    pub text: String,
    pub items: Vec<Item<'static>>,
    pub kind: DateKind,
    /// The field wants a date only.
    pub date_field: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DateKind {
    /// Date, time and offset.
    Offset,
    /// Date and time.
    Naive,
    /// Date only.
    Date,
}

/// Checks `spec` against the source `columns` and the target `model` and compiles it. `lookup` rules are checked
/// against the model only (the field is a reference to the entity); [`validate_spec_with_targets`] also checks the
/// looked-up field is unique in the target model.
pub fn validate_spec(spec: &ImportSpec, columns: &[String], model: &Model) -> Result<CompiledSpec, Vec<SpecError>> {
    validate_spec_with_targets(spec, columns, model, &|_| None)
}

/// As [`validate_spec`], with `targets` giving the model of an entity when it is known, so a `lookup` on a field the
/// target does not have, or that is not unique there, is refused.
pub fn validate_spec_with_targets<'m>(
    spec: &ImportSpec,
    columns: &[String],
    model: &Model,
    targets: &dyn Fn(&str) -> Option<&'m Model>,
) -> Result<CompiledSpec, Vec<SpecError>> {
    let mut errors = Vec::new();
    let mut err = |path: String, code: &'static str, message: String| errors.push(SpecError { path, code, message });
    let column_index: HashMap<&str, usize> = columns.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();

    // field → column index, from the mapping.
    let mut sources: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
    for (column, field) in &spec.mapping {
        let path = format!("/mapping/{}", pointer_segment(column));
        let index = column_index.get(column.as_str()).copied();
        if index.is_none() {
            err(path.clone(), "unknown-column", format!("the file has no column {column:?}"));
        }
        if model.field(field).is_none() {
            err(path, "unknown-field", format!("{} has no field {field:?}", model.name));
            continue;
        }
        if let Some((_, first)) = sources.get(field.as_str()) {
            err(path, "field-mapped-twice", format!("field {field:?} is already filled from column {first:?}"));
        } else if let Some(i) = index {
            sources.insert(field, (i, column));
        }
    }
    for field in spec.rules.keys() {
        if model.field(field).is_none() {
            err(
                format!("/rules/{}", pointer_segment(field)),
                "unknown-field",
                format!("{} has no field {field:?}", model.name),
            );
        }
    }

    let mut fields = Vec::new();
    for def in &model.fields {
        let rules = spec.rules.get(&def.name).map(Vec::as_slice).unwrap_or_default();
        let source = sources.get(def.name.as_str()).copied();
        if source.is_none() && rules.is_empty() {
            continue;
        }
        let base = format!("/rules/{}", pointer_segment(&def.name));
        let builds = rules.iter().any(|r| matches!(r, Rule::Concat { .. } | Rule::Default { .. }));
        if source.is_none() && !builds {
            err(base.clone(), "no-source", format!("field {:?} has rules but no column, concat or default", def.name));
        }
        let mut steps = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let path = format!("{base}/{i}");
            let last = i + 1 == rules.len();
            match compile_rule(rule, def, last, &column_index, targets) {
                Ok(step) => steps.push(step),
                Err(problems) => {
                    for (sub, code, message) in problems {
                        err(format!("{path}{sub}"), code, message);
                    }
                }
            }
        }
        let built = rules.iter().any(|r| matches!(r, Rule::Concat { .. }));
        fields.push(Field {
            name: def.name.clone(),
            field_type: def.field_type,
            column: source.map(|(i, _)| i),
            source: match source {
                Some((_, column)) if !built => column.to_owned(),
                _ => def.name.clone(),
            },
            steps,
        });
    }
    if errors.is_empty() { Ok(CompiledSpec { fields }) } else { Err(errors) }
}

/// (path below the rule, code, message)
type RuleProblem = (String, &'static str, String);

fn compile_rule<'m>(
    rule: &Rule,
    def: &hw_domain::model::FieldDef,
    last: bool,
    columns: &HashMap<&str, usize>,
    targets: &dyn Fn(&str) -> Option<&'m Model>,
) -> Result<Step, Vec<RuleProblem>> {
    let one = |sub: &str, code, message: String| Err(vec![(sub.to_owned(), code, message)]);
    Ok(match rule {
        Rule::Trim {} => Step::Trim,
        Rule::Lowercase {} => Step::Lower,
        Rule::Uppercase {} => Step::Upper,
        Rule::Titlecase {} => Step::Title,
        Rule::Default { value } => {
            let text = match value {
                Value::Null => return one("/value", "bad-default", "a default cannot be null".into()),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // As the last rule the default is the field's value as is: check it converts.
            if last && let Err(reason) = crate::convert::convert(def.field_type, &text) {
                return one(
                    "/value",
                    "bad-default",
                    format!("the default does not fit field {:?}: {reason}", def.name),
                );
            }
            Step::Default(text)
        }
        Rule::ValueMap { map, ignore_case } => {
            let mut folded: HashMap<String, String> = HashMap::new();
            for (from, to) in map {
                let key = if *ignore_case { from.to_lowercase() } else { from.clone() };
                if folded.insert(key, to.clone()).is_some() {
                    return one("/map", "ambiguous-map", format!("{from:?} collides with another key ignoring case"));
                }
            }
            Step::ValueMap { map: folded, ignore_case: *ignore_case }
        }
        Rule::DateFormat { format } => {
            if !matches!(def.field_type, FieldType::Date | FieldType::Datetime) {
                return one(
                    "",
                    "wrong-field-type",
                    format!("date_format needs a date or datetime field, not {}", def.field_type.as_str()),
                );
            }
            let parsed = compile_date_format(format).map_err(|m| vec![("/format".to_owned(), "bad-date-format", m)])?;
            Step::DateFormat(DateFormat { date_field: def.field_type == FieldType::Date, ..parsed })
        }
        Rule::Split { separator, index } => {
            if separator.is_empty() {
                return one("/separator", "empty-separator", "the separator cannot be empty".into());
            }
            Step::Split { separator: separator.clone(), index: *index }
        }
        Rule::Concat { columns: names, separator } => {
            if names.is_empty() {
                return one("/columns", "no-columns", "concat needs at least one column".into());
            }
            let mut indices = Vec::new();
            let mut problems = Vec::new();
            for (j, name) in names.iter().enumerate() {
                match columns.get(name.as_str()) {
                    Some(&i) => indices.push(i),
                    None => problems.push((
                        format!("/columns/{j}"),
                        "unknown-column",
                        format!("the file has no column {name:?}"),
                    )),
                }
            }
            if !problems.is_empty() {
                return Err(problems);
            }
            Step::Concat { columns: indices, separator: separator.clone() }
        }
        Rule::RegexReplace { pattern, replacement } => {
            if pattern.len() > MAX_PATTERN_LEN {
                return one("/pattern", "pattern-too-long", format!("patterns are limited to {MAX_PATTERN_LEN} bytes"));
            }
            let regex = regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| vec![("/pattern".to_owned(), "bad-regex", e.to_string())])?;
            Step::Replace { regex, replacement: replacement.clone() }
        }
        Rule::Lookup { entity, field } => {
            let mut problems = Vec::new();
            if !last {
                problems.push((String::new(), "lookup-not-last", "lookup must be the last rule of a field".into()));
            }
            if def.field_type != FieldType::Reference {
                problems.push((
                    String::new(),
                    "wrong-field-type",
                    format!("lookup needs a reference field, not {}", def.field_type.as_str()),
                ));
            } else if def.target.as_deref() != Some(entity.as_str()) {
                let target = def.target.as_deref().unwrap_or("nothing");
                problems.push((
                    "/entity".into(),
                    "wrong-target",
                    format!("field {:?} references {target}, not {entity}", def.name),
                ));
            }
            if let Some(target) = targets(entity) {
                match target.field(field) {
                    None => {
                        problems.push(("/field".into(), "unknown-field", format!("{entity} has no field {field:?}")))
                    }
                    Some(f) if !f.unique => problems.push((
                        "/field".into(),
                        "lookup-field-not-unique",
                        format!("{entity}.{field} is not unique: a value could match several records"),
                    )),
                    Some(_) => {}
                }
            }
            if !problems.is_empty() {
                return Err(problems);
            }
            Step::Lookup { entity: entity.clone(), field: field.clone() }
        }
    })
}

/// Parses `format` once and finds out what it yields, by formatting a known instant (with an offset, so every
/// specifier can be rendered) and reading it back.
fn compile_date_format(format: &str) -> Result<DateFormat, String> {
    let items =
        StrftimeItems::new(format).parse_to_owned().map_err(|_| format!("{format:?} is not a valid date format"))?;
    let sample = FixedOffset::east_opt(2 * 3600)
        .and_then(|o| o.with_ymd_and_hms(2001, 2, 3, 4, 5, 6).single())
        .ok_or("no sample instant")?;
    let mut text = String::new();
    write!(text, "{}", sample.format_with_items(items.iter())).map_err(|_| format!("{format:?} cannot be rendered"))?;
    let mut parsed = Parsed::new();
    chrono::format::parse(&mut parsed, &text, items.iter())
        .map_err(|e| format!("{format:?} cannot be read back: {e}"))?;
    let kind = if parsed.to_datetime().is_ok() {
        DateKind::Offset
    } else if parsed.to_naive_datetime_with_offset(0).is_ok() {
        DateKind::Naive
    } else if parsed.to_naive_date().is_ok() {
        DateKind::Date
    } else {
        return Err(format!("{format:?} does not contain a full date (year, month and day)"));
    };
    Ok(DateFormat { text: format.to_owned(), items, kind, date_field: false })
}
