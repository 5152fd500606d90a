//! The gallery's repository call run directly (no HTTP, no auth, no JSON), at the same
//! concurrency and on the same database as the HTTP scenario: the ceiling the server is
//! compared with.

use std::sync::Arc;
use std::time::{Duration, Instant};

use picture_domain::UserId;
use picture_domain::ports::{ImageQuery, ImageRepository};
use picture_persistence::{Database, DatabaseUrl, DieselImageRepository, PoolOptions};

use crate::load::Outcome;
use crate::report::RunFigures;

/// The first page (20) of `user`'s gallery, the query `GET /api/v1/images?limit=20` runs.
pub fn first_page() -> ImageQuery {
    ImageQuery {
        archived: false,
        favorites_only: false,
        page: 1,
        limit: 20,
        after: None,
        tag_ids: Vec::new(),
    }
}

/// A repository with the server's pool size.
pub async fn repository(url: &str) -> anyhow::Result<Arc<DieselImageRepository>> {
    let database = Database::connect(&DatabaseUrl::parse(url)?, PoolOptions::default()).await?;
    Ok(Arc::new(DieselImageRepository::new(database)))
}

/// `concurrency` tasks calling `list_for_user` back to back for `duration`.
pub async fn run(
    repository: Arc<DieselImageRepository>,
    user: &str,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let user = UserId::parse(user)?;
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (repository, user) = (Arc::clone(&repository), user.clone());
            tokio::spawn(async move {
                let mut outcome = Outcome::empty()?;
                loop {
                    let sent = Instant::now();
                    let result = repository.list_for_user(&user, first_page()).await;
                    let finished = Instant::now();
                    if finished > deadline {
                        break;
                    }
                    match result {
                        Ok(page) if page.len() == 20 => outcome.record(finished - sent),
                        Ok(page) => outcome.fail(format!("{} images instead of 20", page.len())),
                        Err(e) => outcome.fail(e.to_string()),
                    }
                }
                anyhow::Ok(outcome)
            })
        })
        .collect();
    let mut total = Outcome::empty()?;
    for task in tasks {
        total.merge(task.await??);
    }
    total.elapsed = duration;
    Ok(total)
}

/// `picture-bench direct …`: warm-up, then `runs` runs, one JSON [`RunFigures`] line each on
/// stdout (run as a child process so it can be placed on the server's cores).
pub async fn main(args: &DirectArgs) -> anyhow::Result<()> {
    let repository = repository(&args.url).await?;
    let connections = args.connections;
    run(
        Arc::clone(&repository),
        &args.user,
        connections,
        Duration::from_secs(args.warmup),
    )
    .await?;
    for _ in 0..args.runs {
        let outcome = run(
            Arc::clone(&repository),
            &args.user,
            connections,
            Duration::from_secs(args.duration),
        )
        .await?;
        println!("{}", serde_json::to_string(&RunFigures::from(outcome))?);
    }
    Ok(())
}

/// Arguments of the `direct` subcommand.
#[derive(Debug, clap::Args)]
pub struct DirectArgs {
    /// Database URL.
    #[arg(long)]
    pub url: String,
    /// Whose gallery.
    #[arg(long)]
    pub user: String,
    /// Concurrent callers.
    #[arg(long)]
    pub connections: usize,
    /// Seconds per run.
    #[arg(long)]
    pub duration: u64,
    /// Seconds of warm-up.
    #[arg(long)]
    pub warmup: u64,
    /// Runs.
    #[arg(long)]
    pub runs: usize,
}
