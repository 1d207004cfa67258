//! The DynamoDB adapter of export jobs and templates against the emulator: the conditional writes that keep a
//! repeated message from running an export twice and let a crashed run be taken over.

use hw_export_jobs::dynamo::DynamoExportStore;
use hw_export_jobs::{
    Claim, ExportJob, ExportSpec, ExportStatus, ExportStore, ExportStoreError, ExportTemplate, Finish, JobQuery,
};

use crate::stack;

fn spec(entity: &str) -> ExportSpec {
    ExportSpec { entity: entity.into(), format: "csv".into(), sort: Some("-age".into()), ..ExportSpec::default() }
}

#[tokio::test]
async fn claims_leases_and_finishes_are_conditional() {
    let s = stack().await;
    let store = DynamoExportStore::new(s.dynamo(), s.config().jobs_table);
    let tenant = format!("t-{}", ulid::Ulid::new().to_string().to_lowercase());
    let id = hw_export_jobs::job::new_export_id();
    let job = ExportJob::queued(id.clone(), &tenant, spec("contact"), "apikey:k", "2026-11-25T10:00:00.000Z");
    assert!(store.create_job(&job).await.unwrap());
    assert!(!store.create_job(&job).await.unwrap(), "a second create of the same id is refused");
    assert_eq!(store.get_job(&tenant, &id).await.unwrap().unwrap(), job, "stored as given");

    let now = 1_000_000;
    let Claim::Claimed(first) = store.claim(&tenant, &id, "t1", now, now + 60_000, "one").await.unwrap() else {
        panic!("a queued job is claimed")
    };
    assert_eq!((first.status, first.attempts, first.claim_token.as_deref()), (ExportStatus::Running, 1, Some("one")));
    assert_eq!(store.claim(&tenant, &id, "t2", now + 1, now + 60_001, "two").await.unwrap(), Claim::Busy);
    // the first run crashed: once its lease has passed, the next delivery takes over
    let later = now + 60_001;
    let Claim::Claimed(second) = store.claim(&tenant, &id, "t3", later, later + 60_000, "three").await.unwrap() else {
        panic!("an expired lease is claimed again")
    };
    assert_eq!(second.attempts, 2);
    let failed = Finish::Failed { error: "late".into() };
    assert!(matches!(store.finish(&tenant, &id, "one", &failed, "t4").await, Err(ExportStoreError::Conflict)));
    assert!(matches!(store.release(&tenant, &id, "one").await, Err(ExportStoreError::Conflict)));
    let done = Finish::Completed { rows: 7, bytes: 99, file_key: "exports/k".into(), file_name: "c.csv".into() };
    let finished = store.finish(&tenant, &id, "three", &done, "t5").await.unwrap();
    assert_eq!((finished.status, finished.rows, finished.bytes), (ExportStatus::Completed, 7, 99));
    assert_eq!((finished.claim_token, finished.lease_until_ms), (None, None));
    assert!(matches!(store.claim(&tenant, &id, "t6", later * 2, later * 3, "four").await.unwrap(), Claim::Finished(_)));
    store.mark_notified(&tenant, &id).await.unwrap();
    assert!(store.get_job(&tenant, &id).await.unwrap().unwrap().notified);

    // a released claim makes the job queued again; a deleted job cannot be finished
    let other = hw_export_jobs::job::new_export_id();
    store.create_job(&ExportJob::queued(other.clone(), &tenant, spec("contact"), "apikey:k", "t")).await.unwrap();
    store.claim(&tenant, &other, "t", now, now + 1, "x").await.unwrap();
    store.release(&tenant, &other, "x").await.unwrap();
    assert_eq!(store.get_job(&tenant, &other).await.unwrap().unwrap().status, ExportStatus::Queued);
    store.claim(&tenant, &other, "t", now, now + 1, "y").await.unwrap();
    store.delete_job(&tenant, &other).await.unwrap();
    assert!(matches!(store.finish(&tenant, &other, "y", &done, "t").await, Err(ExportStoreError::NotFound)));
    assert_eq!(store.claim(&tenant, &other, "t", now, now + 1, "z").await.unwrap(), Claim::Missing);
    store.mark_notified(&tenant, &other).await.unwrap();
}

#[tokio::test]
async fn history_pages_newest_first_and_templates_are_versioned() {
    let s = stack().await;
    let store = DynamoExportStore::new(s.dynamo(), s.config().jobs_table);
    let tenant = format!("t-{}", ulid::Ulid::new().to_string().to_lowercase());
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = hw_export_jobs::job::new_export_id();
        let entity = if i % 2 == 0 { "contact" } else { "company" };
        store.create_job(&ExportJob::queued(id.clone(), &tenant, spec(entity), "apikey:k", "t")).await.unwrap();
        ids.push(id);
    }
    store.claim(&tenant, &ids[4], "t", 0, 1, "a").await.unwrap();
    let page = |q: JobQuery| {
        let store = store.clone();
        let tenant = tenant.clone();
        async move { store.list_jobs(&tenant, &q).await.unwrap() }
    };
    let first = page(JobQuery { limit: 2, ..JobQuery::default() }).await;
    let got: Vec<&str> = first.items.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(got, [ids[4].as_str(), ids[3].as_str()]);
    let rest = page(JobQuery { limit: 10, before: first.next.clone(), ..JobQuery::default() }).await;
    assert_eq!(rest.items.len(), 3);
    assert_eq!(rest.next, None);
    let contacts = page(JobQuery { limit: 10, entity: Some("contact".into()), ..JobQuery::default() }).await;
    assert_eq!(contacts.items.len(), 3);
    let running = page(JobQuery { limit: 10, status: Some(ExportStatus::Running), ..JobQuery::default() }).await;
    assert_eq!(running.items.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [ids[4].as_str()]);

    let mut t = ExportTemplate {
        id: hw_export_jobs::job::new_template_id(),
        tenant: tenant.clone(),
        name: "nightly".into(),
        description: String::new(),
        spec: spec("contact"),
        schedule: Some("rate(1 day)".into()),
        timezone: None,
        enabled: true,
        version: 1,
        updated_by: "apikey:k".into(),
        created_at: "t".into(),
        updated_at: "t".into(),
    };
    store.create_template(&t).await.unwrap();
    assert!(matches!(store.create_template(&t).await, Err(ExportStoreError::AlreadyExists)));
    t.version = 2;
    t.schedule = None;
    assert!(matches!(store.replace_template(&t, 5).await, Err(ExportStoreError::Conflict)));
    store.replace_template(&t, 1).await.unwrap();
    assert_eq!(store.list_templates(&tenant).await.unwrap(), [t.clone()]);
    assert_eq!(page(JobQuery { limit: 10, ..JobQuery::default() }).await.items.len(), 5, "templates are not jobs");
    store.delete_template(&tenant, &t.id).await.unwrap();
    assert!(matches!(store.replace_template(&t, 2).await, Err(ExportStoreError::NotFound)));
}
