//! Tracing set-up shared by every function: JSON lines on stdout (CloudWatch reads them as structured logs).
//!
//! Every line carries the function name as a field; handlers open a span with `tenant` and `request_id` so that
//! every line logged inside a request carries them too.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the JSON subscriber. `RUST_LOG` filters (default `info`). Safe to call twice: the second call is a no-op,
/// which matters for the local runner that hosts several functions in one process.
pub fn init(function: &'static str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = fmt::layer().json().flatten_event(true).with_current_span(true).with_span_list(false).with_target(false);
    let _ = tracing_subscriber::registry().with(filter).with(json).try_init();
    tracing::info!(function, "telemetry initialised");
}

/// The span every request handler runs in: its fields are printed on each line logged inside it.
#[macro_export]
macro_rules! request_span {
    ($function:expr, $request_id:expr) => {
        tracing::info_span!(
            "request",
            function = $function,
            request_id = %$request_id,
            tenant = tracing::field::Empty
        )
    };
}
