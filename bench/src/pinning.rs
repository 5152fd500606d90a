//! CPU placement: the server and PostgreSQL share one set of cores, the harness (load
//! generator, provider fake) gets the rest, so the load generator's own work does not count
//! against the server. Done with `taskset` (util-linux).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// Where each side runs, as `taskset` CPU lists.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The server, PostgreSQL and the direct repository calls.
    pub server: String,
    /// The harness.
    pub load: String,
    /// Every core, to give PostgreSQL back at the end.
    all: String,
}

impl Placement {
    /// The last core for the harness, the others for the server; `None` on one core.
    pub fn split() -> Option<Self> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        (cores >= 2).then(|| Self {
            server: if cores == 2 {
                "0".to_owned()
            } else {
                format!("0-{}", cores - 2)
            },
            load: (cores - 1).to_string(),
            all: format!("0-{}", cores - 1),
        })
    }

    /// Moves this process (all its threads so far; later ones inherit) to the harness cores.
    pub fn pin_self(&self) -> anyhow::Result<()> {
        taskset(&[
            "-a",
            "-p",
            "-c",
            &self.load,
            &std::process::id().to_string(),
        ])
    }

    /// Moves every PostgreSQL process to the server cores (new backends inherit it from the
    /// postmaster). [`Placement::release_postgres`] undoes it.
    pub fn pin_postgres(&self) -> anyhow::Result<()> {
        for pid in postgres_pids()? {
            match taskset(&["-p", "-c", &self.server, &pid]) {
                // A backend of another client that exited since `pgrep` listed it.
                Err(_) if !Path::new("/proc").join(&pid).exists() => {}
                placed => placed?,
            }
        }
        Ok(())
    }

    /// Gives PostgreSQL every core again.
    pub fn release_postgres(&self) -> anyhow::Result<()> {
        for pid in postgres_pids()? {
            // A backend may have exited meanwhile.
            let _ = taskset(&["-p", "-c", &self.all, &pid]);
        }
        Ok(())
    }
}

/// A command running `program`, on the server's cores when `placement` is set.
pub fn on_server_cores(placement: Option<&Placement>, program: &Path) -> tokio::process::Command {
    match placement {
        Some(placement) => {
            let mut command = tokio::process::Command::new("taskset");
            command.args(["-c", &placement.server]).arg(program);
            command
        }
        None => tokio::process::Command::new(program),
    }
}

fn postgres_pids() -> anyhow::Result<Vec<String>> {
    let output = Command::new("pgrep")
        .args(["-x", "postgres"])
        .output()
        .context("running pgrep")?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

fn taskset(args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("taskset")
        .args(args)
        .output()
        .context("running taskset (util-linux)")?;
    if !output.status.success() {
        bail!(
            "taskset {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
