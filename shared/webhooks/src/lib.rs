//! Webhooks: endpoints (subscriptions), deliveries and their attempts; Standard Webhooks signing, event matching,
//! payload templates, retry policies, the SSRF-guarded sender, and the dispatch step that the API's test ping and
//! the `webhook-dispatcher` function share.

pub mod catalog;
pub mod delivery;
pub mod dispatch;
pub mod dynamo;
pub mod endpoint;
pub mod fanout;
pub mod matching;
pub mod memory;
pub mod policy;
pub mod ports;
pub mod queue;
pub mod redrive;
pub mod sender;
pub mod signing;
pub mod target;
pub mod template;
