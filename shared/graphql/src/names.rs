//! How model and field names become GraphQL names. External checks rely on these rules (the README's naming
//! contract): for a model `contact`, root fields `contact` and `contacts`, mutations `createContact`,
//! `updateContact`, `deleteContact`, `upsertContact`, subscriptions `contactCreated`, `contactUpdated`,
//! `contactDeleted`; a reference `company` on `contact` gives `contact.company` and `company.contacts`, or
//! `company.contactsByCompany` when `contact` has two references to `company`.

/// `sales_order` → `SalesOrder`.
pub fn pascal(name: &str) -> String {
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// `sales_order` → `salesOrder`.
pub fn camel(name: &str) -> String {
    let p = pascal(name);
    let mut c = p.chars();
    c.next().map(|f| f.to_ascii_lowercase().to_string() + c.as_str()).unwrap_or_default()
}

/// `first_name` → `FIRST_NAME` (sort enum values).
pub fn upper(name: &str) -> String {
    name.to_ascii_uppercase()
}

/// Words whose plural is not made by a rule.
const IRREGULAR: &[(&str, &str)] = &[
    ("person", "people"),
    ("child", "children"),
    ("man", "men"),
    ("woman", "women"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("foot", "feet"),
    ("tooth", "teeth"),
    ("ox", "oxen"),
    ("leaf", "leaves"),
    ("life", "lives"),
    ("knife", "knives"),
    ("wife", "wives"),
    ("half", "halves"),
    ("shelf", "shelves"),
    ("wolf", "wolves"),
    ("analysis", "analyses"),
    ("criterion", "criteria"),
    ("datum", "data"),
    ("index", "indices"),
    ("matrix", "matrices"),
    ("vertex", "vertices"),
    ("quiz", "quizzes"),
];

/// Words that are their own plural.
const UNCOUNTABLE: &[&str] =
    &["series", "species", "news", "sheep", "fish", "deer", "equipment", "information", "software", "feedback"];

/// The English plural of the last word of a snake_case name: `company` → `companies`, `address` →
/// `addresses`, `sales_person` → `sales_people`, `key` → `keys`. Words that are their own plural stay as they
/// are (the caller then adds `List`).
pub fn plural(name: &str) -> String {
    let (head, word) = match name.rsplit_once('_') {
        Some((h, w)) => (format!("{h}_"), w),
        None => (String::new(), name),
    };
    format!("{head}{}", plural_word(word))
}

fn plural_word(w: &str) -> String {
    if UNCOUNTABLE.contains(&w) {
        return w.to_owned();
    }
    if let Some((_, p)) = IRREGULAR.iter().find(|(s, _)| *s == w) {
        return (*p).to_owned();
    }
    let vowel = |c: char| "aeiou".contains(c);
    let before_last = w.chars().rev().nth(1);
    if let Some(stem) = w.strip_suffix('y')
        && before_last.is_some_and(|c| !vowel(c))
    {
        return format!("{stem}ies");
    }
    if ["s", "x", "z", "ch", "sh"].iter().any(|s| w.ends_with(s)) {
        return format!("{w}es");
    }
    if w.ends_with('o') && before_last.is_some_and(|c| !vowel(c)) && ["hero", "potato", "tomato", "echo"].contains(&w) {
        return format!("{w}es");
    }
    format!("{w}s")
}

/// The root field of an entity's connection: the camelCase plural, or `{singular}List` when the plural is the
/// singular (`series` → `seriesList`).
pub fn list_field(entity: &str) -> String {
    let p = plural(entity);
    if p == entity { format!("{}List", camel(entity)) } else { camel(&p) }
}

/// A model enum value that may be a GraphQL enum value (`Name` of the GraphQL grammar, not true/false/null).
pub fn is_enum_value_name(v: &str) -> bool {
    let mut c = v.chars();
    c.next().is_some_and(|f| f == '_' || f.is_ascii_alphabetic())
        && c.all(|x| x == '_' || x.is_ascii_alphanumeric())
        && !matches!(v, "true" | "false" | "null")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_follow_english_rules() {
        for (s, p) in [
            ("contact", "contacts"),
            ("company", "companies"),
            ("key", "keys"),
            ("address", "addresses"),
            ("box", "boxes"),
            ("branch", "branches"),
            ("wish", "wishes"),
            ("person", "people"),
            ("sales_person", "sales_people"),
            ("order_item", "order_items"),
            ("series", "series"),
            ("status", "statuses"),
            ("hero", "heroes"),
            ("photo", "photos"),
            ("day", "days"),
        ] {
            assert_eq!(plural(s), p, "{s}");
        }
    }

    #[test]
    fn graphql_names() {
        assert_eq!(pascal("sales_order"), "SalesOrder");
        assert_eq!(camel("sales_order"), "salesOrder");
        assert_eq!(list_field("company"), "companies");
        assert_eq!(list_field("sales_order"), "salesOrders");
        assert_eq!(list_field("series"), "seriesList");
        assert!(is_enum_value_name("in_progress"));
        assert!(!is_enum_value_name("in progress"));
        assert!(!is_enum_value_name("1st"));
        assert!(!is_enum_value_name("true"));
    }
}
