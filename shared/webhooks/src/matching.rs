//! Which events an endpoint wants. Endpoints subscribe to event type patterns, may narrow record events to some
//! entities, and may add a payload filter — conditions on the event's fields — so receivers only get the events
//! they act on instead of discarding most of what we send (and we do not pay for deliveries nobody needs).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::endpoint::Endpoint;

/// Longest event type pattern.
pub const MAX_PATTERN_LEN: usize = 100;
/// Most conditions (operators) one payload filter may hold.
pub const MAX_CONDITIONS: usize = 50;
/// Deepest nesting of `$or` / `$and` / `$not` (the top-level filter is depth 1).
pub const MAX_DEPTH: usize = 5;
/// Longest path in a filter or template.
pub const MAX_PATH_LEN: usize = 256;

/// Why an event type pattern, a path or a payload filter is refused; the messages are shown to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("an event type pattern must not be empty; use `*` for every event")]
    EmptyPattern,
    #[error("an event type pattern has at most {MAX_PATTERN_LEN} characters")]
    PatternTooLong,
    #[error(
        "`{0}` is not a valid event type pattern: use `*`, an exact type such as `record.created`, or a prefix \
         followed by `.*` such as `record.*` (segments are a lowercase letter followed by lowercase letters, digits \
         or underscores; `*` may only stand alone or as the last segment)"
    )]
    InvalidPattern(String),
    #[error("the path is empty")]
    EmptyPath,
    #[error("the path is longer than {MAX_PATH_LEN} characters")]
    PathTooLong,
    #[error(
        "`{0}` is not a valid path: use dot-separated names or array indexes from the envelope root, such as \
         `type`, `data.entity` or `data.record.attributes.status`"
    )]
    InvalidPath(String),
    #[error("a filter holds at most {MAX_CONDITIONS} conditions, not {0}")]
    TooManyConditions(usize),
    #[error("filters nest at most {MAX_DEPTH} levels deep")]
    TooDeep,
    #[error("a filter is an object of `\"<path>\": {{\"<operator>\": value}}` conditions")]
    NotAnObject,
    #[error("unknown combinator `{0}`: use `$or`, `$and` or `$not`")]
    UnknownCombinator(String),
    #[error("`{0}` takes a non-empty array of filters")]
    NotAFilterList(String),
    #[error("the conditions on `{0}` must be an object such as {{\"eq\": \"value\"}}")]
    NotConditions(String),
    #[error("no condition is given for `{0}`")]
    NoCondition(String),
    #[error("unknown operator `{0}`: use eq, ne, gt, gte, lt, lte, in, contains, startsWith or exists")]
    UnknownOperator(String),
    #[error("`{operator}` takes {expected}")]
    WrongOperand { operator: String, expected: &'static str },
}

/// Checks an event type pattern: `*`, an exact dotted type (`record.created`) or a prefix followed by `.*`
/// (`record.*`). Segments are a lowercase letter followed by lowercase letters, digits or underscores.
pub fn validate_pattern(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Err(FilterError::EmptyPattern.to_string());
    }
    if p.len() > MAX_PATTERN_LEN {
        return Err(FilterError::PatternTooLong.to_string());
    }
    if p == "*" {
        return Ok(());
    }
    let prefix = p.strip_suffix(".*").unwrap_or(p);
    for segment in prefix.split('.') {
        if !is_type_segment(segment) {
            return Err(FilterError::InvalidPattern(p.to_owned()).to_string());
        }
    }
    Ok(())
}

fn is_type_segment(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Whether `event_type` matches `pattern`: `*` matches every type, `a.*` every type below `a` (any depth), any
/// other pattern only itself.
pub fn type_matches(pattern: &str, event_type: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) if prefix.ends_with('.') => event_type.len() > prefix.len() && event_type.starts_with(prefix),
        _ => pattern == event_type,
    }
}

/// Checks a dotted path into the event (`data.record.status`, `data.items.0.id`).
pub fn validate_path(path: &str) -> Result<(), String> {
    check_path(path).map_err(|e| e.to_string())
}

fn check_path(path: &str) -> Result<(), FilterError> {
    if path.is_empty() {
        return Err(FilterError::EmptyPath);
    }
    if path.len() > MAX_PATH_LEN {
        return Err(FilterError::PathTooLong);
    }
    let segment_ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !path.split('.').all(segment_ok) {
        return Err(FilterError::InvalidPath(path.to_owned()));
    }
    Ok(())
}

/// The value at a dotted path; numeric segments index arrays. `None` when the path leads nowhere.
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(root, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// A parsed payload filter: conditions on the serialised event envelope.
///
/// ```json
/// {"data.entity": {"in": ["contact", "company"]},
///  "$or": [{"type": {"eq": "record.created"}}, {"data.record.attributes.status": {"ne": "draft"}}]}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadFilter {
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Cond { path: String, op: Op },
}

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Eq(Value),
    Ne(Value),
    Cmp(Ordering, bool, Value),
    In(Vec<Value>),
    Contains(Value),
    StartsWith(String),
    Exists(bool),
}

impl PayloadFilter {
    /// Parses a filter, reporting every problem as `(location in the filter, message)`.
    pub fn parse(v: &Value) -> Result<PayloadFilter, Vec<(String, String)>> {
        let mut p = Parser { errors: Vec::new(), conditions: 0 };
        let root = p.filter(v, "", 1);
        if p.conditions > MAX_CONDITIONS {
            p.errors.push((String::new(), FilterError::TooManyConditions(p.conditions).to_string()));
        }
        if p.errors.is_empty() { Ok(PayloadFilter { root }) } else { Err(p.errors) }
    }

    /// Whether the serialised envelope satisfies the filter.
    pub fn matches(&self, event: &Value) -> bool {
        self.root.eval(event)
    }
}

struct Parser {
    errors: Vec<(String, String)>,
    conditions: usize,
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn wrong(operator: &str, expected: &'static str) -> FilterError {
    FilterError::WrongOperand { operator: operator.to_owned(), expected }
}

impl Parser {
    fn err(&mut self, at: &str, e: FilterError) -> Node {
        self.errors.push((at.to_owned(), e.to_string()));
        Node::All(vec![])
    }

    fn filter(&mut self, v: &Value, at: &str, depth: usize) -> Node {
        if depth > MAX_DEPTH {
            return self.err(at, FilterError::TooDeep);
        }
        let Value::Object(m) = v else {
            return self.err(at, FilterError::NotAnObject);
        };
        let mut all = Vec::new();
        for (key, value) in m {
            let here = format!("{at}/{}", escape(key));
            let node = match key.as_str() {
                "$or" | "$and" => self.list(key, value, &here, depth),
                "$not" => Node::Not(Box::new(self.filter(value, &here, depth + 1))),
                k if k.starts_with('$') => self.err(&here, FilterError::UnknownCombinator(k.to_owned())),
                path => self.conditions(path, value, &here),
            };
            all.push(node);
        }
        if all.len() == 1 { all.pop().expect("one node") } else { Node::All(all) }
    }

    fn list(&mut self, key: &str, value: &Value, at: &str, depth: usize) -> Node {
        match value {
            Value::Array(items) if !items.is_empty() => {
                let nodes = items.iter().enumerate().map(|(i, f)| self.filter(f, &format!("{at}/{i}"), depth + 1));
                let nodes = nodes.collect();
                if key == "$or" { Node::Any(nodes) } else { Node::All(nodes) }
            }
            _ => self.err(at, FilterError::NotAFilterList(key.to_owned())),
        }
    }

    fn conditions(&mut self, path: &str, value: &Value, at: &str) -> Node {
        if let Err(e) = check_path(path) {
            return self.err(at, e);
        }
        let Value::Object(ops) = value else {
            return self.err(at, FilterError::NotConditions(path.to_owned()));
        };
        if ops.is_empty() {
            return self.err(at, FilterError::NoCondition(path.to_owned()));
        }
        let mut all = Vec::new();
        for (name, operand) in ops {
            self.conditions += 1;
            match operator(name, operand) {
                Ok(op) => all.push(Node::Cond { path: path.to_owned(), op }),
                Err(e) => {
                    self.err(&format!("{at}/{}", escape(name)), e);
                }
            }
        }
        Node::All(all)
    }
}

fn operator(name: &str, operand: &Value) -> Result<Op, FilterError> {
    Ok(match (name, operand) {
        ("eq", x) => Op::Eq(x.clone()),
        ("ne", x) => Op::Ne(x.clone()),
        ("gt" | "gte" | "lt" | "lte", x @ (Value::Number(_) | Value::String(_))) => {
            let order = if name.starts_with('g') { Ordering::Greater } else { Ordering::Less };
            Op::Cmp(order, name.ends_with('e'), x.clone())
        }
        ("gt" | "gte" | "lt" | "lte", _) => return Err(wrong(name, "a number or a string")),
        ("in", Value::Array(a)) => Op::In(a.clone()),
        ("in", _) => return Err(wrong(name, "an array of values")),
        ("contains", Value::Null) => return Err(wrong(name, "a substring or an array element, not null")),
        ("contains", x) => Op::Contains(x.clone()),
        ("startsWith", Value::String(s)) => Op::StartsWith(s.clone()),
        ("startsWith", _) => return Err(wrong(name, "a string")),
        ("exists", Value::Bool(b)) => Op::Exists(*b),
        ("exists", _) => return Err(wrong(name, "true or false")),
        (other, _) => return Err(FilterError::UnknownOperator(other.to_owned())),
    })
}

impl Node {
    fn eval(&self, event: &Value) -> bool {
        match self {
            Node::All(nodes) => nodes.iter().all(|n| n.eval(event)),
            Node::Any(nodes) => nodes.iter().any(|n| n.eval(event)),
            Node::Not(node) => !node.eval(event),
            Node::Cond { path, op } => op.holds(lookup(event, path)),
        }
    }
}

impl Op {
    fn holds(&self, value: Option<&Value>) -> bool {
        let Some(v) = value else {
            return matches!(self, Op::Exists(false) | Op::Ne(_));
        };
        match self {
            Op::Eq(x) => json_eq(v, x),
            Op::Ne(x) => !json_eq(v, x),
            Op::Cmp(order, or_equal, x) => compare(v, x).is_some_and(|o| o == *order || (*or_equal && o.is_eq())),
            Op::In(xs) => xs.iter().any(|x| json_eq(v, x)),
            Op::Contains(x) => match (v, x) {
                (Value::String(s), Value::String(sub)) => s.contains(sub.as_str()),
                (Value::Array(items), x) => items.iter().any(|i| json_eq(i, x)),
                _ => false,
            },
            Op::StartsWith(prefix) => v.as_str().is_some_and(|s| s.starts_with(prefix.as_str())),
            Op::Exists(b) => *b,
        }
    }
}

/// JSON equality in which numbers compare by value (`1` equals `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => compare(a, b) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b)),
        (Value::Object(x), Value::Object(y)) => objects_eq(x, y),
        _ => a == b,
    }
}

fn objects_eq(x: &Map<String, Value>, y: &Map<String, Value>) -> bool {
    x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| json_eq(a, b)))
}

/// Numbers compare numerically (exactly for integers), strings lexicographically; other pairs do not compare.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
            (Some(i), Some(j), _, _) => Some(i.cmp(&j)),
            (_, _, Some(i), Some(j)) => Some(i.cmp(&j)),
            _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
        },
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Whether an endpoint wants an event: it is enabled, one of its patterns matches the type, the event's entity (if
/// any) is among its entities (if it lists any), and its payload filter (if any) holds.
pub fn wants(endpoint: &Endpoint, event: &hw_domain::event::Envelope) -> bool {
    if !endpoint.enabled || !endpoint.event_types.iter().any(|p| type_matches(p, &event.event_type)) {
        return false;
    }
    if !endpoint.entities.is_empty()
        && let Some(entity) = event.data.get("entity").and_then(Value::as_str)
        && !endpoint.entities.iter().any(|e| e == entity)
    {
        return false;
    }
    let Some(filter) = &endpoint.payload_filter else {
        return true;
    };
    match PayloadFilter::parse(filter) {
        Ok(f) => serde_json::to_value(event).is_ok_and(|v| f.matches(&v)),
        Err(errors) => {
            tracing::warn!(endpoint = %endpoint.id, ?errors, "stored payload filter does not parse; event not sent");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use hw_domain::event::Envelope;

    fn event() -> Value {
        json!({
            "id": "evt_01", "type": "record.updated", "tenant": "acme", "time": "2026-01-01T00:00:00.000Z",
            "data": {"entity": "contact", "id": "c1", "record": {"attributes": {"status": "active", "score": 42,
                "ratio": 0.5, "email": "ann@example.com", "tags": ["vip", "b2b"], "note": null}},
                "items": [{"sku": "a-1"}, {"sku": "b-2"}]}
        })
    }

    fn check(filter: Value) -> bool {
        PayloadFilter::parse(&filter).unwrap_or_else(|e| panic!("{filter} does not parse: {e:?}")).matches(&event())
    }

    fn locations(filter: Value) -> Vec<String> {
        PayloadFilter::parse(&filter).expect_err("the filter must be refused").into_iter().map(|(at, _)| at).collect()
    }

    #[test]
    fn patterns_are_validated() {
        for ok in ["*", "record.created", "record.*", "webhook.delivery.*", "a1_b.c", "ping"] {
            assert_eq!(validate_pattern(ok), Ok(()), "{ok}");
        }
        for bad in ["", "rec*", "record.", "*.created", "Record.created", "record..created", "record.**", ".*", "1a"] {
            let err = validate_pattern(bad).expect_err(bad);
            assert!(err.contains("pattern"), "{bad}: {err}");
        }
        assert!(validate_pattern(&"a".repeat(MAX_PATTERN_LEN + 1)).unwrap_err().contains("at most 100"));
    }

    #[test]
    fn types_match_exactly_or_below_a_wildcard_prefix() {
        assert!(type_matches("*", "record.created"));
        assert!(type_matches("record.created", "record.created"));
        assert!(!type_matches("record.created", "record.updated"));
        assert!(type_matches("record.*", "record.deleted"));
        assert!(type_matches("webhook.*", "webhook.delivery.exhausted"));
        assert!(!type_matches("record.*", "record"));
        assert!(!type_matches("record.*", "records.created"));
        assert!(!type_matches("rec*", "record.created"));
    }

    #[test]
    fn paths_reach_into_objects_and_arrays() {
        let e = event();
        assert_eq!(lookup(&e, "type"), Some(&json!("record.updated")));
        assert_eq!(lookup(&e, "data.items.1.sku"), Some(&json!("b-2")));
        assert_eq!(lookup(&e, "data.items.7.sku"), None);
        assert_eq!(lookup(&e, "data.entity.x"), None);
        assert!(validate_path("data.items.0").is_ok());
        for bad in ["", "data..id", ".data", "data.", "data id", "data.{x}"] {
            assert!(validate_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn comparison_operators() {
        assert!(check(json!({"type": {"eq": "record.updated"}})));
        assert!(!check(json!({"type": {"ne": "record.updated"}})));
        assert!(check(
            json!({"data.record.attributes.score": {"eq": 42.0, "gt": 41, "gte": 42, "lt": 42.5, "lte": 42}})
        ));
        assert!(!check(json!({"data.record.attributes.score": {"gt": 42}})));
        assert!(check(json!({"data.record.attributes.ratio": {"lt": 1, "gt": 0}})));
        assert!(check(json!({"data.record.attributes.status": {"gt": "abc", "lt": "b"}})));
        // mismatched types never compare
        assert!(!check(json!({"data.record.attributes.score": {"gt": "1"}})));
        assert!(!check(json!({"data.record.attributes.status": {"lt": 5}})));
    }

    #[test]
    fn membership_and_text_operators() {
        assert!(check(json!({"data.entity": {"in": ["company", "contact"]}})));
        assert!(!check(json!({"data.entity": {"in": []}})));
        assert!(check(json!({"data.record.attributes.email": {"contains": "@example.", "startsWith": "ann"}})));
        assert!(!check(json!({"data.record.attributes.email": {"startsWith": "bob"}})));
        assert!(check(json!({"data.record.attributes.tags": {"contains": "vip"}})));
        assert!(!check(json!({"data.record.attributes.tags": {"contains": "vi"}})));
        assert!(!check(json!({"data.record.attributes.score": {"contains": "4", "startsWith": "4"}})));
        assert!(check(json!({"data.items.0.sku": {"startsWith": "a-"}})));
    }

    #[test]
    fn missing_paths_only_satisfy_ne_and_exists_false() {
        assert!(check(json!({"data.nope": {"exists": false}})));
        assert!(check(json!({"data.nope": {"ne": "x"}})));
        for op in [json!({"eq": null}), json!({"exists": true}), json!({"in": [null]}), json!({"lt": 1})] {
            assert!(!check(json!({"data.nope": op})), "{op}");
        }
        assert!(check(json!({"data.record.attributes.note": {"exists": true, "eq": null}})));
    }

    #[test]
    fn combinators() {
        let created = json!({"type": {"eq": "record.created"}});
        let contact = json!({"data.entity": {"eq": "contact"}});
        assert!(check(json!({"$or": [created, contact]})));
        assert!(!check(json!({"$and": [created, contact]})));
        assert!(check(json!({"$not": created})));
        assert!(!check(json!({"$not": contact, "type": {"eq": "record.updated"}})));
        assert!(check(json!({"$or": [{"$and": [contact, {"$not": created}]}]})));
        assert!(check(json!({})));
    }

    #[test]
    fn malformed_filters_are_located() {
        assert_eq!(locations(json!({"type": {"like": "x"}})), ["/type/like"]);
        assert_eq!(
            locations(json!({"a": {"in": "x"}, "b": {"startsWith": 1}, "c": {"exists": "yes"}})),
            ["/a/in", "/b/startsWith", "/c/exists"]
        );
        assert_eq!(locations(json!({"a": {"gt": true}, "": {"eq": 1}, "d": 5, "e": {}})), ["/", "/a/gt", "/d", "/e"]);
        assert_eq!(
            locations(json!({"$or": [{"x": {"eq": 1}}, {"y": {"bad": 1}}], "$xor": []})),
            ["/$or/1/y/bad", "/$xor"]
        );
        assert_eq!(locations(json!({"$or": [], "$and": {}, "$not": [1]})), ["/$and", "/$not", "/$or"]);
        assert_eq!(locations(json!([1])), [""]);
        let (_, msg) = &PayloadFilter::parse(&json!({"t": {"like": 1}})).unwrap_err()[0];
        assert!(msg.contains("unknown operator `like`"), "{msg}");
        let (_, msg) = &PayloadFilter::parse(&json!({"t": {"in": 1}})).unwrap_err()[0];
        assert_eq!(msg, "`in` takes an array of values");
    }

    #[test]
    fn size_and_depth_are_limited() {
        let mut f = json!({"type": {"eq": "record.updated"}});
        for _ in 1..MAX_DEPTH {
            f = json!({"$not": {"$not": f}});
            f = f["$not"].take();
        }
        assert!(PayloadFilter::parse(&f).is_ok(), "depth {MAX_DEPTH} is allowed");
        assert_eq!(locations(json!({"$not": f})), ["/$not/$not/$not/$not/$not"]);
        let many: Map<String, Value> =
            (0..=MAX_CONDITIONS).map(|i| (format!("f{i}"), json!({"exists": false}))).collect();
        let errors = PayloadFilter::parse(&Value::Object(many.clone())).unwrap_err();
        assert!(errors[0].1.contains("at most 50 conditions"), "{errors:?}");
        let fifty: Map<String, Value> = many.into_iter().take(MAX_CONDITIONS).collect();
        assert!(PayloadFilter::parse(&Value::Object(fifty)).is_ok());
    }

    fn endpoint(v: Value) -> Endpoint {
        let mut base = json!({
            "id": "ep_1", "tenant": "acme", "url": "https://example.com/hook", "event_types": ["record.*"],
            "enabled": true, "timeout_seconds": 15, "disable_after_seconds": 432000,
            "retry_policy": {"strategy": "standard"}, "secrets": [], "version": 1, "created_at": "", "updated_at": ""
        });
        base.as_object_mut().unwrap().extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn endpoints_want_events_by_type_entity_and_filter() {
        let record = Envelope::new("record.created", "acme", json!({"entity": "contact", "id": "c1", "record": {}}));
        let model = Envelope::new("model.created", "acme", json!({"name": "contact", "version": 1, "model": {}}));
        assert!(wants(&endpoint(json!({})), &record));
        assert!(!wants(&endpoint(json!({"enabled": false})), &record));
        assert!(!wants(&endpoint(json!({})), &model));
        assert!(wants(&endpoint(json!({"event_types": ["model.created", "webhook.*"]})), &model));
        let entities = endpoint(json!({"event_types": ["*"], "entities": ["company"]}));
        assert!(!wants(&entities, &record));
        assert!(wants(&entities, &model), "events without data.entity pass the entity filter");
        assert!(wants(&endpoint(json!({"entities": ["company", "contact"]})), &record));
        let filtered = endpoint(json!({"payload_filter": {"data.id": {"eq": "c1"}}}));
        assert!(wants(&filtered, &record));
        assert!(!wants(&endpoint(json!({"payload_filter": {"data.id": {"eq": "c2"}}})), &record));
        assert!(!wants(&endpoint(json!({"payload_filter": {"data.id": {"regex": "c"}}})), &record));
    }
}
