//! What checking an access token costs a resource server per request, the way the REST API does it: signature
//! against the cached published keys (ES256 and RS256), claims, and the scope turned into a principal. The
//! revocation lookup is a storage read and is measured end to end by bench/oauth.py instead; here it runs on the
//! in-memory adapter so that only the CPU cost is left. A token is checked in full the first time an instance sees
//! it and from a per-instance cache of checked tokens afterwards; both are measured.
//!
//!     cargo run --release -p hw-oauth-store --example verify_cost [iterations]

use std::sync::Arc;
use std::time::Instant;

use hw_oauth::jwt::{self, AccessTokenClaims, Expected};
use hw_oauth::keys::{KeySet, KeyState, PublicKeys, SigningAlg, SigningKey};
use hw_oauth_store::memory::MemoryOAuthStore;
use hw_oauth_store::verifier::AccessTokenVerifier;

const BASE: &str = "https://hub.example";

fn claims(now: i64) -> AccessTokenClaims {
    AccessTokenClaims {
        iss: format!("{BASE}/t/acme"),
        sub: "usr_01J".into(),
        aud: BASE.into(),
        exp: now + 900,
        iat: now,
        jti: "01JXYZ".into(),
        client_id: "cl_01J".into(),
        scope: "openid data:read data:write:contact".into(),
        gid: Some("usr_01J#cl_01J#01J".into()),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn measure(label: &str, iterations: usize, mut f: impl FnMut()) {
    for _ in 0..iterations / 10 {
        f();
    }
    let mut samples = Vec::with_capacity(iterations);
    let all = Instant::now();
    for _ in 0..iterations {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let mean = all.elapsed().as_secs_f64() * 1e6 / iterations as f64;
    samples.sort_by(f64::total_cmp);
    println!(
        "{label:<44} mean {mean:>8.1} µs   p50 {:>8.1} µs   p95 {:>8.1} µs   p99 {:>8.1} µs",
        percentile(&samples, 0.5),
        percentile(&samples, 0.95),
        percentile(&samples, 0.99)
    );
}

fn report(label: &str, mut samples: Vec<f64>) {
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    println!(
        "{label:<44} mean {mean:>8.1} µs   p50 {:>8.1} µs   p95 {:>8.1} µs   p99 {:>8.1} µs",
        percentile(&samples, 0.5),
        percentile(&samples, 0.95),
        percentile(&samples, 0.99)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let iterations: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let now = chrono::Utc::now().timestamp();
    for alg in [SigningAlg::ES256, SigningAlg::RS256] {
        let key = SigningKey::generate("k1", alg).unwrap();
        let active = SigningKey::from_pkcs8_pem("k1", alg, KeyState::Active, key.private_pkcs8_pem()).unwrap();
        let set = KeySet::new(vec![active]).unwrap();
        let token = jwt::sign_access_token(&set, &claims(now)).unwrap();
        let public = PublicKeys::from_jwks(&set.jwks()).unwrap();
        let issuer = format!("{BASE}/t/acme");
        let expected = Expected { issuer: &issuer, audience: BASE, now, leeway_secs: 30 };
        measure(&format!("{alg}: signature + claims (cached keys)"), iterations, || {
            jwt::verify_access_token(&public, &token, &expected).unwrap();
        });
        let store = Arc::new(MemoryOAuthStore::new());
        let stored = hw_oauth_store::StoredKeySet {
            keys: vec![hw_oauth_store::StoredKey {
                kid: "k1".into(),
                alg,
                state: KeyState::Active,
                jwk: set.jwks().keys[0].clone(),
                sealed_private: String::new(),
                wrapped_key: String::new(),
                created_at: now,
                retired_at: None,
            }],
            version: 1,
        };
        hw_oauth_store::OAuthStore::put_keys(store.as_ref(), "acme", &stored, 0).await.unwrap();
        let verifier = AccessTokenVerifier::new(store);
        // First sight: every token new to the instance (signature and claims checked).
        let fresh: Vec<String> = (0..(iterations / 10).max(100))
            .map(|i| {
                let mut c = claims(now);
                c.jti = format!("jti-{i}");
                jwt::sign_access_token(&set, &c).unwrap()
            })
            .collect();
        let mut samples = Vec::with_capacity(fresh.len());
        for t in &fresh {
            let started = Instant::now();
            verifier.verify(t, BASE, now).await.unwrap();
            samples.push(started.elapsed().as_secs_f64() * 1e6);
        }
        report(&format!("{alg}: verifier, token seen first time"), samples);
        // Seen before: the same token again, as a client sends it with every request.
        let mut samples = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let started = Instant::now();
            verifier.verify(&token, BASE, now).await.unwrap();
            samples.push(started.elapsed().as_secs_f64() * 1e6);
        }
        report(&format!("{alg}: verifier, token seen before"), samples);
        let sign_key = set.clone();
        measure(&format!("{alg}: signing one access token"), iterations / 10, || {
            jwt::sign_access_token(&sign_key, &claims(now)).unwrap();
        });
    }
}
