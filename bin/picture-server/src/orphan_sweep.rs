//! The orphan sweep as a background task beside the reconciler: every
//! `ORPHAN_SWEEP_INTERVAL_SECS`, one bounded pass of [`OrphanSweeper`] deletes stored images
//! that no image row points at and that were written more than `ORPHAN_SWEEP_GRACE_SECS` ago.

use std::sync::Arc;

use picture_domain::ErrorChain;
use picture_domain::ports::{Clock, ImageRepository, ObjectStore};
use picture_domain::services::{OrphanSweepSettings, OrphanSweeper};
use tokio::task::JoinHandle;

use crate::settings::OrphanSweepTiming;

/// Objects per listing page, and keys per row lookup.
const PAGE_SIZE: u32 = 500;

/// Pages per pass: a pass examines (and deletes) at most 10,000 objects.
const PAGES_PER_PASS: u32 = 20;

/// Starts the sweep: its first pass one interval after start, then one pass per interval.
pub fn spawn(
    store: Arc<dyn ObjectStore>,
    images: Arc<dyn ImageRepository>,
    clock: Arc<dyn Clock>,
    timing: OrphanSweepTiming,
) -> JoinHandle<()> {
    let settings = OrphanSweepSettings {
        grace: timing.grace,
        page_size: PAGE_SIZE,
        pages_per_pass: PAGES_PER_PASS,
    };
    let mut sweeper = OrphanSweeper::new(store, images, clock, settings);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(timing.interval).await;
            let outcome = match sweeper.pass().await {
                Ok(report) => {
                    if report.deleted > 0 || report.failed > 0 {
                        tracing::info!(
                            examined = report.examined,
                            deleted = report.deleted,
                            failed = report.failed,
                            "orphan sweep pass"
                        );
                    }
                    "ok"
                }
                Err(error) => {
                    tracing::warn!(error = %ErrorChain(&error), "orphan sweep pass failed");
                    "error"
                }
            };
            metrics::counter!("picture_orphan_sweep_runs_total", "outcome" => outcome).increment(1);
        }
    })
}
