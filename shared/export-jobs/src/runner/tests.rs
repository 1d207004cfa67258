//! The run on in-memory adapters: what lands in the bucket, what is announced, and what happens when messages
//! repeat, runs crash and dependencies fail.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use hw_aws::events::RecordingPublisher;
use hw_aws::kms::StaticKeyring;
use hw_domain::model::Model;
use hw_files::{CompletedPart, MemoryFiles, ObjectInfo, PresignedRequest};
use hw_store::ControlStore;
use hw_store::cipher::FieldCipher;
use hw_store::memory::{MemoryControlStore, MemoryDataStore};
use serde_json::{Value, json};

use super::*;
use crate::job::{ExportStatus, ExportTemplate};
use crate::memory::MemoryExportStore;
use crate::spec::ExportSpec;

const TENANT: &str = "acme";

/// Files in memory, whose uploads can be made to fail.
#[derive(Default)]
struct Bucket {
    files: MemoryFiles,
    down: AtomicBool,
    puts: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl FileStore for Bucket {
    async fn presign_put(&self, key: &str, expires: Duration) -> Result<PresignedRequest, FileError> {
        self.files.presign_put(key, expires).await
    }
    async fn presign_get(&self, key: &str, name: Option<&str>, exp: Duration) -> Result<PresignedRequest, FileError> {
        self.files.presign_get(key, name, exp).await
    }
    async fn create_multipart(&self, key: &str) -> Result<String, FileError> {
        self.files.create_multipart(key).await
    }
    async fn presign_part(&self, k: &str, u: &str, n: i32, e: Duration) -> Result<PresignedRequest, FileError> {
        self.files.presign_part(k, u, n, e).await
    }
    async fn complete_multipart(&self, key: &str, upload: &str, parts: &[CompletedPart]) -> Result<(), FileError> {
        self.files.complete_multipart(key, upload, parts).await
    }
    async fn abort_multipart(&self, key: &str, upload: &str) -> Result<(), FileError> {
        self.files.abort_multipart(key, upload).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, FileError> {
        self.files.head(key).await
    }
    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<Vec<u8>, FileError> {
        self.files.get_range(key, start, end).await
    }
    async fn download_to(&self, key: &str, path: &Path) -> Result<u64, FileError> {
        self.files.download_to(key, path).await
    }
    async fn put_bytes(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), FileError> {
        self.files.put_bytes(key, bytes, content_type).await
    }
    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<(), FileError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(FileError::Unavailable("bucket down (test)".into()));
        }
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.files.put_file(key, path, content_type).await
    }
    async fn delete(&self, key: &str) -> Result<(), FileError> {
        self.files.delete(key).await
    }
}

struct World {
    runner: Runner,
    store: Arc<MemoryExportStore>,
    bucket: Arc<Bucket>,
    publisher: Arc<RecordingPublisher>,
    control: Arc<MemoryControlStore>,
}

fn model() -> Model {
    serde_json::from_value(json!({"name": "contact", "label": "Contact", "version": 1,
        "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z", "fields": [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "integer"},
        {"name": "tax_id", "type": "string", "sensitive": true}]}))
    .unwrap()
}

async fn world() -> World {
    let control = Arc::new(MemoryControlStore::default());
    let publisher = Arc::new(RecordingPublisher::default());
    let cipher = Arc::new(FieldCipher::new(control.clone(), Arc::new(StaticKeyring::new([5; 32]))));
    let records = Records {
        control: control.clone(),
        data: Arc::new(MemoryDataStore::default()),
        publisher: publisher.clone(),
        cipher,
        publication: hw_store::records::Publication::Immediate,
    };
    control.put_model(TENANT, &model(), None).await.unwrap();
    let p = Principal::new(TENANT, "apikey:k", vec!["admin".into()]);
    for (name, age, tax) in
        [("Ann", 31, "T-1"), ("=HYPERLINK(\"http://evil\")", 45, "T-2"), ("Cy", 19, "T-3"), ("+Dee", 52, "T-4")]
    {
        let attrs = json!({"name": name, "age": age, "tax_id": tax});
        records.create(&p, &model(), None, attrs.as_object().unwrap(), &|f| format!("/{f}")).await.unwrap();
    }
    publisher.published.lock().unwrap().clear();
    let store = Arc::new(MemoryExportStore::default());
    let bucket = Arc::new(Bucket::default());
    let runner = Runner {
        store: store.clone(),
        records,
        files: bucket.clone(),
        publisher: publisher.clone(),
        lease: Duration::from_secs(930),
    };
    World { runner, store, bucket, publisher, control }
}

fn spec(v: Value) -> ExportSpec {
    serde_json::from_value(v).unwrap()
}

async fn queue(w: &World, s: ExportSpec) -> String {
    let id = crate::job::new_export_id();
    let job = ExportJob::queued(id.clone(), TENANT, s, "apikey:k", "2026-11-25T10:00:00.000Z");
    assert!(w.store.create_job(&job).await.unwrap());
    id
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::Reader::from_reader(bytes).records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

fn events(w: &World) -> Vec<Envelope> {
    w.publisher.published.lock().unwrap().clone()
}

#[tokio::test]
async fn an_export_lands_in_the_bucket_filtered_sorted_neutralised_and_announced() {
    let w = world().await;
    let id = queue(
        &w,
        spec(json!({"entity": "contact", "format": "csv", "filter": [{"field": "age", "op": "gte", "value": "30"}],
                    "sort": "-age", "fields": ["name", "age"]})),
    )
    .await;
    let Outcome::Completed(job) = w.runner.run(TENANT, &id, false).await.unwrap() else { panic!("not completed") };
    assert_eq!((job.status, job.rows, job.attempts, job.notified), (ExportStatus::Completed, 3, 1, false));
    let key = job.file_key.clone().unwrap();
    assert_eq!(key, format!("exports/acme/{id}/contact-20261125T100000Z.csv"));
    let bytes = w.bucket.files.get(&key).unwrap();
    assert_eq!(job.bytes, bytes.len() as u64);
    let rows = csv_rows(&bytes);
    let names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(names, ["'+Dee", "'=HYPERLINK(\"http://evil\")", "Ann"], "sorted by -age, formulas neutralised");
    assert!(rows.iter().all(|r| r.len() == 3), "id, name, age: the sensitive tax_id stays out");

    let published = events(&w);
    assert_eq!(published.len(), 1);
    let e = &published[0];
    assert_eq!((e.event_type.as_str(), e.id.clone()), ("export.completed", job.event_id()));
    assert_eq!(
        e.data,
        json!({"id": id, "entity": "contact", "format": "csv", "rows": 3, "bytes": job.bytes,
        "file_name": "contact-20261125T100000Z.csv", "template_id": null})
    );
    assert!(w.store.get_job(TENANT, &id).await.unwrap().unwrap().notified);
}

#[tokio::test]
async fn xlsx_cells_are_neutralised_too_and_sensitive_fields_come_decrypted_when_asked() {
    use calamine::{Reader as _, Xlsx};
    let w = world().await;
    let id = queue(&w, spec(json!({"entity": "contact", "format": "xlsx", "include_sensitive": true, "sort": "name"})))
        .await;
    let Outcome::Completed(job) = w.runner.run(TENANT, &id, false).await.unwrap() else { panic!("not completed") };
    let bytes = w.bucket.files.get(job.file_key.as_deref().unwrap()).unwrap();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("contact").unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0], ["id", "name", "age", "tax_id"]);
    let by_name: Vec<(&str, &str)> = rows[1..].iter().map(|r| (r[1].as_str(), r[3].as_str())).collect();
    assert_eq!(
        by_name,
        [("'+Dee", "T-4"), ("'=HYPERLINK(\"http://evil\")", "T-2"), ("Ann", "T-1"), ("Cy", "T-3")],
        "sorted by name as stored; formulas neutralised; sensitive values opened"
    );
}

#[tokio::test]
async fn a_repeated_message_runs_the_export_once() {
    let w = world().await;
    let id = queue(&w, spec(json!({"entity": "contact", "format": "ndjson"}))).await;
    assert!(matches!(w.runner.run(TENANT, &id, false).await.unwrap(), Outcome::Completed(_)));
    assert_eq!(w.runner.run(TENANT, &id, false).await.unwrap(), Outcome::Skipped("the export is finished"));
    assert_eq!(w.bucket.puts.load(Ordering::SeqCst), 1);
    assert_eq!(events(&w).len(), 1, "announced once");

    // while a run holds a live lease, a duplicate leaves it alone
    let busy = queue(&w, spec(json!({"entity": "contact", "format": "json"}))).await;
    let far = chrono::Utc::now().timestamp_millis() + 600_000;
    w.store.update_job(TENANT, &busy, |j| {
        j.status = ExportStatus::Running;
        j.lease_until_ms = Some(far);
        j.claim_token = Some("other".into());
    });
    assert_eq!(w.runner.run(TENANT, &busy, false).await.unwrap(), Outcome::Skipped("another run holds the export"));
    assert_eq!(w.store.get_job(TENANT, &busy).await.unwrap().unwrap().status, ExportStatus::Running);
}

#[tokio::test]
async fn a_crashed_run_is_taken_over_once_its_lease_expires() {
    let w = world().await;
    let id = queue(&w, spec(json!({"entity": "contact", "format": "xml"}))).await;
    // a first run claimed it and died: running, with a lease in the past
    w.store.update_job(TENANT, &id, |j| {
        j.status = ExportStatus::Running;
        j.attempts = 1;
        j.lease_until_ms = Some(chrono::Utc::now().timestamp_millis() - 1);
        j.claim_token = Some("dead".into());
    });
    let Outcome::Completed(job) = w.runner.run(TENANT, &id, false).await.unwrap() else { panic!("not taken over") };
    assert_eq!((job.attempts, job.rows), (2, 4));
    // the dead run cannot finish what it no longer holds
    let late = w.store.finish(TENANT, &id, "dead", &Finish::Failed { error: "x".into() }, "now").await;
    assert!(matches!(late, Err(ExportStoreError::Conflict)));
}

#[tokio::test]
async fn transient_failures_give_the_claim_back_and_the_last_delivery_fails_the_export() {
    let w = world().await;
    let id = queue(&w, spec(json!({"entity": "contact", "format": "csv"}))).await;
    w.bucket.down.store(true, Ordering::SeqCst);
    let err = w.runner.run(TENANT, &id, false).await.unwrap_err();
    assert!(matches!(err, RunError::Files(_)), "{err}");
    let job = w.store.get_job(TENANT, &id).await.unwrap().unwrap();
    assert_eq!((job.status, job.claim_token.as_deref()), (ExportStatus::Queued, None), "queued again at once");
    assert!(events(&w).is_empty());

    let Outcome::Failed(job) = w.runner.run(TENANT, &id, true).await.unwrap() else { panic!("not failed") };
    assert!(job.error.as_deref().unwrap().starts_with("gave up after 2 attempts"), "{:?}", job.error);
    assert_eq!(events(&w)[0].event_type, "export.failed");
    assert_eq!(events(&w)[0].data["reason"], json!(job.error));
}

#[tokio::test]
async fn a_finished_export_whose_event_was_lost_is_announced_by_the_next_delivery() {
    let w = world().await;
    let id = queue(&w, spec(json!({"entity": "contact", "format": "json"}))).await;
    w.publisher.fail.store(true, Ordering::SeqCst);
    assert!(matches!(w.runner.run(TENANT, &id, false).await, Err(RunError::Publish(_))));
    let job = w.store.get_job(TENANT, &id).await.unwrap().unwrap();
    assert_eq!((job.status, job.notified), (ExportStatus::Completed, false));
    w.publisher.fail.store(false, Ordering::SeqCst);
    assert_eq!(w.runner.run(TENANT, &id, false).await.unwrap(), Outcome::Skipped("the export is finished"));
    assert_eq!(events(&w).len(), 1);
    assert_eq!(events(&w)[0].id, job.event_id());
    assert_eq!(w.bucket.puts.load(Ordering::SeqCst), 1, "not rendered again");
}

#[tokio::test]
async fn an_export_of_a_deleted_entity_or_a_stale_query_fails_with_its_reason() {
    let w = world().await;
    let stale = queue(&w, spec(json!({"entity": "contact", "format": "csv", "sort": "nickname"}))).await;
    let Outcome::Failed(job) = w.runner.run(TENANT, &stale, false).await.unwrap() else { panic!("not failed") };
    assert!(job.error.as_deref().unwrap().contains("`nickname` is not a field"), "{:?}", job.error);
    w.control.delete_model(TENANT, "contact", 1).await.unwrap();
    let gone = queue(&w, spec(json!({"entity": "contact", "format": "csv"}))).await;
    let Outcome::Failed(job) = w.runner.run(TENANT, &gone, false).await.unwrap() else { panic!("not failed") };
    assert_eq!(job.error.as_deref(), Some("the entity `contact` no longer exists"));
    assert_eq!(
        w.runner.run(TENANT, "exp_01JH3Q0W9ZK7M8T3V7X6B2N4PQ", false).await.unwrap(),
        Outcome::Skipped("the export was deleted")
    );
}

#[tokio::test]
async fn a_scheduled_firing_makes_one_export_however_often_it_is_delivered() {
    let w = world().await;
    let template = ExportTemplate {
        id: crate::job::new_template_id(),
        tenant: TENANT.into(),
        name: "nightly".into(),
        description: String::new(),
        spec: spec(json!({"entity": "contact", "format": "csv"})),
        schedule: Some("cron(0 6 * * ? *)".into()),
        timezone: None,
        enabled: true,
        version: 1,
        updated_by: "apikey:owner".into(),
        created_at: "2026-11-25T10:00:00.000Z".into(),
        updated_at: "2026-11-25T10:00:00.000Z".into(),
    };
    w.store.create_template(&template).await.unwrap();
    let message = ExportMessage::Scheduled {
        tenant: TENANT.into(),
        template_id: template.id.clone(),
        scheduled_time: Some("2026-11-26T06:00:00Z".into()),
    };
    let Outcome::Completed(job) = w.runner.handle(&message, Delivery::default()).await.unwrap() else { panic!() };
    assert_eq!((job.template_id.as_deref(), job.requested_by.as_str()), (Some(template.id.as_str()), "apikey:owner"));
    assert_eq!(
        w.runner.handle(&message, Delivery::default()).await.unwrap(),
        Outcome::Skipped("the export is finished")
    );
    // the local scheduler leaves the placeholder: the sent time of the message stands in
    let local = ExportMessage::Scheduled {
        tenant: TENANT.into(),
        template_id: template.id.clone(),
        scheduled_time: Some(crate::ports::SCHEDULED_TIME_PLACEHOLDER.into()),
    };
    let sent = Delivery { sent_at_ms: Some(1_795_000_000_123), last_attempt: false };
    assert!(matches!(w.runner.handle(&local, sent).await.unwrap(), Outcome::Completed(_)));
    let page = w.store.list_jobs(TENANT, &crate::ports::JobQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(page.items.len(), 2, "one export per firing");
    assert_eq!(events(&w)[0].data["template_id"], json!(template.id));

    let mut disabled = template.clone();
    disabled.enabled = false;
    disabled.version = 2;
    w.store.replace_template(&disabled, 1).await.unwrap();
    let later = Delivery { sent_at_ms: Some(1_795_000_600_000), last_attempt: false };
    assert_eq!(
        w.runner.handle(&local, later).await.unwrap(),
        Outcome::Skipped("the template is gone, disabled or no longer scheduled")
    );
}

/// The events a run publishes are what the catalog webhooks subscribe to describes.
#[tokio::test]
async fn outcome_events_match_the_catalog() {
    let w = world().await;
    let done = queue(&w, spec(json!({"entity": "contact", "format": "csv"}))).await;
    w.runner.run(TENANT, &done, false).await.unwrap();
    let broken = queue(&w, spec(json!({"entity": "contact", "format": "csv", "sort": "nickname"}))).await;
    w.runner.run(TENANT, &broken, false).await.unwrap();
    let published = events(&w);
    assert_eq!(published.len(), 2);
    for e in published {
        let t = hw_webhooks::catalog::catalog().iter().find(|t| t.name == e.event_type).expect("in the catalog");
        let validator = jsonschema::options().should_validate_formats(true).build(&t.schema).unwrap();
        let instance = serde_json::to_value(&e).unwrap();
        let problems: Vec<String> = validator.iter_errors(&instance).map(|p| p.to_string()).collect();
        assert_eq!(problems, Vec::<String>::new(), "{instance}");
    }
}
