//! Breaking-change checker between two OpenAPI documents: what an existing client relies on must survive.
//!
//! Breaking: a removed path, operation, success response, media type, parameter, response field or enum value; a
//! newly required request field, parameter or body; a tightened request constraint (lower `maxLength`/`maximum`/
//! `maxItems`, higher `minLength`/`minimum`/`minItems`, a new or changed `pattern`, `format` or `const`, a narrower
//! or new `enum`, `additionalProperties: false`); a changed type (a request type no longer accepted, a response type
//! clients do not expect); a response field that may now be missing. Additions are not breaking.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const MAX_DEPTH: usize = 40;

/// Which way data flows: clients send requests (the server must not become stricter) and read responses (the
/// server must not send what clients do not expect, nor stop sending what they read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Request,
    Response,
}

/// Every breaking change from `old` to `new`, one line each (empty when `new` is compatible).
pub fn breaking_changes(old: &Value, new: &Value) -> Vec<String> {
    let mut c = Checker { old, new, out: Vec::new(), seen: HashSet::new() };
    let empty = Map::new();
    let old_paths = old.get("paths").and_then(Value::as_object).unwrap_or(&empty);
    let new_paths = new.get("paths").and_then(Value::as_object).unwrap_or(&empty);
    for (path, old_item) in old_paths {
        let Some(new_item) = new_paths.get(path) else {
            c.out.push(format!("removed path {path}"));
            continue;
        };
        for method in METHODS {
            let Some(old_op) = old_item.get(*method) else { continue };
            let at = format!("{} {path}", method.to_uppercase());
            match new_item.get(*method) {
                None => c.out.push(format!("removed operation {at}")),
                Some(new_op) => c.operation(&at, old_item, old_op, new_item, new_op),
            }
        }
    }
    c.out
}

struct Checker<'a> {
    old: &'a Value,
    new: &'a Value,
    out: Vec<String>,
    /// Pairs of `$ref`s already compared, so recursive schemas end.
    seen: HashSet<(String, String)>,
}

fn resolve<'v>(doc: &'v Value, v: &'v Value) -> &'v Value {
    let mut v = v;
    for _ in 0..MAX_DEPTH {
        match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => v = doc.pointer(pointer).unwrap_or(&Value::Null),
            None => break,
        }
    }
    v
}

fn types(s: &Value) -> Option<Vec<String>> {
    match s.get("type")? {
        Value::String(t) => Some(vec![t.clone()]),
        Value::Array(a) => Some(a.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
        _ => None,
    }
}

/// True when a value of type `t` is also one of `types` (an integer is a number).
fn widens(types: &[String], t: &str) -> bool {
    types.iter().any(|x| x == t || (t == "integer" && x == "number"))
}

fn number(s: &Value, key: &str) -> Option<f64> {
    s.get(key).and_then(Value::as_f64)
}

fn string_set(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).into_iter().flatten().filter_map(|x| x.as_str().map(str::to_owned)).collect()
}

impl Checker<'_> {
    fn params<'d>(&self, doc: &'d Value, item: &'d Value, op: &'d Value) -> BTreeMap<(String, String), &'d Value> {
        let mut out = BTreeMap::new();
        for list in [item.get("parameters"), op.get("parameters")].into_iter().flatten() {
            for p in list.as_array().into_iter().flatten() {
                let p = resolve(doc, p);
                let key = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                out.insert((key("in"), key("name")), p);
            }
        }
        out
    }

    fn operation(&mut self, at: &str, old_item: &Value, old_op: &Value, new_item: &Value, new_op: &Value) {
        let old_params = self.params(self.old, old_item, old_op);
        let new_params = self.params(self.new, new_item, new_op);
        for ((place, name), op) in &old_params {
            match new_params.get(&(place.clone(), name.clone())) {
                None => self.out.push(format!("{at}: removed {place} parameter `{name}`")),
                Some(np) => {
                    let was_required = op.get("required").and_then(Value::as_bool).unwrap_or(false);
                    if !was_required && np.get("required").and_then(Value::as_bool).unwrap_or(false) {
                        self.out.push(format!("{at}: {place} parameter `{name}` is newly required"));
                    }
                    let (os, ns) = (op.get("schema").unwrap_or(&Value::Null), np.get("schema").unwrap_or(&Value::Null));
                    self.schema(&format!("{at} parameter `{name}`"), os, ns, Flow::Request, 0);
                }
            }
        }
        for ((place, name), np) in &new_params {
            if !old_params.contains_key(&(place.clone(), name.clone()))
                && np.get("required").and_then(Value::as_bool).unwrap_or(false)
            {
                self.out.push(format!("{at}: new required {place} parameter `{name}`"));
            }
        }
        self.body(at, old_op, new_op);
        self.responses(at, old_op, new_op);
    }

    fn body(&mut self, at: &str, old_op: &Value, new_op: &Value) {
        let (old_body, new_body) = (
            old_op.get("requestBody").map(|b| resolve(self.old, b)),
            new_op.get("requestBody").map(|b| resolve(self.new, b)),
        );
        let required = |b: Option<&Value>| b.and_then(|b| b.get("required")).and_then(Value::as_bool).unwrap_or(false);
        if !required(old_body) && required(new_body) {
            self.out.push(format!("{at}: the request body is newly required"));
        }
        let (Some(ob), Some(nb)) = (old_body, new_body) else {
            if old_body.is_some() {
                self.out.push(format!("{at}: removed the request body"));
            }
            return;
        };
        for (media, oc) in ob.get("content").and_then(Value::as_object).into_iter().flatten() {
            match nb.get("content").and_then(|c| c.get(media)) {
                None => self.out.push(format!("{at}: request media type {media} no longer accepted")),
                Some(nc) => self.schema(
                    &format!("{at} request body"),
                    oc.get("schema").unwrap_or(&Value::Null),
                    nc.get("schema").unwrap_or(&Value::Null),
                    Flow::Request,
                    0,
                ),
            }
        }
    }

    fn responses(&mut self, at: &str, old_op: &Value, new_op: &Value) {
        for (status, or) in old_op.get("responses").and_then(Value::as_object).into_iter().flatten() {
            let Some(nr) = new_op.get("responses").and_then(|r| r.get(status)) else {
                if status.starts_with('2') {
                    self.out.push(format!("{at}: removed the {status} response"));
                }
                continue;
            };
            let (or, nr) = (resolve(self.old, or), resolve(self.new, nr));
            for (media, oc) in or.get("content").and_then(Value::as_object).into_iter().flatten() {
                match nr.get("content").and_then(|c| c.get(media)) {
                    None => self.out.push(format!("{at} {status}: response media type {media} removed")),
                    Some(nc) => self.schema(
                        &format!("{at} {status} response"),
                        oc.get("schema").unwrap_or(&Value::Null),
                        nc.get("schema").unwrap_or(&Value::Null),
                        Flow::Response,
                        0,
                    ),
                }
            }
        }
    }

    fn schema(&mut self, at: &str, old: &Value, new: &Value, flow: Flow, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let refs = (old.get("$ref").and_then(Value::as_str), new.get("$ref").and_then(Value::as_str));
        if let (Some(a), Some(b)) = refs
            && !self.seen.insert((format!("{flow:?}{a}"), b.to_owned()))
        {
            return;
        }
        let (o, n) = (resolve(self.old, old), resolve(self.new, new));
        self.type_change(at, o, n, flow);
        self.enum_change(at, o, n, flow);
        if flow == Flow::Request {
            self.tightened(at, o, n);
        }
        self.properties(at, o, n, flow, depth);
        for key in ["items", "additionalProperties", "not"] {
            if let (Some(a), Some(b)) = (o.get(key), n.get(key))
                && a.is_object()
                && b.is_object()
            {
                self.schema(&format!("{at}/{key}"), a, b, flow, depth + 1);
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            let (Some(a), Some(b)) = (o.get(key).and_then(Value::as_array), n.get(key).and_then(Value::as_array))
            else {
                continue;
            };
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                self.schema(&format!("{at}/{key}/{i}"), x, y, flow, depth + 1);
            }
            if flow == Flow::Request && b.len() < a.len() && key != "allOf" {
                self.out.push(format!("{at}: fewer `{key}` alternatives accepted"));
            }
        }
    }

    fn type_change(&mut self, at: &str, o: &Value, n: &Value, flow: Flow) {
        let (ot, nt) = (types(o), types(n));
        let lost = match (flow, &ot, &nt) {
            (Flow::Request, Some(a), Some(b)) => a.iter().any(|t| !widens(b, t)),
            (Flow::Request, None, Some(_)) => true,
            (Flow::Response, Some(a), Some(b)) => b.iter().any(|t| !widens(a, t)),
            (Flow::Response, Some(_), None) => true,
            _ => false,
        };
        if lost {
            let show = |t: &Option<Vec<String>>| t.as_ref().map_or("any".to_owned(), |t| t.join("|"));
            self.out.push(format!("{at}: type changed from {} to {}", show(&ot), show(&nt)));
        }
    }

    fn enum_change(&mut self, at: &str, o: &Value, n: &Value, flow: Flow) {
        let (ov, nv) = (o.get("enum").and_then(Value::as_array), n.get("enum").and_then(Value::as_array));
        match (ov, nv) {
            (Some(a), Some(b)) => {
                for v in a.iter().filter(|v| !b.contains(v)) {
                    self.out.push(format!("{at}: removed enum value {v}"));
                }
            }
            (None, Some(_)) if flow == Flow::Request => {
                self.out.push(format!("{at}: values newly restricted to an enum"))
            }
            _ => {}
        }
        if flow == Flow::Request && o.get("const") != n.get("const") && n.get("const").is_some() {
            self.out.push(format!("{at}: `const` changed"));
        }
    }

    fn tightened(&mut self, at: &str, o: &Value, n: &Value) {
        let mut flag = |what: &str| self.out.push(format!("{at}: tightened constraint `{what}`"));
        for key in ["maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties"] {
            if let Some(nv) = number(n, key)
                && number(o, key).is_none_or(|ov| nv < ov)
            {
                flag(key);
            }
        }
        for key in ["minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties"] {
            if let Some(nv) = number(n, key)
                && number(o, key).is_none_or(|ov| nv > ov)
            {
                flag(key);
            }
        }
        for key in ["pattern", "format", "multipleOf"] {
            if n.get(key).is_some() && n.get(key) != o.get(key) && !(key == "pattern" && widened_pattern(o, n)) {
                flag(key);
            }
        }
        if n.get("uniqueItems") == Some(&Value::Bool(true)) && o.get("uniqueItems") != Some(&Value::Bool(true)) {
            flag("uniqueItems");
        }
        if n.get("additionalProperties") == Some(&Value::Bool(false))
            && o.get("additionalProperties") != Some(&Value::Bool(false))
        {
            flag("additionalProperties");
        }
    }

    fn properties(&mut self, at: &str, o: &Value, n: &Value, flow: Flow, depth: usize) {
        let empty = Map::new();
        let op = o.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let np = n.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let (oreq, nreq) = (string_set(o.get("required")), string_set(n.get("required")));
        for (name, os) in op {
            match np.get(name) {
                None => {
                    let what = if flow == Flow::Response { "response" } else { "request" };
                    self.out.push(format!("{at}: removed {what} field `{name}`"));
                }
                Some(ns) => self.schema(&format!("{at}/{name}"), os, ns, flow, depth + 1),
            }
        }
        match flow {
            Flow::Request => {
                for name in nreq.iter().filter(|r| !oreq.contains(r)) {
                    self.out.push(format!("{at}: request field `{name}` is newly required"));
                }
            }
            Flow::Response => {
                for name in oreq.iter().filter(|r| !nreq.contains(r) && np.contains_key(*r)) {
                    self.out.push(format!("{at}: response field `{name}` may now be missing"));
                }
            }
        }
    }
}

/// A pattern `A|B` where the old one was `A`: it matches everything `A` did (a valid regex `A` is a whole operand
/// of the top-level alternation), so appending an alternative only widens.
fn widened_pattern(o: &Value, n: &Value) -> bool {
    match (o.get("pattern").and_then(Value::as_str), n.get("pattern").and_then(Value::as_str)) {
        (Some(old), Some(new)) => new.strip_prefix(old).is_some_and(|rest| rest.starts_with('|')),
        _ => false,
    }
}

#[cfg(test)]
mod pattern_tests {
    use serde_json::json;

    #[test]
    fn only_an_appended_alternative_counts_as_widening() {
        let old = json!({"pattern": "^a$"});
        assert!(super::widened_pattern(&old, &json!({"pattern": "^a$|^b$"})));
        assert!(!super::widened_pattern(&old, &json!({"pattern": "^b$|^a$"})));
        assert!(!super::widened_pattern(&old, &json!({"pattern": "^a$b"})));
    }
}
