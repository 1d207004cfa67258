//! Webhooks: endpoints (subscriptions), deliveries and their attempts; Standard Webhooks signing, event matching,
//! payload templates, retry policies, the SSRF-guarded sender, and the dispatch step that the API's test ping and
//! the `webhook-dispatcher` function share.

pub mod catalog;
pub mod delivery;
pub mod endpoint;
pub mod matching;
pub mod policy;
pub mod sender;
pub mod signing;
pub mod target;
pub mod template;
