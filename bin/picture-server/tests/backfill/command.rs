//! The `picture-server` binary run as a command: started with the database and data directory
//! in its environment, its standard output and log kept in files, stopped with SIGINT or
//! SIGKILL, and its closing summary read.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Where a command runs: its database, data directory, and the folder of its output files.
pub struct Setup {
    pub database: String,
    pub data_dir: PathBuf,
    pub output_dir: PathBuf,
}

/// A command running as a child process.
pub struct Running {
    child: Child,
    started: Instant,
    stdout: PathBuf,
    log: PathBuf,
}

/// A command that has exited.
pub struct Finished {
    pub status: ExitStatus,
    /// From its start to its exit.
    pub elapsed: Duration,
    pub stdout: String,
    /// Its standard error: the JSON log (and a progress bar, were it drawn there).
    pub log: String,
}

/// The closing line `hashed H, failed F, already hashed A` of `images backfill`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub hashed: u64,
    pub failed: u64,
    pub already_hashed: u64,
}

impl Setup {
    /// Starts `picture-server {args}`, its output in `{name}.out` and `{name}.log`.
    pub fn start(&self, name: &str, args: &[&str]) -> Running {
        let stdout = self.output_dir.join(format!("{name}.out"));
        let log = self.output_dir.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_picture-server"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database)
            .env("DATA_DIR", &self.data_dir)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Running {
            child,
            started: Instant::now(),
            stdout,
            log,
        }
    }

    /// Runs `picture-server {args}` to its end (at most two minutes).
    pub async fn run(&self, name: &str, args: &[&str]) -> Finished {
        self.start(name, args)
            .finished_within(Duration::from_secs(120))
            .await
    }
}

impl Running {
    /// Whether it still runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does.
    pub fn interrupt(&self) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Sends SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
    }

    /// Waits for the exit; after `within`, kills it and fails.
    pub async fn finished_within(mut self, within: Duration) -> Finished {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                self.child.kill().unwrap();
                self.child.wait().unwrap();
                panic!(
                    "still running after {within:?}; its log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        Finished {
            status,
            elapsed: self.started.elapsed(),
            stdout: std::fs::read_to_string(&self.stdout).unwrap(),
            log: std::fs::read_to_string(&self.log).unwrap(),
        }
    }
}

impl Finished {
    /// Asserts it exited with status 0.
    pub fn assert_success(&self) {
        assert!(
            self.status.success(),
            "exit {:?} (signal {:?})\nstdout:\n{}\nlog:\n{}",
            self.status.code(),
            self.status.signal(),
            self.stdout,
            self.log
        );
    }

    /// Its first line of output: `N image(s) and board thumbnail(s) without a blurhash`, the
    /// number.
    pub fn remaining(&self) -> u64 {
        let first = self.stdout.lines().next().unwrap_or_default();
        let Some(count) = first.strip_suffix(" image(s) and board thumbnail(s) without a blurhash")
        else {
            panic!("no count first:\n{}", self.stdout);
        };
        count.parse().unwrap()
    }

    /// Its summary, if it printed one.
    pub fn summary(&self) -> Option<Summary> {
        let line = self
            .stdout
            .lines()
            .find(|line| line.starts_with("hashed "))?;
        let numbers: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().unwrap())
            .collect();
        assert_eq!(
            line,
            format!(
                "hashed {}, failed {}, already hashed {}",
                numbers[0], numbers[1], numbers[2]
            ),
            "the summary's shape"
        );
        Some(Summary {
            hashed: numbers[0],
            failed: numbers[1],
            already_hashed: numbers[2],
        })
    }

    /// Lines of its log containing `text`.
    pub fn log_lines(&self, text: &str) -> usize {
        self.log.lines().filter(|line| line.contains(text)).count()
    }

    /// Whether the progress bar was drawn (it must not be, off a terminal).
    pub fn drew_a_bar(&self) -> bool {
        self.log.contains('█') || self.log.contains('░') || self.log.contains(" eta ")
    }
}

/// `count` per second of `elapsed`.
pub fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// The folder where a data directory `data_dir` keeps the local store's objects.
pub fn files_of(data_dir: &Path) -> PathBuf {
    data_dir.join("files")
}
