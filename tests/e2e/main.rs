//! End-to-end tests against the local stack (emulator + local runner), driven over HTTP like a user.
//! `make test` starts the stack and sets HUBBLE_E2E_*; each test works in its own tenant.

mod api_keys;
mod bad_input;
mod models;
mod platform;
mod records;

use std::sync::OnceLock;

use hubble_e2e::Stack;

/// The stack is described once per test binary; every test shares it (each with its own tenant).
pub async fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    if let Some(s) = STACK.get() {
        return s;
    }
    let s = Stack::from_env().await;
    let _ = STACK.set(s);
    STACK.get().expect("set")
}
