//! Rate limits per client and per tenant, counted in one-minute windows in DynamoDB, so every Lambda instance sees
//! the same counts. Fixed windows are what clients can reason about from the headers (`RateLimit-Reset` is when
//! the count starts over), and they cost one atomic `UpdateItem` per counter and request.

use hw_domain::principal::Principal;
use hw_store::ops::Window;

use crate::Deps;
use crate::error::ApiError;
use crate::http::Response;

pub const WINDOW_SECONDS: i64 = 60;

/// The limit that binds a request, as the `RateLimit-*` headers tell it.
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window starts over.
    pub reset: i64,
}

impl Quota {
    pub fn apply(&self, response: Response) -> Response {
        response
            .header("ratelimit-limit", self.limit.to_string())
            .header("ratelimit-remaining", self.remaining.to_string())
            .header("ratelimit-reset", self.reset.to_string())
    }
}

/// Counts the request against the client's and the tenant's window. `Ok(None)` when the counters could not be
/// reached: the API then serves without a limit rather than failing every request (and says so in the log).
pub async fn check(deps: &Deps, p: &Principal, now: i64) -> Result<Option<Quota>, (Quota, ApiError)> {
    let start = now - now.rem_euclid(WINDOW_SECONDS);
    let reset = start + WINDOW_SECONDS - now;
    let client_limit = p.rate_limit_per_minute.unwrap_or(deps.config.limits.client_per_minute);
    let tenant_limit = deps.tenant_limit(&p.tenant).await.unwrap_or(deps.config.limits.tenant_per_minute);
    let window = |counter| Window { tenant: &p.tenant, counter, start, expires_at: start + 2 * WINDOW_SECONDS };
    let hits = match deps.ops.hit(&[window(&p.actor), window("tenant")]).await {
        Ok(hits) => hits,
        Err(e) => {
            tracing::warn!(error = %e, "rate-limit counters unavailable; serving without a limit");
            return Ok(None);
        }
    };
    let (client_hits, tenant_hits) = (hits[0], hits[1]);
    let remaining = |limit: u32, hits: u64| (limit as u64).saturating_sub(hits) as u32;
    let client = Quota { limit: client_limit, remaining: remaining(client_limit, client_hits), reset };
    let tenant = Quota { limit: tenant_limit, remaining: remaining(tenant_limit, tenant_hits), reset };
    let (binding, which) = if tenant.remaining < client.remaining { (tenant, "tenant") } else { (client, "client") };
    let over = if client_hits > client_limit as u64 {
        Some(format!("this API key may make {client_limit} requests per minute"))
    } else if tenant_hits > tenant_limit as u64 {
        Some(format!("this tenant may make {tenant_limit} requests per minute across all its clients"))
    } else {
        None
    };
    match over {
        None => Ok(Some(binding)),
        Some(detail) => {
            tracing::info!(limit = which, "rate limited");
            let error = ApiError::new(
                429,
                "rate-limited",
                "Too many requests",
                format!("{detail}; the window starts over in {reset} s"),
            )
            .with_header("retry-after", reset.max(1).to_string());
            Err((binding, error))
        }
    }
}
