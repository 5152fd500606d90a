//! `images backfill`: the blurhash of every image and board thumbnail stored without one.

use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use picture_domain::services::BackfillProgress;
use picture_persistence::PoolOptions;

use crate::settings::Settings;
use crate::startup::{placeholder_backfill, prepare_database};

/// Computes the missing blurhashes, with a progress bar on a terminal (none otherwise) and a
/// summary on standard output. Interrupted (Ctrl-C, or killed), it keeps what it wrote: run
/// again, it goes on with the rest, and no image is hashed twice.
///
/// # Errors
/// When the database, the store or the renderer cannot be set up, or the database fails.
pub async fn backfill(settings: &Settings, batch: u32) -> anyhow::Result<()> {
    let database = prepare_database(settings, PoolOptions::default()).await?;
    let backfill = placeholder_backfill(settings, &database, batch)?;
    let remaining = backfill.remaining().await.context("counting")?;
    println!("{remaining} image(s) and board thumbnail(s) without a blurhash");
    let bar = ProgressBar::new(remaining);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta} {msg}")
            .context("the progress bar's template")?,
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    let run = backfill.run(|progress: &BackfillProgress| {
        bar.set_position(progress.handled());
        if progress.failed > 0 {
            bar.set_message(format!("{} failed", progress.failed));
        }
    });
    tokio::select! {
        done = run => {
            bar.finish_and_clear();
            let done = done.context("backfilling")?;
            println!(
                "hashed {}, failed {}, already hashed {}",
                done.hashed, done.failed, done.already_done
            );
            if done.failed > 0 {
                println!("the failed ones' objects are missing or not images (see the log); they keep no blurhash");
            }
            Ok(())
        }
        _ = tokio::signal::ctrl_c() => {
            bar.abandon();
            println!("interrupted: what was hashed is kept; run again to go on");
            Ok(())
        }
    }
}
