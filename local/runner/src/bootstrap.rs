//! Creates every resource of `resources.json` in the emulator (or LocalStack), idempotently.

use std::collections::HashMap;

use anyhow::{Context, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, Target};
use aws_sdk_sqs::types::QueueAttributeName;
use hw_resources::{Key, Manifest, manifest};

/// What the bootstrap created or found: the physical addresses functions and pollers need.
#[derive(Debug, Clone)]
pub struct Resources {
    pub prefix: String,
    /// queue key in the manifest → (url, arn)
    pub queues: HashMap<String, (String, String)>,
    pub dlqs: HashMap<String, (String, String)>,
    pub data_key_id: String,
    /// bucket key in the manifest → physical name
    pub buckets: HashMap<String, String>,
}

pub async fn bootstrap(sdk: &aws_config::SdkConfig, prefix: &str) -> Result<Resources> {
    let m = manifest();
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    for table in m.tables.values() {
        create_table(&dynamo, prefix, table).await.with_context(|| format!("table {}", table.name))?;
    }
    let events = aws_sdk_eventbridge::Client::new(sdk);
    let bus = Manifest::physical(prefix, &m.event_bus.name);
    if events.describe_event_bus().name(&bus).send().await.is_err() {
        events.create_event_bus().name(&bus).send().await.with_context(|| format!("event bus {bus}"))?;
    }
    let kms = aws_sdk_kms::Client::new(sdk);
    let key = &m.kms_keys["data"];
    let alias = Manifest::kms_alias(prefix, key);
    let data_key_id = ensure_key(&kms, &alias, &key.description).await.with_context(|| format!("KMS key {alias}"))?;

    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut queues = HashMap::new();
    let mut dlqs = HashMap::new();
    for (id, q) in &m.queues {
        let dlq_name = Manifest::dlq_name(prefix, q);
        let dlq = ensure_queue(
            &sqs,
            &dlq_name,
            HashMap::from([(QueueAttributeName::MessageRetentionPeriod, q.dlq_retention_seconds.to_string())]),
        )
        .await?;
        let redrive =
            serde_json::json!({"deadLetterTargetArn": dlq.1, "maxReceiveCount": q.max_receive_count}).to_string();
        let main = ensure_queue(
            &sqs,
            &Manifest::physical(prefix, &q.name),
            HashMap::from([
                (QueueAttributeName::VisibilityTimeout, q.visibility_timeout_seconds.to_string()),
                (QueueAttributeName::RedrivePolicy, redrive),
            ]),
        )
        .await?;
        queues.insert(id.clone(), main);
        dlqs.insert(id.clone(), dlq);
    }

    let scheduler = aws_sdk_scheduler::Client::new(sdk);
    for (id, s) in &m.schedules {
        let (_, arn) = &queues[&s.target_queue];
        let target = Target::builder()
            .arn(arn)
            .role_arn(format!("arn:aws:iam::000000000000:role/{prefix}-scheduler"))
            .input(s.input.to_string())
            .build()?;
        let window = FlexibleTimeWindow::builder().mode(FlexibleTimeWindowMode::Off).build()?;
        let name = Manifest::physical(prefix, id);
        // Create and update take the same members; only the operation differs.
        macro_rules! put_schedule {
            ($op:ident) => {
                scheduler
                    .$op()
                    .name(&name)
                    .schedule_expression(&s.expression)
                    .flexible_time_window(window)
                    .target(target)
                    .description(&s.description)
                    .send()
                    .await
                    .with_context(|| format!("schedule {name}"))?
            };
        }
        if scheduler.get_schedule().name(&name).send().await.is_ok() {
            put_schedule!(update_schedule);
        } else {
            put_schedule!(create_schedule);
        }
    }
    for (id, rule) in &m.rules {
        let name = Manifest::physical(prefix, id);
        let (_, arn) = &queues[&rule.target_queue];
        events
            .put_rule()
            .name(&name)
            .event_bus_name(&bus)
            .event_pattern(rule.pattern.to_string())
            .description(&rule.description)
            .send()
            .await
            .with_context(|| format!("rule {name}"))?;
        events
            .put_targets()
            .rule(&name)
            .event_bus_name(&bus)
            .targets(aws_sdk_eventbridge::types::Target::builder().id(&rule.target_queue).arn(arn).build()?)
            .send()
            .await
            .with_context(|| format!("target of rule {name}"))?;
    }
    let s3 = aws_sdk_s3::Client::new(sdk);
    let mut buckets = HashMap::new();
    for (id, b) in &m.buckets {
        let name = Manifest::physical(prefix, &b.name);
        ensure_bucket(&s3, &name, b, &queues).await.with_context(|| format!("bucket {name}"))?;
        buckets.insert(id.clone(), name);
    }
    Ok(Resources { prefix: prefix.to_owned(), queues, dlqs, data_key_id, buckets })
}

fn attr_type(k: &Key) -> ScalarAttributeType {
    ScalarAttributeType::from(k.kind.as_str())
}

fn key_schema(pk: &Key, sk: Option<&Key>) -> Vec<KeySchemaElement> {
    let mut v =
        vec![KeySchemaElement::builder().attribute_name(&pk.name).key_type(KeyType::Hash).build().expect("set")];
    if let Some(sk) = sk {
        v.push(KeySchemaElement::builder().attribute_name(&sk.name).key_type(KeyType::Range).build().expect("set"));
    }
    v
}

async fn create_table(client: &aws_sdk_dynamodb::Client, prefix: &str, t: &hw_resources::Table) -> Result<()> {
    let name = Manifest::physical(prefix, &t.name);
    if client.describe_table().table_name(&name).send().await.is_ok() {
        return Ok(());
    }
    let mut keys: Vec<&Key> = vec![&t.partition_key];
    keys.extend(t.sort_key.as_ref());
    for i in &t.global_secondary_indexes {
        keys.push(&i.partition_key);
        keys.extend(i.sort_key.as_ref());
    }
    let mut defs: Vec<AttributeDefinition> = Vec::new();
    for k in keys {
        if !defs.iter().any(|d| d.attribute_name() == k.name) {
            defs.push(AttributeDefinition::builder().attribute_name(&k.name).attribute_type(attr_type(k)).build()?);
        }
    }
    let mut req = client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(defs))
        .set_key_schema(Some(key_schema(&t.partition_key, t.sort_key.as_ref())));
    for i in &t.global_secondary_indexes {
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&i.name)
                .set_key_schema(Some(key_schema(&i.partition_key, i.sort_key.as_ref())))
                .projection(Projection::builder().projection_type(ProjectionType::from(i.projection.as_str())).build())
                .build()?,
        );
    }
    req.send().await?;
    if let Some(ttl) = &t.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(&name)
            .time_to_live_specification(TimeToLiveSpecification::builder().attribute_name(ttl).enabled(true).build()?)
            .send()
            .await?;
    }
    Ok(())
}

async fn ensure_key(kms: &aws_sdk_kms::Client, alias: &str, description: &str) -> Result<String> {
    let aliases = kms.list_aliases().send().await?;
    if let Some(a) = aliases.aliases().iter().find(|a| a.alias_name() == Some(alias))
        && let Some(id) = a.target_key_id()
    {
        return Ok(id.to_owned());
    }
    let key = kms.create_key().description(description).send().await?;
    let id = key.key_metadata().map(|k| k.key_id().to_owned()).context("created key has no id")?;
    kms.create_alias().alias_name(alias).target_key_id(&id).send().await?;
    Ok(id)
}

async fn ensure_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    attrs: HashMap<QueueAttributeName, String>,
) -> Result<(String, String)> {
    let url = match sqs.get_queue_url().queue_name(name).send().await {
        Ok(out) => {
            let url = out.queue_url().context("no url")?.to_owned();
            sqs.set_queue_attributes().queue_url(&url).set_attributes(Some(attrs)).send().await?;
            url
        }
        Err(_) => sqs
            .create_queue()
            .queue_name(name)
            .set_attributes(Some(attrs))
            .send()
            .await
            .with_context(|| format!("queue {name}"))?
            .queue_url()
            .context("no url")?
            .to_owned(),
    };
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .context("queue has no ARN")?;
    Ok((url, arn))
}

/// The bucket with its lifecycle rules, the CORS rule presigned browser uploads need, and its notifications. Put
/// operations replace the whole configuration, so running this again converges instead of piling up.
async fn ensure_bucket(
    s3: &aws_sdk_s3::Client,
    name: &str,
    spec: &hw_resources::Bucket,
    queues: &HashMap<String, (String, String)>,
) -> Result<()> {
    use aws_sdk_s3::types::{
        AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, CorsConfiguration, CorsRule, Event,
        ExpirationStatus, FilterRule, FilterRuleName, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
        NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
    };
    if s3.head_bucket().bucket(name).send().await.is_err() {
        s3.create_bucket().bucket(name).send().await?;
    }
    let mut rules = Vec::new();
    for e in &spec.expiration {
        rules.push(
            LifecycleRule::builder()
                .id(format!("expire-{}", e.prefix.trim_end_matches('/')))
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix(&e.prefix).build())
                .expiration(LifecycleExpiration::builder().days(e.days as i32).build())
                .build()?,
        );
    }
    rules.push(
        LifecycleRule::builder()
            .id("abort-incomplete-multipart")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(spec.abort_incomplete_multipart_days as i32)
                    .build(),
            )
            .build()?,
    );
    s3.put_bucket_lifecycle_configuration()
        .bucket(name)
        .lifecycle_configuration(BucketLifecycleConfiguration::builder().set_rules(Some(rules)).build()?)
        .send()
        .await
        .context("lifecycle rules")?;
    let cors = CorsRule::builder()
        .allowed_methods("PUT")
        .allowed_methods("GET")
        .allowed_origins("*")
        .allowed_headers("*")
        .expose_headers("ETag")
        .max_age_seconds(3600)
        .build()?;
    s3.put_bucket_cors()
        .bucket(name)
        .cors_configuration(CorsConfiguration::builder().cors_rules(cors).build()?)
        .send()
        .await
        .context("CORS rule")?;
    let mut targets = Vec::new();
    for n in &spec.notifications {
        let (_, arn) = queues.get(&n.target_queue).with_context(|| format!("queue {}", n.target_queue))?;
        let filter = NotificationConfigurationFilter::builder()
            .key(
                S3KeyFilter::builder()
                    .filter_rules(FilterRule::builder().name(FilterRuleName::Prefix).value(&n.prefix).build())
                    .build(),
            )
            .build();
        targets.push(
            QueueConfiguration::builder()
                .id(format!("{}-to-{}", n.prefix.trim_end_matches('/'), n.target_queue))
                .queue_arn(arn)
                .events(Event::from("s3:ObjectCreated:*"))
                .filter(filter)
                .build()?,
        );
    }
    s3.put_bucket_notification_configuration()
        .bucket(name)
        .notification_configuration(
            NotificationConfiguration::builder().set_queue_configurations(Some(targets)).build(),
        )
        .send()
        .await
        .context("notifications")?;
    Ok(())
}
