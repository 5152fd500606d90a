//! What the batch process tests share: the real server binary as a child process, tokens, and
//! the HTTP calls of a batch.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picture_domain::UserId;
use picture_server::Settings;
use picture_server::settings::RawSettings;
use serde_json::{Value, json};

use crate::fake_replicate::FakeReplicate;

const JWT_SECRET: &str = "batch-process-tests-secret-of-32-bytes!";
const ADMIN_KEY: &str = "batch-admin";
const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The price of a paid generation (the default `CREDITS_PER_GENERATION`).
pub const PRICE: i64 = 10;
/// Free generations per user (the default `FREE_GENERATIONS`).
pub const FREE: i64 = 3;

/// The tests of this binary run one after the other: each starts servers whose timing another
/// would disturb on a two-core machine.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How servers are started: one database and data directory, the fake, extra variables.
pub struct Launch {
    database: String,
    data_dir: PathBuf,
    log_dir: PathBuf,
    replicate: String,
    env: Vec<(&'static str, String)>,
}

impl Launch {
    /// Servers on `database` with their data and logs under `dir`, calling `fake`.
    pub fn new(database: &str, dir: &Path, fake: &FakeReplicate) -> Self {
        let data_dir = dir.join("data");
        std::fs::create_dir_all(&data_dir).unwrap();
        Self {
            database: database.to_owned(),
            data_dir,
            log_dir: dir.to_owned(),
            replicate: fake.uri(),
            env: Vec::new(),
        }
    }

    /// One more variable.
    pub fn with(mut self, name: &'static str, value: &str) -> Self {
        self.env.push((name, value.to_owned()));
        self
    }

    /// Starts a server named `name` (its log: `<name>.log`) and waits until it is ready.
    pub async fn start(&self, name: &str) -> Server {
        let port = free_port();
        let log_path = self.log_dir.join(format!("{name}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_picture-server"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database)
            .env("DATA_DIR", &self.data_dir)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("HTTP_WORKERS", "2")
            .env("APP_ENV", "staging")
            .env("CREDITS_ENFORCEMENT", "enforce")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env("JWT_SECRET", JWT_SECRET)
            .env("ADMIN_SERVICE_KEY", ADMIN_KEY)
            .env("REPLICATE_API_TOKEN", "r8_batches")
            .env("REPLICATE_API_BASE_URL", format!("{}/v1", self.replicate))
            .env("REPLICATE_WEBHOOK_SECRET", WEBHOOK_SECRET)
            // Webhooks are never delivered here: the prediction's echoed webhook names its
            // generation, and the workers' polls and the reconciler finish it.
            .env("WEBHOOK_BASE_URL", "https://picture.example")
            .env("OUTPUT_ALLOWED_HOSTS", "127.0.0.1")
            .env("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true")
            .env("GENERATION_POLL_INTERVAL_MS", "100")
            .env("PROVIDER_POLL_MIN_INTERVAL_MS", "100")
            .env("RECONCILER_INTERVAL_SECS", "1")
            .env("RECONCILER_MIN_AGE_SECS", "2")
            .env("GENERATION_PENDING_TIMEOUT_SECS", "41")
            .env("FINALIZE_LEASE_SECS", "3")
            .env("BATCH_CLAIM_LEASE_SECS", "10")
            .env("RATE_LIMIT_GENERATIONS_PER_MINUTE", "10000")
            .env("RATE_LIMIT_GENERATIONS_PER_DAY", "100000")
            .env("RATE_LIMIT_IP_PER_MINUTE", "0")
            .env("MAX_CONNECTIONS_PER_IP", "0")
            .env("SHUTDOWN_TIMEOUT_SECS", "5");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let child = command
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = Server {
            port,
            child,
            log: log_path,
        };
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if let Ok(answer) = client.get(format!("{}/ready", server.base())).send().await
                && answer.status() == 200
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{name} did not become ready: {}", server.log_tail());
    }

    /// A token for `user`, signed with the servers' secret.
    pub fn token(&self, user: &str) -> String {
        let mut raw = RawSettings::default();
        raw.set("DATA_DIR", self.data_dir.display().to_string())
            .set("JWT_SECRET", JWT_SECRET);
        let settings = Settings::from_raw(raw).unwrap();
        picture_server::startup::local_tokens(&settings)
            .unwrap()
            .issue(
                &UserId::parse(user).unwrap(),
                None,
                Duration::from_secs(600),
            )
            .unwrap()
    }
}

/// The server as a child process; killed (SIGKILL) when dropped.
pub struct Server {
    port: u16,
    child: Child,
    log: PathBuf,
}

impl Server {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL (`Child::kill` on Unix): no shutdown, nothing given back by the server.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Lines of its log containing `text`.
    pub fn log_lines(&self, text: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains(text))
            .count()
    }

    /// The last lines of its log, for a failure's message.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The value of the counter `name` (without labels) in its `/metrics`, 0 when absent.
    pub async fn counter(&self, name: &str) -> f64 {
        let text = reqwest::get(format!("{}/metrics", self.base()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .filter_map(|line| line.strip_prefix(name))
            .filter_map(|rest| rest.strip_prefix(' '))
            .map(|value| value.trim().parse::<f64>().unwrap())
            .sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
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
        let models: Vec<Value> = self
            .client
            .get(format!("{}/api/v1/models", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        models
            .into_iter()
            .find(|m| m["provider"] == "replicate")
            .expect("a Replicate model")
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
