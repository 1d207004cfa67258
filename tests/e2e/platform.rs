//! The local platform itself: health, resources as declared, the outbox relay through its queue, the schedule
//! loop, the SQS poller's redrive to the dead-letter queue, and the demo tenant.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use hubble_e2e::BusTap;
use hw_resources::{Manifest, manifest};
use serde_json::{Value, json};

use crate::stack;

#[tokio::test]
async fn health_reports_every_dependency_up() {
    let s = stack().await;
    let r = s.http.get(format!("{}/health", s.base_url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    for dep in ["control_table", "data_table", "event_bus"] {
        assert_eq!(body["checks"][dep]["status"], "up", "{body}");
    }
}

#[tokio::test]
async fn bootstrapped_resources_match_the_manifest() {
    let s = stack().await;
    let m = manifest();
    let dynamo = s.dynamo();
    for table in m.tables.values() {
        let name = Manifest::physical(&s.prefix, &table.name);
        let d = dynamo.describe_table().table_name(&name).send().await.unwrap().table.unwrap();
        let keys: Vec<(String, String)> =
            d.key_schema().iter().map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned())).collect();
        let mut want = vec![(table.partition_key.name.clone(), "HASH".to_owned())];
        want.extend(table.sort_key.iter().map(|k| (k.name.clone(), "RANGE".to_owned())));
        assert_eq!(keys, want, "{name} key schema");
        let gsis: Vec<String> =
            d.global_secondary_indexes().iter().map(|g| g.index_name().unwrap().to_owned()).collect();
        assert_eq!(
            gsis,
            table.global_secondary_indexes.iter().map(|g| g.name.clone()).collect::<Vec<_>>(),
            "{name} indexes"
        );
        if let Some(ttl) = &table.ttl_attribute {
            let t = dynamo.describe_time_to_live().table_name(&name).send().await.unwrap();
            assert_eq!(t.time_to_live_description().and_then(|d| d.attribute_name()), Some(ttl.as_str()), "{name} TTL");
        }
    }
    let sqs = s.sqs();
    for q in m.queues.values() {
        let url = sqs
            .get_queue_url()
            .queue_name(Manifest::physical(&s.prefix, &q.name))
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let attrs =
            sqs.get_queue_attributes().queue_url(&url).attribute_names(QueueAttributeName::All).send().await.unwrap();
        let attrs = attrs.attributes().unwrap();
        assert_eq!(attrs[&QueueAttributeName::VisibilityTimeout], q.visibility_timeout_seconds.to_string());
        let redrive: Value = serde_json::from_str(&attrs[&QueueAttributeName::RedrivePolicy]).unwrap();
        assert_eq!(redrive["maxReceiveCount"].to_string().trim_matches('"'), q.max_receive_count.to_string());
        assert!(redrive["deadLetterTargetArn"].as_str().unwrap().ends_with(&Manifest::dlq_name(&s.prefix, q)));
    }
    let scheduler = aws_sdk_scheduler::Client::new(&s.sdk);
    for (id, sched) in &m.schedules {
        let got = scheduler.get_schedule().name(Manifest::physical(&s.prefix, id)).send().await.unwrap();
        assert_eq!(got.schedule_expression(), Some(sched.expression.as_str()));
    }
    let events = aws_sdk_eventbridge::Client::new(&s.sdk);
    let bus = Manifest::physical(&s.prefix, &m.event_bus.name);
    events.describe_event_bus().name(&bus).send().await.expect("the bus exists");
    for (id, rule) in &m.rules {
        let name = Manifest::physical(&s.prefix, id);
        let got = events.describe_rule().name(&name).event_bus_name(&bus).send().await.expect("the rule exists");
        let pattern: serde_json::Value = serde_json::from_str(got.event_pattern().unwrap_or("null")).unwrap();
        assert_eq!(pattern, rule.pattern, "rule {name}");
        let targets = events.list_targets_by_rule().rule(&name).event_bus_name(&bus).send().await.unwrap();
        let arns: Vec<&str> = targets.targets().iter().map(|t| t.arn()).collect();
        let queue = Manifest::physical(&s.prefix, &m.queues[&rule.target_queue].name);
        assert!(arns.len() == 1 && arns[0].ends_with(&format!(":{queue}")), "rule {name} targets {arns:?}");
    }
}

#[tokio::test]
async fn events_left_in_the_outbox_are_published_by_the_relay_through_its_queue() {
    let s = stack().await;
    let tenant = format!("t-{}", ulid::Ulid::new().to_string().to_lowercase());
    let tap = BusTap::new(&s, &tenant).await.unwrap();
    // An event whose writer crashed before publishing: in the outbox, a minute old.
    let event = json!({"id": format!("evt_{}", ulid::Ulid::new()), "type": "record.created", "tenant": tenant,
        "time": (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {"entity": "company", "id": "r1"}});
    let id = event["id"].as_str().unwrap().to_owned();
    s.dynamo()
        .put_item()
        .table_name(s.config().data_table)
        .item("pk", AttributeValue::S(format!("T#{tenant}#OUTBOX")))
        .item("sk", AttributeValue::S(id.clone()))
        .item("outbox_shard", AttributeValue::S(hw_store::keys::outbox_shard(&id)))
        .item("outbox_at", AttributeValue::S(event["time"].as_str().unwrap().to_owned()))
        .item("envelope", AttributeValue::S(event.to_string()))
        .send()
        .await
        .unwrap();
    // What the schedule sends every minute; sending it now saves the wait.
    let sqs = s.sqs();
    let url =
        sqs.get_queue_url().queue_name(format!("{}-outbox-relay", s.prefix)).send().await.unwrap().queue_url.unwrap();
    sqs.send_message().queue_url(&url).message_body(r#"{"kind":"outbox.sweep"}"#).send().await.unwrap();
    let got = tap.collect(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "the relay published the waiting event");
    assert_eq!(got[0]["detail"]["id"], id.as_str());
    let left = s
        .dynamo()
        .get_item()
        .table_name(s.config().data_table)
        .key("pk", AttributeValue::S(format!("T#{tenant}#OUTBOX")))
        .key("sk", AttributeValue::S(id))
        .send()
        .await
        .unwrap();
    assert!(left.item.is_none(), "published events leave the outbox");
    tap.remove().await;
}

#[tokio::test]
async fn the_schedule_loop_delivers_due_schedules_to_their_queue() {
    let s = stack().await;
    let sqs = s.sqs();
    let name = format!("{}-e2e-{}", s.prefix, ulid::Ulid::new().to_string().to_lowercase());
    let url = sqs.create_queue().queue_name(&name).send().await.unwrap().queue_url.unwrap();
    let arn = s.queue_arn(&url).await;
    let scheduler = aws_sdk_scheduler::Client::new(&s.sdk);
    scheduler
        .create_schedule()
        .name(&name)
        .schedule_expression("rate(1 hour)")
        .flexible_time_window(
            aws_sdk_scheduler::types::FlexibleTimeWindow::builder()
                .mode(aws_sdk_scheduler::types::FlexibleTimeWindowMode::Off)
                .build()
                .unwrap(),
        )
        .target(
            aws_sdk_scheduler::types::Target::builder()
                .arn(arn)
                .role_arn("arn:aws:iam::000000000000:role/e2e")
                .input(r#"{"hello":"schedule"}"#)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut body = None;
    while body.is_none() && tokio::time::Instant::now() < deadline {
        let out = sqs.receive_message().queue_url(&url).wait_time_seconds(1).send().await.unwrap();
        body = out.messages().first().and_then(|m| m.body().map(str::to_owned));
    }
    assert_eq!(body.as_deref(), Some(r#"{"hello":"schedule"}"#));
    scheduler.delete_schedule().name(&name).send().await.unwrap();
    sqs.delete_queue().queue_url(&url).send().await.unwrap();
}

#[tokio::test]
async fn the_sqs_poller_deletes_successes_and_redrives_reported_failures_to_the_dlq() {
    let s = stack().await;
    let sqs = s.sqs();
    let base = format!("e2e-poller-{}", ulid::Ulid::new().to_string().to_lowercase());
    let dlq = sqs.create_queue().queue_name(format!("{base}-dlq")).send().await.unwrap().queue_url.unwrap();
    let dlq_arn = s.queue_arn(&dlq).await;
    let url = sqs
        .create_queue()
        .queue_name(&base)
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}).to_string(),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    for body in ["ok-1", "poison", "ok-2"] {
        sqs.send_message().queue_url(&url).message_body(body).send().await.unwrap();
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let poller = hubble_local::sqs::Poller {
        function: "e2e".into(),
        queue_url: url.clone(),
        queue_arn: "arn:aws:sqs:us-east-1:000000000000:e2e".into(),
        region: "us-east-1".into(),
        batch_size: 10,
        handler: Arc::new(move |event| {
            counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                let mut response = SqsBatchResponse::default();
                for r in event.records.iter().filter(|r| r.body.as_deref() == Some("poison")) {
                    let mut f = BatchItemFailure::default();
                    f.item_identifier = r.message_id.clone().unwrap();
                    response.batch_item_failures.push(f);
                }
                response
            })
        }),
    };
    let mut handled = 0;
    for _ in 0..8 {
        handled += poller.poll_once(&sqs, 1).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(handled, 2, "the two good messages were handled and deleted");
    assert!(calls.load(Ordering::SeqCst) >= 2, "the poison message was retried");
    let dead = sqs.receive_message().queue_url(&dlq).wait_time_seconds(2).send().await.unwrap();
    let bodies: Vec<&str> = dead.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["poison"], "after maxReceiveCount the failing message sits in the DLQ");
    sqs.delete_queue().queue_url(&url).send().await.unwrap();
    sqs.delete_queue().queue_url(&dlq).send().await.unwrap();
}

#[tokio::test]
async fn the_demo_tenant_is_seeded_with_working_credentials() {
    let s = stack().await;
    let Some(dir) = &s.state_dir else { panic!("HUBBLE_E2E_STATE_DIR is not set") };
    let demo: Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/demo.json")).unwrap()).unwrap();
    assert_eq!(demo["base_url"], s.base_url.as_str());
    for (tenant, key) in
        [(&demo["tenant"], &demo["api_key"]), (&demo["other_tenant"]["tenant"], &demo["other_tenant"]["api_key"])]
    {
        let r =
            s.http.get(format!("{}/v1/models", s.base_url)).bearer_auth(key.as_str().unwrap()).send().await.unwrap();
        assert_eq!(r.status(), 200, "key of {tenant}");
        let models: Value = r.json().await.unwrap();
        let names: Vec<&str> = models["data"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["company", "contact", "project"]);
    }
}
