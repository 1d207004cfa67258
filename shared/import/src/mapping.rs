//! Column → field suggestions by name similarity and type compatibility.

use std::collections::BTreeMap;

use hw_domain::model::{FieldDef, FieldType, Model};

use crate::ColumnType;

/// Lowest score that becomes a suggestion.
const MIN_SCORE: u32 = 60;

/// Suggests a field of `model` for each column. Names are compared normalised (case, spaces, underscores, dashes
/// and a simple plural ignored), against the field's name and its label; a column whose name starts or ends with a
/// field's name (`E-mail Address` → `email`, `Company Name` → `company`) is a weaker match. Only type-compatible
/// pairs count. Best scores are assigned first, and a field is never given to two columns; columns without a good
/// match are absent from the result.
pub fn suggest_mapping(columns: &[ColumnType], model: &Model) -> BTreeMap<String, String> {
    let mut pairs: Vec<(u32, usize, usize)> = Vec::new();
    for (ci, col) in columns.iter().enumerate() {
        for (fi, field) in model.fields.iter().enumerate() {
            if !compatible(col, field) {
                continue;
            }
            let mut score = name_score(&col.name, &field.name);
            if let Some(label) = &field.label {
                score = score.max(name_score(&col.name, label));
            }
            if score >= MIN_SCORE {
                // Same type breaks ties between equally named candidates.
                pairs.push((score * 10 + u32::from(col.field_type == field.field_type), ci, fi));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_cols = vec![false; columns.len()];
    let mut used_fields = vec![false; model.fields.len()];
    let mut out = BTreeMap::new();
    for (_, ci, fi) in pairs {
        if !used_cols[ci] && !used_fields[fi] {
            used_cols[ci] = true;
            used_fields[fi] = true;
            out.insert(columns[ci].name.clone(), model.fields[fi].name.clone());
        }
    }
    out
}

/// Lowercase alphanumeric words.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

fn singular(w: &str) -> String {
    if let Some(stem) = w.strip_suffix("ies") {
        format!("{stem}y")
    } else if w.ends_with("sses") || w.ends_with("xes") {
        w[..w.len() - 2].to_owned()
    } else if w.ends_with('s') && !w.ends_with("ss") && w.len() > 3 {
        w[..w.len() - 1].to_owned()
    } else {
        w.to_owned()
    }
}

/// 100 same words, 95 same letters (`E-mail` = `email`), 90 same after singularising, 60-80 when one name is a
/// prefix or suffix of the other (longer overlap scores higher), else 0.
fn name_score(column: &str, field: &str) -> u32 {
    let (cw, fw) = (words(column), words(field));
    if cw.is_empty() || fw.is_empty() {
        return 0;
    }
    if cw == fw {
        return 100;
    }
    let (cc, fc) = (cw.concat(), fw.concat());
    if cc == fc {
        return 95;
    }
    let sing = |ws: &[String]| ws.iter().map(|w| singular(w)).collect::<String>();
    let (cs, fs) = (sing(&cw), sing(&fw));
    if cs == fs {
        return 90;
    }
    let (short, long) = if cs.len() <= fs.len() { (&cs, &fs) } else { (&fs, &cs) };
    if short.len() >= 4 && (long.starts_with(short.as_str()) || long.ends_with(short.as_str())) {
        return 60 + (20 * short.len() / long.len()) as u32;
    }
    0
}

/// Whether values detected as `col` can be stored in `field` without conversion losses.
fn compatible(col: &ColumnType, field: &FieldDef) -> bool {
    use FieldType as T;
    if col.samples.is_empty() {
        return true; // nothing seen, nothing contradicts
    }
    let d = col.field_type;
    match field.field_type {
        T::String | T::Text | T::Json => true,
        T::Enum => matches!(d, T::Enum | T::String | T::Boolean | T::Integer),
        T::Reference => matches!(d, T::String | T::Integer | T::Enum),
        T::Decimal => matches!(d, T::Decimal | T::Integer),
        T::Date => d == T::Date || !col.date_candidates.is_empty(),
        T::Datetime => matches!(d, T::Datetime | T::Date),
        T::Boolean => d == T::Boolean || (d == T::Integer && col.samples.iter().all(|s| s == "0" || s == "1")),
        other => d == other,
    }
}
