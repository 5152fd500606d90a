//! This instance's batch workers: each claims a queued batch item, runs it, and claims the
//! next; idle, it waits for a batch queued here or polls for one queued on another instance.

use std::sync::Arc;
use std::time::Duration;

use picture_domain::ErrorChain;
use picture_domain::services::batches::{BatchRunner, RunOutcome};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// How often an idle worker looks for items queued on another instance.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// How long a worker pauses after the database failed.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// The running workers and the switch that asks them to stop.
pub(super) struct BatchWorkers {
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl BatchWorkers {
    /// Starts `count` workers running items through `runner`, woken by `wake` when a batch is
    /// queued on this instance. Each worker's claims carry its own name.
    pub fn spawn(runner: BatchRunner, count: u32, wake: Arc<Notify>) -> Self {
        let (stop, stopping) = watch::channel(false);
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let tasks = (0..count)
            .map(|n| {
                let owner = format!("{}-{n}", &instance[..12]);
                tokio::spawn(work(
                    runner.clone(),
                    owner,
                    Arc::clone(&wake),
                    stopping.clone(),
                ))
            })
            .collect();
        if count > 0 {
            tracing::info!(workers = count, "batch workers started");
        }
        Self { tasks, stop }
    }

    /// Asks the workers to stop after their current item, and waits up to `grace` for them
    /// before cancelling the rest (an item claimed but not yet submitted is claimed again by
    /// another worker once its lease ends).
    pub async fn stop(self, grace: Duration) {
        self.stop.send_replace(true);
        let deadline = tokio::time::Instant::now() + grace;
        for mut task in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                tracing::warn!("a batch worker outlasted the shutdown timeout; cancelled");
                task.abort();
            }
        }
    }
}

/// One worker's loop.
async fn work(
    runner: BatchRunner,
    owner: String,
    wake: Arc<Notify>,
    mut stopping: watch::Receiver<bool>,
) {
    while !*stopping.borrow_and_update() {
        let pause = match runner.run_next(&owner).await {
            Ok(RunOutcome::Ran) => {
                metrics::counter!("picture_batch_items_run_total").increment(1);
                continue;
            }
            Ok(RunOutcome::Idle) => IDLE_POLL,
            Err(error) => {
                tracing::warn!(worker = %owner, error = %ErrorChain(&error), "batch worker failed");
                ERROR_PAUSE
            }
        };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
            changed = stopping.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
}
