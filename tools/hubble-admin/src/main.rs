//! `hubble-admin`: operator commands that work the same against AWS and the local emulator.
//!
//!   hubble-admin tenant create <id> [--name "Display name"]
//!   hubble-admin tenant limit <id> <requests per minute | default>
//!   hubble-admin key create <tenant> --name <name> [--scope <scope>]... [--expires-at <rfc3339>] [--rate-limit <per minute>]
//!   hubble-admin webhooks redrive [--tenant T] [--max N]
//!
//! Table names come from HUBBLE_CONTROL_TABLE (and HUBBLE_WEBHOOKS_TABLE), or from `--prefix <p>` (physical names
//! `<p>-control`, as the CDK app and the local runner create them); queues are found by name under the prefix or
//! come from HUBBLE_WEBHOOK_QUEUE_URL and HUBBLE_WEBHOOK_DEAD_LETTER_QUEUE_URL. Credentials, region and endpoint come from the standard AWS variables
//! (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL` for the emulator). Secrets are printed once, as JSON.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use hw_store::dynamo::DynamoControlStore;
use hw_store::tenants::Tenants;
use hw_webhooks::dynamo::DynamoWebhookStore;
use hw_webhooks::queue::SqsJobQueue;
use serde_json::json;

const USAGE: &str = "usage:
  hubble-admin [--prefix P] tenant create <id> [--name NAME]
  hubble-admin [--prefix P] tenant limit <id> <PER_MINUTE|default>
  hubble-admin [--prefix P] key create <tenant> --name NAME [--scope SCOPE]... [--expires-at RFC3339] [--rate-limit PER_MINUTE]
  hubble-admin [--prefix P] webhooks redrive [--tenant T] [--max N]   (dead-lettered deliveries back into delivery; default 1000)";

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("hubble-admin: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") || args.is_empty() {
        println!("{USAGE}");
        return Ok(());
    }
    let prefix = take_option(&mut args, "--prefix")?;
    let sdk = hw_aws::sdk_config().await;
    if args.first().map(String::as_str) == Some("webhooks") {
        return webhooks(&sdk, prefix.as_deref(), &mut args).await;
    }
    let table = match (std::env::var("HUBBLE_CONTROL_TABLE").ok(), prefix) {
        (_, Some(p)) => hw_resources::Config::for_prefix(&p).control_table,
        (Some(t), None) => t,
        (None, None) => bail!("set HUBBLE_CONTROL_TABLE or pass --prefix (the local stack uses `hubble`)\n{USAGE}"),
    };
    let tenants = Tenants { control: Arc::new(DynamoControlStore::new(hw_aws::dynamo_client(&sdk), table)) };
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["tenant", "limit", id, value] => {
            let per_minute = match *value {
                "default" => None,
                n => Some(n.parse::<u32>().with_context(|| format!("`{n}` is not a whole number or `default`"))?),
            };
            tenants.set_rate_limit(id, per_minute).await.context("setting the tenant's rate limit")?;
            print(json!({"tenant": id, "rate_limit_per_minute": per_minute}));
        }
        ["tenant", "create", id, ..] => {
            let id = id.to_string();
            let name = take_option(&mut args, "--name")?.unwrap_or_else(|| id.clone());
            let (tenant, key) = tenants.create_tenant(&id, &name).await.context("creating the tenant")?;
            print(
                json!({"tenant": tenant, "api_key": {"id": key.meta.id, "scopes": key.meta.scopes, "secret": key.secret}}),
            );
        }
        ["key", "create", tenant, ..] => {
            let tenant = tenant.to_string();
            let name = take_option(&mut args, "--name")?.context("--name is required")?;
            let expires_at = take_option(&mut args, "--expires-at")?;
            let rate_limit_per_minute = take_option(&mut args, "--rate-limit")?
                .map(|v| v.parse::<u32>().with_context(|| format!("--rate-limit `{v}` is not a whole number")))
                .transpose()?;
            let mut scopes = Vec::new();
            while let Some(s) = take_option(&mut args, "--scope")? {
                scopes.push(s);
            }
            if scopes.is_empty() {
                bail!(
                    "give at least one --scope (admin, models:write, data:read, data:write, data:read:<entity>, data:write:<entity>)"
                );
            }
            let input = hw_store::tenants::NewKey { name, scopes, expires_at, rate_limit_per_minute };
            let key = tenants.create_key(&tenant, input).await.context("creating the key")?;
            print(
                json!({"api_key": {"id": key.meta.id, "tenant": key.meta.tenant, "scopes": key.meta.scopes, "secret": key.secret}}),
            );
        }
        _ => bail!("unknown command\n{USAGE}"),
    }
    Ok(())
}

/// `webhooks ...` commands: they need the webhooks table and the deliveries queues instead of the control table.
async fn webhooks(sdk: &aws_config::SdkConfig, prefix: Option<&str>, args: &mut Vec<String>) -> Result<()> {
    let tenant = take_option(args, "--tenant")?;
    let max = take_option(args, "--max")?
        .map(|v| v.parse::<usize>().with_context(|| format!("--max `{v}` is not a whole number")))
        .transpose()?
        .unwrap_or(1000);
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    if words != ["webhooks", "redrive"] {
        bail!("unknown command\n{USAGE}");
    }
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (table, queue_url, dlq_url) = match prefix {
        Some(p) => {
            let m = hw_resources::manifest();
            let q = &m.queues["webhook-deliveries"];
            let url = |name: String| {
                let sqs = sqs.clone();
                async move {
                    sqs.get_queue_url()
                        .queue_name(&name)
                        .send()
                        .await
                        .with_context(|| format!("finding queue {name}"))
                        .map(|o| o.queue_url().unwrap_or_default().to_owned())
                }
            };
            (
                hw_resources::Config::for_prefix(p).webhooks_table,
                url(hw_resources::Manifest::physical(p, &q.name)).await?,
                url(hw_resources::Manifest::dlq_name(p, q)).await?,
            )
        }
        None => (
            env("HUBBLE_WEBHOOKS_TABLE").context("set HUBBLE_WEBHOOKS_TABLE or pass --prefix")?,
            env("HUBBLE_WEBHOOK_QUEUE_URL").context("set HUBBLE_WEBHOOK_QUEUE_URL or pass --prefix")?,
            env("HUBBLE_WEBHOOK_DEAD_LETTER_QUEUE_URL")
                .context("set HUBBLE_WEBHOOK_DEAD_LETTER_QUEUE_URL or pass --prefix")?,
        ),
    };
    // Retention only matters for items this command writes back: the webhook log's default.
    let retention = chrono::Duration::days(hw_resources::Limits::default().webhook_log_days as i64);
    let store = DynamoWebhookStore::new(hw_aws::dynamo_client(sdk), table, retention);
    let queue = SqsJobQueue::new(sqs, queue_url, dlq_url);
    let report = hw_webhooks::redrive::redrive(&queue, &store, tenant.as_deref(), max).await.context("redriving")?;
    print(serde_json::to_value(report).expect("serialises"));
    Ok(())
}

fn print(v: serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(&v).expect("serialises"));
}

/// Removes `--name value` from `args` and returns the value.
fn take_option(args: &mut Vec<String>, name: &str) -> Result<Option<String>> {
    let Some(i) = args.iter().position(|a| a == name) else {
        return Ok(None);
    };
    if i + 1 >= args.len() {
        bail!("{name} needs a value");
    }
    let value = args.remove(i + 1);
    args.remove(i);
    Ok(Some(value))
}
