//! What the live-event process tests share: the real server binary as a child process (SIGKILL,
//! SIGTERM), tokens, and the HTTP calls the tests make.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use picture_domain::UserId;
use picture_server::Settings;
use picture_server::settings::RawSettings;
use serde_json::{Value, json};

use crate::fake_replicate::FakeReplicate;
use crate::sse::Watch;

const JWT_SECRET: &str = "live-process-tests-secret-of-32-bytes!!";
const ADMIN_KEY: &str = "live-admin";
/// The signing secret of the fake's webhooks, configured on every server.
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The timing-sensitive tests of this binary run one after the other: each starts servers
/// whose timing another would disturb on a two-core machine.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How servers are started: one database (`None`: the embedded SQLite default in the data
/// directory) and data directory, the fake, extra variables.
pub struct Launch {
    database: Option<String>,
    data_dir: PathBuf,
    log_dir: PathBuf,
    replicate: String,
    env: Vec<(&'static str, String)>,
}

impl Launch {
    /// Servers on `database` with their data and logs under `dir`, calling `fake`.
    pub fn new(database: Option<&str>, dir: &Path, fake: &FakeReplicate) -> Self {
        let data_dir = dir.join("data");
        std::fs::create_dir_all(&data_dir).unwrap();
        Self {
            database: database.map(str::to_owned),
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
            .env("REPLICATE_API_TOKEN", "r8_live")
            .env("REPLICATE_API_BASE_URL", format!("{}/v1", self.replicate))
            .env("REPLICATE_WEBHOOK_SECRET", WEBHOOK_SECRET)
            .env("WEBHOOK_BASE_URL", "https://picture.example")
            .env("OUTPUT_ALLOWED_HOSTS", "127.0.0.1")
            .env("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true")
            .env("RATE_LIMIT_IP_PER_MINUTE", "0")
            .env("MAX_CONNECTIONS_PER_IP", "0")
            .env("SHUTDOWN_TIMEOUT_SECS", "30");
        if let Some(database) = &self.database {
            command.env("DATABASE_URL", database);
        }
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

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits up to `within` for the process to exit: its status, or `None` if it still runs.
    pub async fn exited_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
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
