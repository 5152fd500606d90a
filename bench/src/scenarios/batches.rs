//! Issue 19's batch queue with an instant provider (the fake answers each create `succeeded`
//! with a 3 KB image): items completed per second by one instance and by two instances on one
//! PostgreSQL database, the latency of one claim (`BatchQueue::claim`, called directly) at two
//! queue depths, and a run of 10,000 items checked for none lost or run twice.
//!
//! Items are queued first through an intake server that runs no batch items
//! (`BATCH_WORKERS=0`); then the worker instances are started and the queue drained, timed from
//! their readiness to the last completion (read from the database every 20 ms).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use hyper::StatusCode;
use picture_domain::ports::BatchQueue;
use picture_persistence::{Database, DatabaseUrl, DieselBatchRepository, PoolOptions};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::Bench;
use crate::fake_provider::Mode;
use crate::load::{Outcome, Target, fetch};
use crate::report::Row;
use crate::server::{Server, ServerConfig};

/// The scenario's name for `--only`.
pub(super) const BATCHES: &str = "batch queue (issue 19)";
/// Users who queue batches (each with credits for any run).
const USERS: usize = 50;
/// Prompts per batch: the most a batch may have.
const PROMPTS: usize = 50;
/// Items of each throughput run.
const THROUGHPUT_ITEMS: usize = 2_000;
/// Items of the run checked for none lost or duplicated.
const LARGE_RUN: usize = 10_000;
/// `POST /batch` calls in flight at once while queueing.
const QUEUEING: usize = 4;
/// How long each claim-latency measurement runs.
const CLAIMING: Duration = Duration::from_secs(5);
/// A drain that completes nothing for this long has stalled.
const STALL: Duration = Duration::from_secs(60);

/// What the database holds for a set of batches.
#[derive(Debug, QueryableByName)]
struct Tally {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    completed: i64,
    #[diesel(sql_type = BigInt)]
    failed: i64,
    #[diesel(sql_type = BigInt)]
    open: i64,
    #[diesel(sql_type = BigInt)]
    predictions: i64,
    #[diesel(sql_type = BigInt)]
    images: i64,
}

const TALLY: &str = "SELECT count(*) AS total, \
     count(*) FILTER (WHERE g.status = 'completed') AS completed, \
     count(*) FILTER (WHERE g.status = 'failed') AS failed, \
     count(*) FILTER (WHERE g.status IN ('queued', 'pending', 'processing')) AS open, \
     count(DISTINCT g.replicate_prediction_id) AS predictions, \
     (SELECT count(*) FROM images i JOIN image_generations h ON h.id = i.generation_id \
        WHERE h.batch_id = ANY($1)) AS images \
     FROM image_generations g WHERE g.batch_id = ANY($1)";

async fn tally(conn: &mut AsyncPgConnection, batches: &[String]) -> anyhow::Result<Tally> {
    Ok(diesel::sql_query(TALLY)
        .bind::<Array<Text>, _>(batches)
        .get_result(conn)
        .await?)
}

/// The batch users' tokens, the model, and the two server configurations.
struct Setup {
    tokens: Arc<Vec<String>>,
    model: String,
    intake: ServerConfig,
    workers: ServerConfig,
}

/// A queue drained: how long it took, and the provider's creates meanwhile.
struct Drained {
    took: Duration,
    created: u64,
    tally: Tally,
}

impl Drained {
    fn rate(&self, items: usize) -> f64 {
        items as f64 / self.took.as_secs_f64()
    }
}

/// A batch body of [`PROMPTS`] prompts, as the mobile client sends it.
fn batch_body(model: &str, name: &str) -> Value {
    let prompts: Vec<Value> = (0..PROMPTS)
        .map(|i| json!({"text": format!("{name} prompt {i}"), "seed": i, "tags": ["bench"]}))
        .collect();
    json!({
        "prompts": prompts,
        "sharedSettings": {"modelId": model, "modelVersion": "", "width": 512, "height": 512,
                           "steps": 4, "guidanceScale": 3.5},
        "batchName": name
    })
}

impl Bench<'_> {
    /// The batch scenarios; `model` is the default model.
    pub(super) async fn batches(&mut self, model: &str) -> anyhow::Result<()> {
        if !self.wanted(BATCHES) {
            return Ok(());
        }
        println!("batch queue: granting credits to {USERS} users …");
        self.fake.set_mode(Mode::Image {
            delay: Duration::ZERO,
            large: false,
        });
        let mut tokens = Vec::with_capacity(USERS);
        for i in 0..USERS {
            let user = format!("bench-batch-{i}");
            self.config.grant(&user, 1_000_000_000).await?;
            tokens.push(self.config.token(&user).await?);
        }
        let mut intake = self.config.clone();
        intake.env.push(("BATCH_WORKERS".into(), "0".into()));
        let mut workers = self.config.clone();
        workers.env.push((
            "BATCH_WORKERS".into(),
            self.options.batch_workers.to_string(),
        ));
        let setup = Setup {
            tokens: Arc::new(tokens),
            model: model.to_owned(),
            intake,
            workers,
        };
        let intake = setup.intake.start().await?;
        let mut conn = AsyncPgConnection::establish(&self.database.url).await?;

        let queued = self.queue(&intake, &setup, THROUGHPUT_ITEMS, "one").await?;
        self.claims(THROUGHPUT_ITEMS).await?;
        let one = self.drain(&setup, 1, &queued, &mut conn).await?;
        self.throughput(1, THROUGHPUT_ITEMS, &one);

        let queued = self.queue(&intake, &setup, THROUGHPUT_ITEMS, "two").await?;
        let two = self.drain(&setup, 2, &queued, &mut conn).await?;
        self.throughput(2, THROUGHPUT_ITEMS, &two);

        let started = Instant::now();
        let queued = self.queue(&intake, &setup, LARGE_RUN, "large").await?;
        self.report.figure(
            &format!("queueing {LARGE_RUN} batch items ({} POST /batch of {PROMPTS} prompts, {QUEUEING} at a time)", LARGE_RUN / PROMPTS),
            format!("{:.1} s", started.elapsed().as_secs_f64()),
        );
        self.claims(LARGE_RUN).await?;
        let large = self.drain(&setup, 2, &queued, &mut conn).await?;
        self.throughput(2, LARGE_RUN, &large);
        intake.stop().await?;
        self.check_large(&large);
        Ok(())
    }

    /// Queues `items` items in batches of [`PROMPTS`], round robin over the users: the batch ids.
    async fn queue(
        &self,
        intake: &Server,
        setup: &Setup,
        items: usize,
        run: &str,
    ) -> anyhow::Result<Vec<String>> {
        let mut calls = JoinSet::new();
        let mut ids = Vec::with_capacity(items / PROMPTS);
        for b in 0..items / PROMPTS {
            if calls.len() >= QUEUEING
                && let Some(id) = calls.join_next().await
            {
                ids.push(id??);
            }
            let token = setup.tokens[b % setup.tokens.len()].clone();
            let target = Target::post(
                "/api/v1/batch",
                &batch_body(&setup.model, &format!("{run} {b}")),
                StatusCode::CREATED,
            );
            let addr = intake.addr;
            calls.spawn(async move {
                let (status, body) = fetch(addr, &target, Some(&token)).await?;
                if status != StatusCode::CREATED {
                    bail!(
                        "POST /batch answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
                let batch: Value = serde_json::from_slice(&body)?;
                batch["id"]
                    .as_str()
                    .map(str::to_owned)
                    .context("a batch without an id")
            });
        }
        while let Some(id) = calls.join_next().await {
            ids.push(id??);
        }
        Ok(ids)
    }

    /// Starts `instances` worker instances and waits until every item of `batches` ended.
    async fn drain(
        &self,
        setup: &Setup,
        instances: usize,
        batches: &[String],
        conn: &mut AsyncPgConnection,
    ) -> anyhow::Result<Drained> {
        let created = self.fake.created();
        let mut servers = Vec::with_capacity(instances);
        for _ in 0..instances {
            servers.push(setup.workers.start().await?);
        }
        let started = Instant::now();
        let mut last = tally(conn, batches).await?;
        let mut progressed = Instant::now();
        while last.open > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = tally(conn, batches).await?;
            if now.completed + now.failed > last.completed + last.failed {
                progressed = Instant::now();
            } else if progressed.elapsed() > STALL {
                bail!("the batch queue stalled: {now:?}");
            }
            last = now;
        }
        let took = started.elapsed();
        for server in servers {
            server.stop().await?;
        }
        Ok(Drained {
            took,
            created: self.fake.created() - created,
            tally: last,
        })
    }

    fn throughput(&mut self, instances: usize, items: usize, drained: &Drained) {
        let workers = self.options.batch_workers;
        self.report.figure(
            &format!(
                "batch items completed per second, {instances} instance{} × BATCH_WORKERS={workers}, {items} items queued, instant provider",
                if instances == 1 { "" } else { "s" }
            ),
            format!(
                "{:.0} items/s ({} completed, {} failed in {:.2} s; {} predictions created)",
                drained.rate(items),
                drained.tally.completed,
                drained.tally.failed,
                drained.took.as_secs_f64(),
                drained.created
            ),
        );
    }

    /// Issue 19's target: 10,000 items, none lost or run twice.
    fn check_large(&mut self, large: &Drained) {
        let t = &large.tally;
        let expected = i64::try_from(LARGE_RUN).unwrap_or(i64::MAX);
        self.report.check(
            "10,000 batch items: every one completed once (completed = images = distinct predictions = provider creates = 10,000)",
            format!(
                "{} items, {} completed, {} failed, {} images, {} distinct predictions, {} creates",
                t.total, t.completed, t.failed, t.images, t.predictions, large.created
            ),
            t.total == expected
                && t.completed == expected
                && t.images == expected
                && t.predictions == expected
                && large.created == LARGE_RUN as u64,
        );
    }

    /// Claim latency at a queue of `depth` items: 1 and 4 claimers calling `BatchQueue::claim`
    /// directly, each giving the item back at once (so the depth stays), for [`CLAIMING`].
    async fn claims(&mut self, depth: usize) -> anyhow::Result<()> {
        let database = Database::connect(
            &DatabaseUrl::parse(&self.database.url)?,
            PoolOptions::default(),
        )
        .await?;
        let queue = Arc::new(DieselBatchRepository::new(database));
        for claimers in [1, 4] {
            let outcome = claim_loop(Arc::clone(&queue), claimers).await?;
            self.push(Row::from_runs(
                &format!("BatchQueue::claim (then release) at a queue of {depth} items, 2 per user in flight"),
                claimers,
                vec![outcome],
                0,
            ));
        }
        Ok(())
    }
}

/// `claimers` tasks claiming and releasing for [`CLAIMING`]; each claim's latency.
async fn claim_loop(queue: Arc<DieselBatchRepository>, claimers: usize) -> anyhow::Result<Outcome> {
    let deadline = Instant::now() + CLAIMING;
    let mut tasks = JoinSet::new();
    for k in 0..claimers {
        let queue = Arc::clone(&queue);
        tasks.spawn(async move {
            let owner = format!("bench-claimer-{k}");
            let mut outcome = Outcome::empty()?;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let claimed = queue
                    .claim(&owner, 2, Duration::from_secs(120), chrono::Utc::now())
                    .await;
                let took = sent.elapsed();
                match claimed {
                    Ok(Some(item)) => {
                        outcome.record(took);
                        // Given back as never claimed: nothing was submitted.
                        queue
                            .release(item.generation.record.id, &owner, None, true)
                            .await?;
                    }
                    Ok(None) => outcome.fail("no item to claim".into()),
                    Err(e) => outcome.fail(e.to_string()),
                }
            }
            anyhow::Ok(outcome)
        });
    }
    let mut total = Outcome::empty()?;
    while let Some(outcome) = tasks.join_next().await {
        total.merge(outcome??);
    }
    total.elapsed = CLAIMING;
    ensure!(total.ok > 0, "no claim succeeded: {:?}", total.first_error);
    Ok(total)
}
