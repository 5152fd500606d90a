//! The release server as a child process: its environment, start-up until `/ready`, its tokens,
//! its memory, and a clean stop.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use picture_server::auth::LocalTokens;
use secrecy::SecretString;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::pinning::{Placement, on_server_cores};

/// The `JWT_SECRET` of the benchmarked server.
const JWT_SECRET: &str = "bench-secret-bench-secret-bench-secret-01";
/// Its `JWT_AUDIENCE`.
const JWT_AUDIENCE: &str = "manacore";
/// Its `ADMIN_SERVICE_KEY`.
pub const ADMIN_KEY: &str = "bench-admin-key-0123456789";

/// How to start the server.
#[derive(Clone)]
pub struct ServerConfig {
    /// The release binary.
    pub binary: PathBuf,
    /// Its PostgreSQL database.
    pub database_url: String,
    /// Its data directory (stored images, log).
    pub data_dir: PathBuf,
    /// The fake Replicate API base.
    pub replicate_base: String,
    /// Cores to run the server on, if placed.
    pub placement: Option<Placement>,
    /// Its `RUST_LOG`.
    pub log_filter: String,
    /// Further variables, set last (a scenario's own settings).
    pub env: Vec<(String, String)>,
    /// Variables left out of the environment (a scenario without the fake provider).
    pub without: Vec<&'static str>,
}

impl ServerConfig {
    /// The environment: production mode (JSON logs, credits enforced), every rate limit off,
    /// the fake provider, outputs from loopback allowed, the reconciler out of the way.
    fn command(&self, port: u16) -> Command {
        let mut command = on_server_cores(self.placement.as_ref(), &self.binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("APP_ENV", "production")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("DATA_DIR", &self.data_dir)
            .env("DATABASE_URL", &self.database_url)
            .env("PUBLIC_BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("JWT_SECRET", JWT_SECRET)
            .env("JWT_AUDIENCE", JWT_AUDIENCE)
            .env("ADMIN_SERVICE_KEY", ADMIN_KEY)
            .env("REPLICATE_API_TOKEN", "r8_bench_token")
            .env("REPLICATE_API_BASE_URL", &self.replicate_base)
            .env("OUTPUT_ALLOWED_HOSTS", "127.0.0.1")
            .env("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true")
            .env("RATE_LIMIT_GENERATIONS_PER_MINUTE", "0")
            .env("RATE_LIMIT_GENERATIONS_PER_DAY", "0")
            .env("RATE_LIMIT_IP_PER_MINUTE", "0")
            .env("MAX_CONNECTIONS_PER_IP", "0")
            .env("RECONCILER_INTERVAL_SECS", "3600")
            .env("RUST_LOG", &self.log_filter)
            .env("LOG_FORMAT", "json");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        for name in &self.without {
            command.env_remove(name);
        }
        command
    }

    /// Applies the migrations with `picture-server migrate`.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let status = self
            .command(0)
            .arg("migrate")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await?;
        if !status.success() {
            bail!("picture-server migrate failed: {status}");
        }
        Ok(())
    }

    /// A token for `user` from `picture-server token`.
    pub async fn token(&self, user: &str) -> anyhow::Result<String> {
        let output = self.command(0).args(["token", user]).output().await?;
        let stdout = String::from_utf8(output.stdout)?;
        match stdout.lines().last() {
            Some(token) if output.status.success() => Ok(token.trim().to_owned()),
            _ => bail!("picture-server token failed: {}", output.status),
        }
    }

    /// Signs tokens as the server's local issuer does, in this process (for thousands of
    /// users, where one `picture-server token` each would take minutes).
    pub fn local_tokens() -> LocalTokens {
        LocalTokens::new(
            &SecretString::from(JWT_SECRET),
            JWT_AUDIENCE,
            Duration::from_secs(60),
        )
    }

    /// Grants `amount` credits to `user` with `picture-server credits grant`.
    pub async fn grant(&self, user: &str, amount: u64) -> anyhow::Result<()> {
        let status = self
            .command(0)
            .args(["credits", "grant", user, &amount.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await?;
        if !status.success() {
            bail!("picture-server credits grant failed: {status}");
        }
        Ok(())
    }

    /// Starts the server and waits until `/ready` answers 200.
    pub async fn start(&self) -> anyhow::Result<Server> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.join("server.log"))?;
        let started = Instant::now();
        let child = self
            .command(port)
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        let mut server = Server {
            child,
            addr,
            started_in: Duration::ZERO,
        };
        loop {
            if ready(addr).await {
                server.started_in = started.elapsed();
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "the server exited during start-up ({status}); see its log in the data directory"
                );
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("the server was not ready within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// `GET /ready` answered 200.
async fn ready(addr: SocketAddr) -> bool {
    let Ok(stream) = TcpStream::connect(addr).await else {
        return false;
    };
    let Ok((mut sender, connection)) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await
    else {
        return false;
    };
    tokio::spawn(connection);
    let Ok(request) = hyper::Request::get("/ready")
        .header(hyper::header::HOST, addr.to_string())
        .body(Empty::new())
    else {
        return false;
    };
    match sender.send_request(request).await {
        Ok(response) => {
            let ok = response.status() == hyper::StatusCode::OK;
            let _ = response.into_body().collect().await;
            ok
        }
        Err(_) => false,
    }
}

/// A running server.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// From spawning the process to the first 200 from `/ready`.
    pub started_in: Duration,
}

impl Server {
    /// Its process id.
    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("the server has exited")
    }

    /// Sends SIGTERM and waits for the exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.pid()?;
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await?;
        if tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await?;
        }
        Ok(())
    }
}

/// Removes the images a scenario stored, so long runs do not fill the disk.
pub fn clear_stored_images(data_dir: &Path) -> anyhow::Result<()> {
    let images = data_dir.join("files");
    if images.exists() {
        std::fs::remove_dir_all(&images)?;
    }
    Ok(())
}
