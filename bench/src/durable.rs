//! Reference costs of durability on this machine: what the sync generation's fixed overhead is
//! made of, measured the way the server does it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::report::median;

/// Median time, over `rounds`, to store `size` bytes durably in `dir` with the local store's
/// own write (a temporary file, `fsync`, a rename into place).
pub async fn file_write_time(dir: &Path, size: usize, rounds: usize) -> anyhow::Result<Duration> {
    let dir: PathBuf = dir.join("durable-write-probe");
    let times = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Duration>> {
        let payload = vec![7_u8; size];
        let mut times = Vec::with_capacity(rounds);
        for round in 0..rounds {
            let started = Instant::now();
            picture_storage::write_durably(&dir.join(format!("{round}.png")), &payload)?;
            times.push(started.elapsed());
        }
        std::fs::remove_dir_all(&dir)?;
        Ok(times)
    })
    .await??;
    Ok(median(times))
}
