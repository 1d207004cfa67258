//! The DynamoDB adapter of import jobs against the emulator: progress reports are overwritten, not added up, and
//! live beside the recorded chunks without being mistaken for them.

use hw_import_jobs::dynamo::DynamoImports;
use hw_import_jobs::{ChunkProgress, ImportStore as _};

use crate::stack;

#[tokio::test]
async fn progress_reports_replace_each_other_and_stay_apart_from_recorded_chunks() {
    let s = stack().await;
    let store = DynamoImports::new(s.dynamo(), s.config().jobs_table);
    let tenant = format!("t-{}", ulid::Ulid::new().to_string().to_lowercase());
    let id = ulid::Ulid::new().to_string();
    assert!(store.progress(&tenant, &id, 1).await.unwrap().is_empty());
    let report = |ok, failed, skipped| ChunkProgress { ok, failed, skipped };
    store.report_progress(&tenant, &id, 1, 0, report(250, 3, 0)).await.unwrap();
    store.report_progress(&tenant, &id, 1, 0, report(500, 4, 1)).await.unwrap();
    store.report_progress(&tenant, &id, 1, 7, report(10, 0, 0)).await.unwrap();
    store.report_progress(&tenant, &id, 2, 0, report(1, 0, 0)).await.unwrap();
    let run1 = store.progress(&tenant, &id, 1).await.unwrap();
    assert_eq!(run1.into_iter().collect::<Vec<_>>(), [(0, report(500, 4, 1)), (7, report(10, 0, 0))]);
    assert_eq!(store.progress(&tenant, &id, 2).await.unwrap().len(), 1, "runs are apart");
    assert!(store.chunks(&tenant, &id, 1).await.unwrap().is_empty(), "a report is not a recorded chunk");
}
