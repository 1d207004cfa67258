//! Exports as jobs: what an export is (`job`, `spec`), where jobs and templates are kept (`ports`, `dynamo`,
//! `memory`), how requests travel (`queue`) and templates fire (`schedule`, `scheduler`), and the run of one
//! export (`runner`), which the `export-runner` function carries out for each message of the exports queue.
//!
//! An export's query is the data API's: its filters and sort are parsed by `hw_domain::query` and served by the
//! records query service of `hw-store`, so they mean exactly what they mean on `GET /v1/data/{entity}`; rendering
//! is `hw-export`'s (formula neutralisation included).

pub mod dynamo;
pub mod input;
pub mod job;
pub mod memory;
pub mod ports;
#[cfg(feature = "sqs")]
pub mod queue;
pub mod runner;
pub mod schedule;
#[cfg(feature = "scheduler")]
pub mod scheduler;
pub mod spec;

pub use job::{ExportJob, ExportStatus, ExportTemplate};
pub use ports::{Claim, ExportMessage, ExportQueue, ExportStore, ExportStoreError, Finish, JobPage, JobQuery};
pub use spec::{ExportSpec, FilterTerm, Plan, SpecError};
