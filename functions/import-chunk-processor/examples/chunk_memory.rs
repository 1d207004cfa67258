//! Memory of the chunk processor on a large file, for bench/imports.py:
//!
//!   chunk_memory FILE    plans FILE (a CSV of the benchmark's customer shape, see
//!                        shared/import/benches/support/customers.rs) as the import-planner does, then runs the
//!                        import twice — a dry run, then the import itself — with the chunk processor's code on every
//!                        chunk, one after the other, as one warm Lambda instance would (the queue gives an instance
//!                        one message at a time). Prints JSON.
//!
//! What is measured: the heap high-water mark above the level at the start of each chunk (a counting global
//! allocator, peak_alloc), i.e. what processing one chunk needs on top of what the instance already holds; and the
//! process's peak resident size. The adapters are in memory: the file sits in an in-memory bucket (part of the
//! baseline, not of any chunk). The dry run does everything but the writes, so its figure is the processor's own
//! working set; the import writes into a fresh in-memory record store per chunk, so its figure also holds a copy of
//! every record and event of the chunk (DynamoDB and EventBridge would hold those instead): an upper bound.

use std::sync::Arc;
use std::time::Instant;

use hw_aws::events::RecordingPublisher;
use hw_aws::kms::StaticKeyring;
use hw_domain::model::Model;
use hw_domain::principal::Principal;
use hw_files::MemoryFiles;
use hw_import_jobs::memory::MemoryImports;
use hw_import_jobs::planner::{PlannerDeps, plan_upload};
use hw_import_jobs::processor::{ChunkDeps, process};
use hw_import_jobs::queue::MemoryChunkQueue;
use hw_import_jobs::service::{ImportLimits, Imports, NewImport, StartRequest};
use hw_import_jobs::{ImportStatus, ImportStore as _};
use hw_store::cipher::FieldCipher;
use hw_store::memory::{MemoryControlStore, MemoryDataStore};
use hw_store::ports::ControlStore;
use hw_store::records::{Publication, Records};
use peak_alloc::PeakAlloc;
use serde_json::json;

/// Counts the bytes allocated: current and high-water mark.
#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

// the model, mapping and rules of the import benchmarks (the other functions of the file are the CSV writer's)
#[allow(dead_code)]
#[path = "../../../shared/import/benches/support/customers.rs"]
mod customers;

const TENANT: &str = "bench";

/// The start request: the benchmark's mapping and rules, with the key a person would dedupe on.
fn start_body() -> serde_json::Value {
    let mut body = customers::spec_json();
    body["mode"] = json!("insert");
    body["key"] = json!(["email"]);
    body
}

/// A size line of /proc/self/status (`VmHWM`, `VmRSS`), in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn vm_hwm_kib() -> u64 {
    status_kib("VmHWM:")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let file = std::env::args().nth(1).unwrap_or_else(|| {
        eprintln!("usage: chunk_memory FILE");
        std::process::exit(2)
    });
    // what the process holds before any import work: the code and the runtime (the same crates as the function)
    let start_rss_kib = status_kib("VmRSS:");
    let bytes = std::fs::read(&file).expect("the file reads");
    let size = bytes.len();

    let control: Arc<dyn ControlStore> = Arc::new(MemoryControlStore::default());
    let model = customers::model();
    control.put_model(TENANT, &model, None).await.expect("model");
    let store = Arc::new(MemoryImports::new());
    let files = MemoryFiles::new();
    let queue = Arc::new(MemoryChunkQueue::default());
    let publisher = Arc::new(RecordingPublisher::default());
    let limits = ImportLimits { max_file_bytes: 1 << 30, ..ImportLimits::default() };
    let imports = Imports {
        store: store.clone(),
        files: Arc::new(files.clone()),
        queue: queue.clone(),
        publisher: publisher.clone(),
        limits: limits.clone(),
    };
    let principal = Principal {
        tenant: TENANT.into(),
        actor: "bench".into(),
        scopes: vec!["admin".into()],
        rate_limit_per_minute: None,
    };
    let created = imports
        .create(
            &principal,
            &model,
            NewImport {
                entity: "customer".into(),
                file_name: Some("customers.csv".into()),
                size: Some(size as u64),
                sheet: None,
                multipart: false,
            },
        )
        .await
        .expect("import created");
    files.put(&created.job.file_key, bytes);
    let planner = PlannerDeps {
        store: store.clone(),
        files: Arc::new(files.clone()),
        control: control.clone(),
        publisher: publisher.clone(),
        limits: limits.clone(),
        chunk_bytes: import_planner::CHUNK_BYTES,
        sheet_chunk_rows: import_planner::SHEET_CHUNK_ROWS,
        spreadsheet_limits: Default::default(),
        scratch: std::env::temp_dir(),
    };
    let planning = Instant::now();
    plan_upload(&planner, &created.job.file_key).await.expect("planned");
    let planning_s = planning.elapsed().as_secs_f64();
    let after_planning_hwm_kib = vm_hwm_kib();
    let world = World { control, store: store.clone(), files, publisher, limits, principal, model };
    // A dry run first (everything but the writes: the processor's own working set), then the import itself (the
    // writes too, into in-memory stores). An import that completed as a dry run can be started again.
    let dry_run = world.run(&created.job.id, true).await;
    let insert = world.run(&created.job.id, false).await;
    let done = store.get(TENANT, &created.job.id).await.expect("job").expect("job exists");
    assert_eq!(done.status, ImportStatus::Completed, "the import completes: {:?}", done.error);
    let counts = done.counts;
    println!(
        "{}",
        json!({
            "file_bytes": size,
            "chunks": insert.chunks,
            "rows": counts.total, "ok": counts.ok, "failed": counts.failed, "skipped": counts.skipped,
            "planning_s": planning_s,
            "processing_s": insert.seconds,
            "dry_run": dry_run.summary(),
            "insert": insert.summary(),
            "process_rss_mib_at_start": start_rss_kib as f64 / 1024.0,
            "process_peak_rss_mib_after_planning": after_planning_hwm_kib as f64 / 1024.0,
            "process_peak_rss_mib": vm_hwm_kib() as f64 / 1024.0,
        })
    );
}

struct World {
    control: Arc<dyn ControlStore>,
    store: Arc<MemoryImports>,
    files: MemoryFiles,
    publisher: Arc<RecordingPublisher>,
    limits: ImportLimits,
    principal: Principal,
    model: Model,
}

struct Run {
    chunks: usize,
    seconds: f64,
    /// Heap high-water mark above the start of each chunk, in bytes.
    peaks: Vec<usize>,
}

impl Run {
    fn summary(&self) -> serde_json::Value {
        let mut sorted = self.peaks.clone();
        sorted.sort_unstable();
        let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
        json!({
            "seconds": self.seconds,
            "chunk_heap_peak_mib": {"max": mib(*sorted.last().unwrap_or(&0)), "median": mib(sorted[sorted.len() / 2])},
        })
    }
}

impl World {
    /// Starts the import and runs the chunk processor on each of its chunks, one after the other.
    async fn run(&self, id: &str, dry_run: bool) -> Run {
        let mut body = start_body();
        body["dry_run"] = json!(dry_run);
        let request: StartRequest = serde_json::from_value(body.clone()).expect("start request");
        let spec = json!({"mapping": body["mapping"], "rules": body["rules"]});
        let queue = Arc::new(MemoryChunkQueue::default());
        let imports = Imports {
            store: self.store.clone(),
            files: Arc::new(self.files.clone()),
            queue: queue.clone(),
            publisher: self.publisher.clone(),
            limits: self.limits.clone(),
        };
        imports
            .start(&self.principal, &self.model, id, request, spec, std::slice::from_ref(&self.model))
            .await
            .expect("started");
        let messages = queue.take();
        let mut peaks = Vec::with_capacity(messages.len());
        let started = Instant::now();
        for msg in &messages {
            // A fresh record store per chunk: the records of earlier chunks are not this chunk's memory.
            let records = Records {
                control: self.control.clone(),
                data: Arc::new(MemoryDataStore::default()),
                publisher: self.publisher.clone(),
                cipher: Arc::new(FieldCipher::new(self.control.clone(), Arc::new(StaticKeyring::new([7; 32])))),
                publication: Publication::Immediate,
            };
            let deps = ChunkDeps {
                store: self.store.clone(),
                files: Arc::new(self.files.clone()),
                records: Arc::new(records),
                publisher: self.publisher.clone(),
                source: Default::default(),
            };
            self.publisher.published.lock().expect("events").clear();
            let base = HEAP.current_usage();
            HEAP.reset_peak_usage();
            process(&deps, msg, false).await.expect("chunk processed");
            peaks.push(HEAP.peak_usage().saturating_sub(base));
        }
        Run { chunks: messages.len(), seconds: started.elapsed().as_secs_f64(), peaks }
    }
}
