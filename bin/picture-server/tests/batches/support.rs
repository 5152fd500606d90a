//! What the batch process tests share: how their servers are launched (the child process
//! itself is [`crate::process`]), and the HTTP calls of a batch.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fake_replicate::FakeReplicate;
use crate::process::{Launch, Server, replicate_model};

const JWT_SECRET: &str = "batch-process-tests-secret-of-32-bytes!";
const ADMIN_KEY: &str = "batch-admin";
/// The price of a paid generation (the default `CREDITS_PER_GENERATION`).
pub const PRICE: i64 = 10;
/// Free generations per user (the default `FREE_GENERATIONS`).
pub const FREE: i64 = 3;

/// The tests of this binary run one after the other: each starts servers whose timing another
/// would disturb on a two-core machine.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Servers on `database` with their data and logs under `dir`, calling `fake`.
pub fn launch(database: &str, dir: &Path, fake: &FakeReplicate) -> Launch {
    // Webhooks are never delivered here: the prediction's echoed webhook names its
    // generation, and the workers' polls and the reconciler finish it.
    Launch::new(Some(database), dir, JWT_SECRET)
        .on_fake_replicate(&fake.uri(), "r8_batches", ADMIN_KEY)
        .with("GENERATION_POLL_INTERVAL_MS", "100")
        .with("PROVIDER_POLL_MIN_INTERVAL_MS", "100")
        .with("RECONCILER_INTERVAL_SECS", "1")
        .with("RECONCILER_MIN_AGE_SECS", "2")
        .with("GENERATION_PENDING_TIMEOUT_SECS", "41")
        .with("FINALIZE_LEASE_SECS", "3")
        .with("BATCH_CLAIM_LEASE_SECS", "10")
        .with("RATE_LIMIT_GENERATIONS_PER_MINUTE", "10000")
        .with("RATE_LIMIT_GENERATIONS_PER_DAY", "100000")
        .with("SHUTDOWN_TIMEOUT_SECS", "5")
}

/// The HTTP calls of the tests, on one server.
pub struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    pub fn on(server: &Server) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: server.base(),
        }
    }

    /// The first active model served by Replicate.
    pub async fn replicate_model(&self) -> Value {
        replicate_model(&self.client, &self.base).await
    }

    /// Grants `amount` credits to `user`.
    pub async fn grant(&self, user: &str, amount: i64) {
        let granted = self
            .client
            .post(format!("{}/api/v1/admin/credits/grant", self.base))
            .header("X-Service-Key", ADMIN_KEY)
            .json(
                &json!({"userId": user, "amount": amount, "reason": "batch tests",
                          "idempotencyKey": format!("grant-{user}")}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(granted.status(), 201);
    }

    /// Creates a batch of `prompts` prompts with the mobile client's body (a float
    /// `guidanceScale`, `modelVersion` `""`, tags): its id.
    pub async fn create_batch(
        &self,
        token: &str,
        model: &Value,
        prompts: usize,
        name: &str,
    ) -> String {
        let prompts: Vec<Value> = (0..prompts)
            .map(|i| json!({"text": format!("{name} {i}"), "seed": i, "tags": ["batch"]}))
            .collect();
        let answer = self
            .client
            .post(format!("{}/api/v1/batch", self.base))
            .bearer_auth(token)
            .json(&json!({
                "prompts": prompts,
                "sharedSettings": {
                    "modelId": model["id"],
                    "modelVersion": "",
                    "width": model["defaultWidth"],
                    "height": model["defaultHeight"],
                    "steps": model["defaultSteps"],
                    "guidanceScale": 3.5
                },
                "batchName": name
            }))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// `GET /api/v1/batch/{id}/progress`.
    pub async fn progress(&self, token: &str, id: &str) -> Value {
        self.get(token, &format!("/api/v1/batch/{id}/progress"))
            .await
    }

    /// `GET /api/v1/batch/{id}`.
    pub async fn batch(&self, token: &str, id: &str) -> Value {
        self.get(token, &format!("/api/v1/batch/{id}")).await
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let answer = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "GET {path}");
        answer.json().await.unwrap()
    }

    /// Starts one generation of `prompt` and waits for its end: the answer's body.
    pub async fn generate(&self, token: &str, model: &Value, prompt: &str) -> Value {
        let answer = self
            .client
            .post(format!("{}/api/v1/generate", self.base))
            .bearer_auth(token)
            .json(&json!({"prompt": prompt, "modelId": model["id"], "waitForResult": true}))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body
    }

    /// Polls the batch's progress until no item waits or runs any more (failing after
    /// `within`): the last progress.
    pub async fn wait_until_ended(
        &self,
        token: &str,
        id: &str,
        within: Duration,
        server: &Server,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let progress = self.progress(token, id).await;
            if progress["pendingCount"] == 0 && progress["processingCount"] == 0 {
                return progress;
            }
            assert!(
                Instant::now() < deadline,
                "the batch did not end within {within:?}: {progress}\n{}",
                server.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
