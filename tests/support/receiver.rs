//! The webhook receiver `make test` runs (tests/webhooks/receiver.py): it verifies deliveries with the
//! `standardwebhooks` reference library and reports what it saw.

use std::time::Duration;

use serde_json::{Value, json};

pub struct Receiver {
    pub base_url: String,
    /// This test's namespace on the receiver.
    pub key: String,
    http: reqwest::Client,
}

impl Receiver {
    /// A namespace of its own on the receiver, verifying with `secrets`.
    pub async fn new(secrets: &[&str]) -> Self {
        let base_url = std::env::var("HUBBLE_E2E_RECEIVER_URL")
            .expect("HUBBLE_E2E_RECEIVER_URL is not set: run the end-to-end tests through `make test`");
        let r = Self {
            base_url,
            key: format!("k{}", ulid::Ulid::new().to_string().to_lowercase()),
            http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client"),
        };
        r.verify_with(secrets).await;
        r
    }

    /// Replaces the secrets the receiver verifies with.
    pub async fn verify_with(&self, secrets: &[&str]) {
        let res = self
            .http
            .put(format!("{}/_keys/{}", self.base_url, self.key))
            .json(&json!({"secrets": secrets}))
            .send()
            .await
            .expect("the receiver answers");
        assert!(res.status().is_success());
    }

    /// The URL of a behaviour (`ok`, `status/500`, `fail-first/2`, `retry-after/2/1`, `hang/5`, `drop`, ...).
    pub fn url(&self, behaviour: &str) -> String {
        format!("{}/hooks/{}/{behaviour}", self.base_url, self.key)
    }

    /// Every request the receiver got for this namespace, oldest first.
    pub async fn log(&self) -> Vec<Value> {
        let res = self.http.get(format!("{}/_log/{}", self.base_url, self.key)).send().await.expect("receiver");
        res.json().await.expect("log JSON")
    }

    /// Waits until the log holds at least `n` requests matching `pred` (or `timeout`), returning them.
    pub async fn wait_for(&self, n: usize, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got: Vec<Value> = self.log().await.into_iter().filter(|e| pred(e)).collect();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
