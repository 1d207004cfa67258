//! Core of the OAuth2 authorization server and OIDC provider, free of AWS, HTTP and storage: the rules a request
//! must follow, as pure functions and types, so the `oauth` function only wires them to requests and tables.

pub mod client;
pub mod errors;
pub mod jwt;
pub mod keys;
pub mod pkce;
pub mod redirect;
pub mod scope;
