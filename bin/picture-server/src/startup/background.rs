//! The server's background tasks: the reconciler and the cleaner of idle per-IP buckets.

use std::time::Duration;

use picture_domain::ErrorChain;
use picture_domain::services::ReconcileGenerations;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ip_limit::IpLimiter;
use crate::settings::Settings;

/// How many stuck generations one reconciler pass handles.
const RECONCILER_BATCH: u32 = 50;

/// How many expired `Idempotency-Key`s one reconciler pass deletes (one statement): 1000 every
/// 30 s keeps up with about 2.8 million keyed generations a day.
const IDEMPOTENCY_PURGE_BATCH: u32 = 1000;

/// The reconciler's task and the switch that asks it to stop after its current pass.
pub(super) struct Reconciler {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl Reconciler {
    /// Finalises generations stuck in `processing` now and then every
    /// `settings.reconciler_interval`, and deletes a batch of expired `Idempotency-Key`s each
    /// time. Stops between passes once asked to (or once nobody can ask any more).
    pub fn spawn(pipeline: ReconcileGenerations, settings: &Settings) -> Self {
        let (interval, min_age) = (
            settings.generation.reconciler_interval,
            settings.generation.reconciler_min_age,
        );
        let (stop, mut stopping) = watch::channel(false);
        let task = tokio::spawn(async move {
            while !*stopping.borrow_and_update() {
                let outcome = match pipeline.reconcile(min_age, RECONCILER_BATCH).await {
                    Ok(0) => "ok",
                    Ok(fixed) => {
                        metrics::counter!("picture_reconciler_fixed_total").increment(fixed as u64);
                        tracing::info!(fixed, "reconciler finished stuck generations");
                        "ok"
                    }
                    Err(error) => {
                        tracing::warn!(error = %ErrorChain(&error), "reconciler pass failed");
                        "error"
                    }
                };
                metrics::counter!("picture_reconciler_runs_total", "outcome" => outcome)
                    .increment(1);
                if let Err(error) = pipeline.purge_expired_keys(IDEMPOTENCY_PURGE_BATCH).await {
                    tracing::warn!(error = %ErrorChain(&error), "expired idempotency keys not purged");
                }
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    changed = stopping.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Self { task, stop }
    }

    /// Asks the reconciler to stop, and waits up to `grace` for its current pass to end before
    /// cancelling it.
    pub async fn stop(mut self, grace: Duration) {
        self.stop.send_replace(true);
        if tokio::time::timeout(grace, &mut self.task).await.is_err() {
            tracing::warn!("the reconciler's pass outlasted the shutdown timeout; cancelled");
            self.task.abort();
        }
    }
}

/// Forgets idle per-IP buckets every minute.
pub(super) fn spawn_bucket_cleaner(limiter: IpLimiter) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            limiter.forget_idle();
        }
    })
}
