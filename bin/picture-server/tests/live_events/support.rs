//! What the live-event process tests share: how their servers are launched (the child process
//! itself is [`crate::process`]), and the HTTP calls the tests make.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::fake_replicate::FakeReplicate;
use crate::process::{Launch, Server, replicate_model};
use crate::sse::Watch;

const JWT_SECRET: &str = "live-process-tests-secret-of-32-bytes!!";
const ADMIN_KEY: &str = "live-admin";

/// The timing-sensitive tests of this binary run one after the other: each starts servers
/// whose timing another would disturb on a two-core machine.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Servers on `database` (`None`: the embedded SQLite default in the data directory) with
/// their data and logs under `dir`, calling `fake`.
pub fn launch(database: Option<&str>, dir: &Path, fake: &FakeReplicate) -> Launch {
    Launch::new(database, dir, JWT_SECRET)
        .on_fake_replicate(&fake.uri(), "r8_live", ADMIN_KEY)
        .with("SHUTDOWN_TIMEOUT_SECS", "30")
}

/// The HTTP calls of the tests, on one server.
pub struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    pub fn on(server: &Server) -> Self {
        Self {
            // No overall timeout: streams stay open as long as a test reads them.
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
            base: server.base(),
        }
    }

    /// The first active model served by Replicate.
    pub async fn replicate_model(&self) -> Value {
        replicate_model(&self.client, &self.base).await
    }

    /// Grants `amount` credits to `user` (idempotency key `key`): the call's status.
    pub async fn grant(&self, user: &str, amount: i64, key: &str) -> u16 {
        self.client
            .post(format!("{}/api/v1/admin/credits/grant", self.base))
            .header("X-Service-Key", ADMIN_KEY)
            .json(
                &json!({"userId": user, "amount": amount, "reason": "live tests",
                          "idempotencyKey": key}),
            )
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Starts a generation without waiting for it: its id.
    pub async fn generate(&self, token: &str, model: &Value, prompt: &str) -> String {
        let answer = self
            .client
            .post(format!("{}/api/v1/generate", self.base))
            .bearer_auth(token)
            .json(&json!({"prompt": prompt, "modelId": model["id"], "waitForResult": false}))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["generationId"].as_str().unwrap().to_owned()
    }

    /// Opens the stream at `path` (under `/api/v1`): 200 and its events being read, or the
    /// refusal's status and body.
    pub async fn open(&self, token: &str, path: &str) -> Result<Watch, (u16, Value)> {
        let answer = self
            .client
            .get(format!("{}/api/v1{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        if status == 200 {
            Ok(Watch::spawn(answer))
        } else {
            Err((status, answer.json().await.unwrap_or(Value::Null)))
        }
    }

    /// Opens the stream at `path`, which must answer 200.
    pub async fn stream(&self, token: &str, path: &str) -> Watch {
        match self.open(token, path).await {
            Ok(watch) => watch,
            Err((status, body)) => panic!("GET {path}: {status} {body}"),
        }
    }
}
