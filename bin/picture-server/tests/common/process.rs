//! The real server binary as a child process, shared by the process test suites (each includes
//! this file with `#[path]`): a free port, the start with the variables every suite sets and the
//! wait for `/ready`, tokens signed with the servers' secret, SIGKILL and SIGTERM, the wait for
//! the exit, the log, and a `/metrics` counter. Each suite adds its own variables with
//! [`Launch::with`] or [`Launch::on_fake_replicate`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use picture_domain::UserId;
use picture_server::Settings;
use picture_server::settings::RawSettings;
use serde_json::Value;

/// The signing secret of the fakes' webhooks, configured by [`Launch::on_fake_replicate`].
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How servers are started: one database (`None`: the embedded SQLite default in the data
/// directory), data directory and JWT secret, and the suite's variables.
pub struct Launch {
    database: Option<String>,
    data_dir: PathBuf,
    log_dir: PathBuf,
    jwt_secret: &'static str,
    env: Vec<(&'static str, String)>,
}

impl Launch {
    /// Servers on `database` with their data (`dir/data`) and logs under `dir`, signing tokens
    /// with `jwt_secret`.
    pub fn new(database: Option<&str>, dir: &Path, jwt_secret: &'static str) -> Self {
        let data_dir = dir.join("data");
        std::fs::create_dir_all(&data_dir).unwrap();
        Self {
            database: database.map(str::to_owned),
            data_dir,
            log_dir: dir.to_owned(),
            jwt_secret,
            env: Vec::new(),
        }
    }

    /// One more variable.
    pub fn with(mut self, name: &'static str, value: &str) -> Self {
        self.env.push((name, value.to_owned()));
        self
    }

    /// Staging with credits enforced, admin calls with `admin_key`, and Replicate (token
    /// `api_token`) at `replicate`, a fake on loopback whose outputs on 127.0.0.1 may be
    /// fetched and whose webhooks are signed with [`WEBHOOK_SECRET`].
    pub fn on_fake_replicate(self, replicate: &str, api_token: &str, admin_key: &str) -> Self {
        self.with("APP_ENV", "staging")
            .with("CREDITS_ENFORCEMENT", "enforce")
            .with("ADMIN_SERVICE_KEY", admin_key)
            .with("REPLICATE_API_TOKEN", api_token)
            .with("REPLICATE_API_BASE_URL", &format!("{replicate}/v1"))
            .with("REPLICATE_WEBHOOK_SECRET", WEBHOOK_SECRET)
            .with("WEBHOOK_BASE_URL", "https://picture.example")
            .with("OUTPUT_ALLOWED_HOSTS", "127.0.0.1")
            .with("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true")
    }

    /// Starts a server named `name` (its log: `<name>.log`, appended to) and waits until it is
    /// ready.
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
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env("JWT_SECRET", self.jwt_secret)
            .env("RATE_LIMIT_IP_PER_MINUTE", "0")
            .env("MAX_CONNECTIONS_PER_IP", "0");
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
            .set("JWT_SECRET", self.jwt_secret);
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
    /// Its base URL.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL (`Child::kill` on Unix): no shutdown, no rollback, nothing given back by the
    /// server.
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

/// The first active model served by Replicate, as the server at `base` lists it.
pub async fn replicate_model(client: &reqwest::Client, base: &str) -> Value {
    let models: Vec<Value> = client
        .get(format!("{base}/api/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    models
        .into_iter()
        .find(|m| m["provider"] == "replicate")
        .unwrap_or_else(|| panic!("no Replicate model listed"))
}
