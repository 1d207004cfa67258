//! The local stand-in for EventBridge Scheduler: reads the schedules stored in the emulator's Scheduler API and,
//! when one is due, delivers its target input to its SQS target queue (the only target kind the platform uses).
//!
//! `rate(...)` schedules fire when first seen and then every period; `cron(...)` schedules follow the expression
//! in UTC (a schedule's time zone is not applied locally), with EventBridge's six fields (minutes hours
//! day-of-month month day-of-week year). `<aws.scheduler.scheduled-time>` in a target's input is replaced with the
//! firing's due time, as AWS does. The list of schedules is read again every five seconds, so schedules that
//! functions create at run time (export templates) fire too.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    Rate(chrono::Duration),
    Cron(Box<cron::Schedule>),
    At(DateTime<Utc>),
}

impl Expression {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some(inner) = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            let (n, unit) = inner.trim().split_once(' ').context("rate needs `N unit`")?;
            let n: i64 = n.parse().context("rate value must be a whole number")?;
            if n <= 0 {
                bail!("rate value must be positive");
            }
            let d = match unit.trim().trim_end_matches('s') {
                "minute" => chrono::Duration::minutes(n),
                "hour" => chrono::Duration::hours(n),
                "day" => chrono::Duration::days(n),
                other => bail!("unknown rate unit `{other}`"),
            };
            return Ok(Self::Rate(d));
        }
        if let Some(inner) = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
            let fields: Vec<&str> = inner.split_whitespace().collect();
            if fields.len() != 6 {
                bail!("cron expressions have six fields: minutes hours day-of-month month day-of-week year");
            }
            // The cron crate wants seconds first and no `?` (which EventBridge uses for "any").
            let converted = std::iter::once("0")
                .chain(fields.iter().copied())
                .map(|f| if f == "?" { "*" } else { f })
                .collect::<Vec<_>>()
                .join(" ");
            return Ok(Self::Cron(Box::new(
                cron::Schedule::from_str(&converted).with_context(|| format!("invalid cron expression `{inner}`"))?,
            )));
        }
        if let Some(inner) = s.strip_prefix("at(").and_then(|r| r.strip_suffix(')')) {
            let t = chrono::NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S")
                .context("at() takes yyyy-mm-ddThh:mm:ss")?;
            return Ok(Self::At(t.and_utc()));
        }
        bail!("unsupported schedule expression `{s}`")
    }

    /// When to fire next, given the previous firing (None: never fired yet).
    pub fn next_after(&self, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match (self, last) {
            (Self::Rate(_), None) => Some(now),
            (Self::Rate(d), Some(l)) => Some(l + *d),
            (Self::Cron(c), l) => c.after(&l.unwrap_or(now)).next(),
            (Self::At(t), None) => Some(*t),
            (Self::At(_), Some(_)) => None,
        }
    }
}

struct Tracked {
    expression: Expression,
    target_arn: String,
    input: String,
    next: Option<DateTime<Utc>>,
}

/// Fires due schedules whose name starts with `prefix`, forever.
pub async fn run(scheduler: aws_sdk_scheduler::Client, sqs: aws_sdk_sqs::Client, prefix: String) {
    let mut tracked: HashMap<String, Tracked> = HashMap::new();
    let mut ticks = 0u64;
    loop {
        if ticks.is_multiple_of(5)
            && let Err(e) = refresh(&scheduler, &prefix, &mut tracked).await
        {
            tracing::warn!(error = %e, "could not read schedules");
        }
        ticks += 1;
        let now = Utc::now();
        for (name, t) in tracked.iter_mut() {
            if t.next.is_some_and(|n| n <= now) {
                let due = t.next.unwrap_or(now);
                match fire(&sqs, &t.target_arn, &scheduled_input(&t.input, due)).await {
                    Ok(()) => tracing::info!(schedule = %name, "schedule fired"),
                    Err(e) => {
                        tracing::warn!(schedule = %name, error = %e, "schedule target failed")
                    }
                }
                t.next = t.expression.next_after(t.next, now);
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn refresh(
    scheduler: &aws_sdk_scheduler::Client,
    prefix: &str,
    tracked: &mut HashMap<String, Tracked>,
) -> Result<()> {
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = scheduler.list_schedules().name_prefix(prefix).set_next_token(token).send().await?;
        for summary in page.schedules() {
            let Some(name) = summary.name() else { continue };
            seen.push(name.to_owned());
            let s = scheduler.get_schedule().name(name).send().await?;
            let (Some(expr), Some(target)) = (s.schedule_expression(), s.target()) else {
                continue;
            };
            let expression = match Expression::parse(expr) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(schedule = name, error = %e, "skipping schedule");
                    continue;
                }
            };
            let input = target.input().unwrap_or("{}").to_owned();
            let arn = target.arn().to_owned();
            match tracked.get_mut(name) {
                Some(t) if t.expression == expression => {
                    t.target_arn = arn;
                    t.input = input;
                }
                _ => {
                    let next = expression.next_after(None, Utc::now());
                    tracked.insert(name.to_owned(), Tracked { expression, target_arn: arn, input, next });
                }
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    tracked.retain(|name, _| seen.contains(name));
    Ok(())
}

/// The target input with EventBridge Scheduler's `<aws.scheduler.scheduled-time>` context attribute filled in, as
/// AWS does for templated targets such as SQS.
pub fn scheduled_input(input: &str, due: DateTime<Utc>) -> String {
    input.replace("<aws.scheduler.scheduled-time>", &due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

async fn fire(sqs: &aws_sdk_sqs::Client, arn: &str, input: &str) -> Result<()> {
    let name = arn
        .strip_prefix("arn:aws:sqs:")
        .and_then(|r| r.rsplit(':').next())
        .context("only SQS targets are supported locally")?;
    let url = sqs.get_queue_url().queue_name(name).send().await?.queue_url().context("no queue url")?.to_owned();
    sqs.send_message().queue_url(url).message_body(input).send().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn rate_fires_at_once_then_every_period() {
        let e = Expression::parse("rate(5 minutes)").unwrap();
        let now = t("2026-01-01T10:00:00Z");
        assert_eq!(e.next_after(None, now), Some(now));
        assert_eq!(e.next_after(Some(now), now), Some(t("2026-01-01T10:05:00Z")));
        assert_eq!(Expression::parse("rate(1 hour)").unwrap(), Expression::Rate(chrono::Duration::hours(1)));
    }

    #[test]
    fn the_scheduled_time_is_filled_in() {
        let input = r#"{"kind":"export.scheduled","scheduled_time":"<aws.scheduler.scheduled-time>"}"#;
        assert_eq!(
            scheduled_input(input, t("2026-01-02T06:00:00Z")),
            r#"{"kind":"export.scheduled","scheduled_time":"2026-01-02T06:00:00Z"}"#
        );
        assert_eq!(scheduled_input("{}", t("2026-01-02T06:00:00Z")), "{}");
    }

    #[test]
    fn eventbridge_cron_has_six_fields() {
        let e = Expression::parse("cron(15 10 ? * MON-FRI *)").unwrap();
        // 2026-01-02 is a Friday; the next weekday 10:15 after Friday 11:00 is Monday the 5th.
        assert_eq!(e.next_after(None, t("2026-01-02T11:00:00Z")), Some(t("2026-01-05T10:15:00Z")));
        assert!(Expression::parse("cron(* * * *)").is_err());
        assert!(Expression::parse("every day").is_err());
        assert!(Expression::parse("rate(0 minutes)").is_err());
    }
}
