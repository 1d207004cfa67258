//! The handler on real-shaped SQS events, with in-memory adapters. The run itself is tested in
//! `hw_export_jobs::runner`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use aws_lambda_events::event::sqs::SqsEvent;
use hw_aws::events::RecordingPublisher;
use hw_aws::kms::StaticKeyring;
use hw_export_jobs::memory::MemoryExportStore;
use hw_export_jobs::{ExportJob, ExportSpec, ExportStatus, ExportStore, ExportTemplate};
use hw_files::MemoryFiles;
use hw_store::ControlStore;
use hw_store::memory::{MemoryControlStore, MemoryDataStore};
use serde_json::json;

use hw_store::cipher::FieldCipher;

use super::*;

fn fixture(name: &str, replace: (&str, &str)) -> SqsEvent {
    let path = format!("{}/../../events/export-runner/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap().replace(replace.0, replace.1);
    serde_json::from_str(&text).unwrap()
}

struct World {
    deps: Deps,
    store: Arc<MemoryExportStore>,
    files: MemoryFiles,
    publisher: Arc<RecordingPublisher>,
}

async fn world() -> World {
    let control = Arc::new(MemoryControlStore::default());
    let model = serde_json::from_value(json!({"name": "contact", "label": "Contact", "version": 1,
        "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
        "fields": [{"name": "email", "type": "email"}]}))
    .unwrap();
    control.put_model("acme", &model, None).await.unwrap();
    let publisher = Arc::new(RecordingPublisher::default());
    let records = Records {
        control: control.clone(),
        data: Arc::new(MemoryDataStore::default()),
        publisher: publisher.clone(),
        cipher: Arc::new(FieldCipher::new(control, Arc::new(StaticKeyring::new([1; 32])))),
        publication: hw_store::records::Publication::Immediate,
    };
    let store = Arc::new(MemoryExportStore::default());
    let files = MemoryFiles::new();
    let runner = Runner {
        store: store.clone(),
        records,
        files: Arc::new(files.clone()),
        publisher: publisher.clone(),
        lease: lease(),
    };
    World { deps: Deps { runner, max_receives: 3 }, store, files, publisher }
}

fn spec() -> ExportSpec {
    ExportSpec { entity: "contact".into(), format: "csv".into(), ..ExportSpec::default() }
}

fn failed(r: &SqsBatchResponse) -> Vec<&str> {
    r.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect()
}

#[tokio::test]
async fn a_run_message_runs_its_export() {
    let w = world().await;
    let id = hw_export_jobs::job::new_export_id();
    w.store
        .create_job(&ExportJob::queued(id.clone(), "acme", spec(), "apikey:k", "2026-11-25T10:00:00Z"))
        .await
        .unwrap();
    let out = handle(&w.deps, fixture("run", ("EXPORT_ID", &id))).await;
    assert!(failed(&out).is_empty());
    let job = w.store.get_job("acme", &id).await.unwrap().unwrap();
    assert_eq!((job.status, job.notified), (ExportStatus::Completed, true));
    assert_eq!(w.files.get(job.file_key.as_deref().unwrap()).unwrap(), b"id,email\r\n");
    assert_eq!(w.publisher.published.lock().unwrap()[0].event_type, "export.completed");
}

#[tokio::test]
async fn a_schedule_firing_makes_its_export_and_a_foreign_message_fails_alone() {
    let w = world().await;
    let template = ExportTemplate {
        id: hw_export_jobs::job::new_template_id(),
        tenant: "acme".into(),
        name: "daily".into(),
        description: String::new(),
        spec: spec(),
        schedule: Some("rate(1 day)".into()),
        timezone: None,
        enabled: true,
        version: 1,
        updated_by: "apikey:k".into(),
        created_at: "2026-11-25T10:00:00Z".into(),
        updated_at: "2026-11-25T10:00:00Z".into(),
    };
    w.store.create_template(&template).await.unwrap();
    let out = handle(&w.deps, fixture("scheduled", ("TEMPLATE_ID", &template.id))).await;
    assert_eq!(failed(&out), ["2d1c0b9e-8f7a-4c6b-9e4d-3a2f1b0c9d8e"]);
    let id = hw_export_jobs::job::scheduled_export_id(&template.id, 1_795_672_800_000);
    let job = w.store.get_job("acme", &id).await.unwrap().expect("the firing's export");
    assert_eq!((job.status, job.template_id.as_deref()), (ExportStatus::Completed, Some(template.id.as_str())));
}

#[tokio::test]
async fn an_unavailable_table_fails_the_message_so_it_comes_back() {
    let w = world().await;
    w.store.fail.store(true, Ordering::SeqCst);
    let out = handle(&w.deps, fixture("run", ("EXPORT_ID", "exp_01JH3Q0W9ZK7M8T3V7X6B2N4PQ"))).await;
    assert_eq!(failed(&out), ["0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"]);
}

#[test]
fn a_crashed_runs_lease_expires_before_its_message_comes_back() {
    let m = hw_resources::manifest();
    let f = &m.functions[FUNCTION];
    let hw_resources::Trigger::Sqs { queue, batch_size, .. } = &f.trigger else { panic!("SQS-triggered") };
    let visibility = u64::from(m.queues[queue].visibility_timeout_seconds);
    assert!(lease().as_secs() > u64::from(f.timeout_seconds), "a run ends before its lease");
    assert!(lease().as_secs() < visibility, "the lease ends before the message is visible again");
    assert_eq!(*batch_size, 1, "one export per invocation: each gets the whole timeout");
}
