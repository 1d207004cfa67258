//! End-to-end tests against the local stack (emulator + local runner), driven over HTTP like a user.
//! `make test` starts the stack and sets HUBBLE_E2E_*; each test works in its own tenant.

mod adapters;
mod api_keys;
mod bad_input;
mod docs;
mod exports;
mod graphql;
mod imports;
mod models;
mod oauth;
mod operations;
mod operator;
mod platform;
mod query;
mod records;
mod round_trip;
mod users;
mod webhooks;

use hubble_e2e::Stack;

/// The stack under test. Each test builds its own clients: every `#[tokio::test]` has its own runtime, and
/// connection pools must not outlive the runtime that made them.
pub async fn stack() -> Stack {
    Stack::from_env().await
}
