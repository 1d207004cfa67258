//! Schedules of export templates: expressions checked the way EventBridge Scheduler reads them, and the port
//! through which the API creates, changes and deletes each template's schedule.
//!
//! Expressions: `rate(N unit)` (unit `minute|hour|day`, plural when N > 1) or `cron(minutes hours day-of-month
//! month day-of-week year)`, six fields, exactly one of day-of-month and day-of-week `?`; `*`, `,`, `-`, `/`,
//! names (`JAN`, `MON`), `L` (day-of-month, day-of-week), `W` (day-of-month) and `#` (day-of-week) as in AWS.

use std::sync::Mutex;

use async_trait::async_trait;

/// Longest IANA time zone name we accept (the longest real one is 32 characters).
const MAX_TIMEZONE: usize = 64;

/// Checks a schedule expression; the error says what is wrong in terms of the AWS syntax.
pub fn validate_expression(expr: &str) -> Result<(), String> {
    let expr = expr.trim();
    if let Some(inner) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        return validate_rate(inner);
    }
    if let Some(inner) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return validate_cron(inner);
    }
    Err("a schedule is `cron(minutes hours day-of-month month day-of-week year)` or `rate(value unit)`, e.g. \
         `cron(0 6 * * ? *)` or `rate(1 day)`"
        .into())
}

fn validate_rate(inner: &str) -> Result<(), String> {
    let (n, unit) = inner.trim().split_once(' ').ok_or("rate() takes a value and a unit, e.g. rate(5 minutes)")?;
    let n: u32 = n.parse().map_err(|_| format!("`{n}` is not a positive whole number"))?;
    if n == 0 {
        return Err("the rate must be at least 1".into());
    }
    let unit = unit.trim();
    let (singular, plural) = match unit {
        "minute" | "minutes" => ("minute", "minutes"),
        "hour" | "hours" => ("hour", "hours"),
        "day" | "days" => ("day", "days"),
        other => return Err(format!("`{other}` is not a rate unit; use minute(s), hour(s) or day(s)")),
    };
    match (n, unit) {
        (1, u) if u != singular => Err(format!("a rate of 1 takes the singular unit: rate(1 {singular})")),
        (n, u) if n > 1 && u != plural => Err(format!("a rate above 1 takes the plural unit: rate({n} {plural})")),
        _ => Ok(()),
    }
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One cron field: its name, range and names.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const FIELDS: [Field; 6] = [
    Field { name: "minutes", min: 0, max: 59, names: &[] },
    Field { name: "hours", min: 0, max: 23, names: &[] },
    Field { name: "day-of-month", min: 1, max: 31, names: &[] },
    Field { name: "month", min: 1, max: 12, names: &MONTHS },
    Field { name: "day-of-week", min: 1, max: 7, names: &DAYS },
    Field { name: "year", min: 1970, max: 2199, names: &[] },
];

fn validate_cron(inner: &str) -> Result<(), String> {
    let parts: Vec<&str> = inner.split_whitespace().collect();
    if parts.len() != 6 {
        return Err(format!(
            "a cron expression has six fields (minutes hours day-of-month month day-of-week year); this one has {}",
            parts.len()
        ));
    }
    let (dom, dow) = (parts[2], parts[4]);
    if (dom == "?") == (dow == "?") {
        return Err("exactly one of day-of-month and day-of-week must be `?` (e.g. `cron(0 6 * * ? *)`)".into());
    }
    for (i, (field, raw)) in FIELDS.iter().zip(&parts).enumerate() {
        if *raw == "?" {
            continue;
        }
        for item in raw.split(',') {
            check_item(i, field, item).map_err(|e| format!("{} field `{raw}`: {e}", field.name))?;
        }
    }
    Ok(())
}

fn check_item(index: usize, f: &Field, item: &str) -> Result<(), String> {
    let value = |s: &str| -> Result<u32, String> {
        let v = s
            .parse::<u32>()
            .ok()
            .or_else(|| f.names.iter().position(|n| n.eq_ignore_ascii_case(s)).map(|p| p as u32 + f.min));
        v.filter(|v| (f.min..=f.max).contains(v)).ok_or_else(|| format!("`{s}` is not in {}-{}", f.min, f.max))
    };
    match (index, item) {
        (_, "") => return Err("an empty item".into()),
        (2, "L" | "LW") | (4, "L") => return Ok(()),
        (2, w) if w.ends_with('W') => return value(&w[..w.len() - 1]).map(drop),
        (4, l) if l.ends_with('L') && l.len() > 1 => return value(&l[..l.len() - 1]).map(drop),
        (4, h) if h.contains('#') => {
            let (d, n) = h.split_once('#').expect("contains #");
            value(d)?;
            return match n.parse::<u32>() {
                Ok(1..=5) => Ok(()),
                _ => Err(format!("`#{n}`: the week of the month is 1 to 5")),
            };
        }
        _ => {}
    }
    let (range, step) = match item.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (item, None),
    };
    if let Some(s) = step {
        match s.parse::<u32>() {
            Ok(n) if n >= 1 && n <= f.max => {}
            _ => return Err(format!("`/{s}`: the increment is 1 to {}", f.max)),
        }
    }
    match range {
        "*" => Ok(()),
        r => match r.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (value(a)?, value(b)?);
                if a > b && index != 4 && index != 3 { Err(format!("the range `{r}` runs backwards")) } else { Ok(()) }
            }
            None => value(r).map(drop),
        },
    }
}

/// Checks an IANA time zone name by its shape (`Europe/Berlin`, `America/Argentina/Buenos_Aires`, `UTC`,
/// `Etc/GMT+2`); whether it exists is for EventBridge Scheduler to say (the API reports its refusal as 422).
pub fn validate_timezone(tz: &str) -> Result<(), String> {
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
    };
    if tz.len() <= MAX_TIMEZONE && tz.split('/').all(ok_part) {
        Ok(())
    } else {
        Err(format!("`{tz}` is not an IANA time zone name such as `Europe/Berlin` or `UTC`"))
    }
}

/// What a template's schedule sends to the exports queue when it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSpec {
    pub template_id: String,
    pub tenant: String,
    pub expression: String,
    pub timezone: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The scheduler refused the schedule (e.g. a time zone it does not know).
    #[error("the schedule was refused: {0}")]
    Invalid(String),
    #[error("the scheduler is unavailable: {0}")]
    Unavailable(String),
}

/// Where template schedules live (EventBridge Scheduler; a fake in tests).
#[async_trait]
pub trait Schedules: Send + Sync {
    /// Creates the template's schedule or replaces it.
    async fn put(&self, spec: &ScheduleSpec) -> Result<(), ScheduleError>;
    /// Deletes the template's schedule; no schedule is fine.
    async fn delete(&self, template_id: &str) -> Result<(), ScheduleError>;
}

/// The schedules a test made, by template id.
#[derive(Default)]
pub struct MemorySchedules {
    pub schedules: Mutex<std::collections::BTreeMap<String, ScheduleSpec>>,
    /// When set, `put` refuses with this message (a time zone the scheduler does not know, say).
    pub refuse: Mutex<Option<String>>,
}

#[async_trait]
impl Schedules for MemorySchedules {
    async fn put(&self, spec: &ScheduleSpec) -> Result<(), ScheduleError> {
        if let Some(reason) = self.refuse.lock().expect("lock").clone() {
            return Err(ScheduleError::Invalid(reason));
        }
        self.schedules.lock().expect("lock").insert(spec.template_id.clone(), spec.clone());
        Ok(())
    }

    async fn delete(&self, template_id: &str) -> Result<(), ScheduleError> {
        self.schedules.lock().expect("lock").remove(template_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_expressions_pass() {
        for e in [
            "rate(1 minute)",
            "rate(5 minutes)",
            "rate(1 day)",
            "rate(12 hours)",
            "cron(0 6 * * ? *)",
            "cron(* * * * ? *)",
            "cron(0/15 8-17 ? * MON-FRI *)",
            "cron(0 18 L * ? *)",
            "cron(0 9 ? * 6L 2026-2030)",
            "cron(0 9 ? * MON#2 *)",
            "cron(30 0 15W JAN,JUL ? *)",
            "cron(0 12 1,15 * ? *)",
            "cron(0 10 ? * SUN,SAT *)",
        ] {
            assert_eq!(validate_expression(e), Ok(()), "{e}");
        }
    }

    #[test]
    fn invalid_expressions_say_why() {
        for (e, why) in [
            ("every day", "a schedule is"),
            ("rate(0 minutes)", "at least 1"),
            ("rate(1 minutes)", "singular"),
            ("rate(5 minute)", "plural"),
            ("rate(5 weeks)", "not a rate unit"),
            ("rate(x minutes)", "positive whole number"),
            ("cron(0 6 * * *)", "six fields"),
            ("cron(0 6 * * * *)", "exactly one"),
            ("cron(0 6 ? * ? *)", "exactly one"),
            ("cron(60 6 * * ? *)", "minutes field"),
            ("cron(0 24 * * ? *)", "hours field"),
            ("cron(0 6 0 * ? *)", "day-of-month"),
            ("cron(0 6 * 13 ? *)", "month"),
            ("cron(0 6 ? * 8 *)", "day-of-week"),
            ("cron(0 6 ? * FUNDAY *)", "day-of-week"),
            ("cron(0 6 * * ? 1800)", "year"),
            ("cron(0/0 6 * * ? *)", "increment"),
            ("cron(0 6 ? * MON#6 *)", "week of the month"),
            ("cron(0 20-10 * * ? *)", "backwards"),
            ("cron(0,,5 6 * * ? *)", "empty"),
        ] {
            let err = validate_expression(e).expect_err(e);
            assert!(err.contains(why), "{e}: {err}");
        }
    }

    #[test]
    fn time_zones_are_checked_by_shape() {
        for tz in ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+2", "America/Port-au-Prince"] {
            assert_eq!(validate_timezone(tz), Ok(()), "{tz}");
        }
        for tz in ["", "Europe/", "/Berlin", "Europe/Ber lin", "1Europe/Berlin", &"A".repeat(65)] {
            assert!(validate_timezone(tz).is_err(), "{tz}");
        }
    }
}
