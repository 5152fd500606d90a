//! The benchmark itself: set-up, every scenario in order, and the targets checked against the
//! figures of the same run.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper::StatusCode;
use serde_json::{Value, json};

use crate::Options;
use crate::bare::BareServer;
use crate::database::{BenchDatabase, LARGE_USER, SMALL_USER};
use crate::durable;
use crate::fake_provider::{FakeProvider, Mode};
use crate::load::{Load, Outcome, Target, fetch};
use crate::loopback;
use crate::memory::{PeakSampler, mib, rss};
use crate::pinning::{Placement, on_server_cores};
use crate::report::RunFigures;
use crate::report::{Report, Row};
use crate::server::{Server, ServerConfig, clear_stored_images};

mod batches;
mod boards;
mod explore;
mod streams;
mod variants;

/// Users who generate (one per connection); each gets enough credits for any run.
const GENERATING_USERS: usize = 64;
/// The 30 MB idle and 150 MB loaded limits, read as MiB.
const MIB: u64 = 1024 * 1024;
const GALLERY_FIRST: &str = "gallery first page, 1,000-image user";
const DIRECT_FIRST: &str = "direct repository call (same query, no HTTP), 1,000-image user";
const BARE_FIRST: &str =
    "bare actix-web handler (same query and JSON; no auth, middleware or log), 1,000-image user";
const SYNC_LARGE: &str = "sync generate, 1 MB image";
/// A little longer than jemalloc's default decay of freed pages (10 s).
const ALLOCATOR_DECAY: Duration = Duration::from_secs(11);
const WAITERS: &str = "concurrent sync generations, provider takes 5 s";
const ASYNC_SUBMIT: &str = "async generate submit (instant provider)";

/// Runs everything; the database is dropped whatever happens.
pub async fn run(options: &Options, placement: Option<Placement>) -> anyhow::Result<Report> {
    let fake = FakeProvider::start().await?;
    let database = BenchDatabase::create(&options.database_url).await?;
    let data_dir = std::env::temp_dir().join(format!("picture-bench-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    let config = ServerConfig {
        binary: options.server.clone(),
        database_url: database.url.clone(),
        data_dir: data_dir.clone(),
        replicate_base: fake.api_base(),
        placement,
        log_filter: options.log_filter.clone(),
        env: Vec::new(),
        without: Vec::new(),
    };
    let mut report = Report::default();
    let result = Bench {
        options,
        fake: &fake,
        database: &database,
        config,
        report: &mut report,
        rss_after_runs: Vec::new(),
    }
    .run()
    .await;
    let dropped = database.drop_database().await;
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&data_dir);
    } else {
        eprintln!("the server's log is kept in {}", data_dir.display());
    }
    result?;
    dropped?;
    Ok(report)
}

struct Bench<'a> {
    options: &'a Options,
    fake: &'a FakeProvider,
    database: &'a BenchDatabase,
    config: ServerConfig,
    report: &'a mut Report,
    /// The server's RSS after each run of the last measured scenario.
    rss_after_runs: Vec<u64>,
}

/// Tokens and ids the scenarios use.
struct Fixtures {
    small: Arc<Vec<String>>,
    large: Arc<Vec<String>>,
    generating: Arc<Vec<String>>,
    model: String,
    image: String,
    small_cursor: String,
    large_cursor: String,
    /// The small user's 500-item board.
    board: String,
    /// Its topmost image item.
    board_item: String,
}

fn duration(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

impl Bench<'_> {
    async fn run(mut self) -> anyhow::Result<()> {
        println!("preparing the database …");
        self.config.migrate().await?;
        let seeded = std::time::Instant::now();
        self.database.seed().await?;
        println!("seeded in {:.1} s", seeded.elapsed().as_secs_f64());
        self.describe_machine().await?;
        let server = self.start_to_ready().await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let idle = rss(server.pid()?);
        self.report
            .figure("idle RSS after start", format!("{:.1} MiB", mib(idle)));
        self.report.check(
            "idle RSS ≤ 30 MiB",
            format!("{:.1} MiB", mib(idle)),
            idle <= 30 * MIB,
        );
        let fixtures = self.fixtures(&server).await?;
        for &connections in &self.options.connections.clone() {
            self.reads(&server, &fixtures, connections).await?;
        }
        self.sync_generations(&server, &fixtures).await?;
        self.waiters(&server, &fixtures).await?;
        tokio::time::sleep(ALLOCATOR_DECAY).await;
        self.report.figure(
            "idle RSS after all the load (11 s later)",
            format!("{:.1} MiB", mib(rss(server.pid()?))),
        );
        server.stop().await?;
        self.batches(&fixtures.model).await?;
        self.streams(&fixtures).await?;
        self.variants().await?;
        self.check_ratios();
        self.check_explore();
        self.check_boards();
        Ok(())
    }

    async fn describe_machine(&mut self) -> anyhow::Result<()> {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
            .unwrap_or_else(|| "unknown CPU".into());
        // Counted from /proc: this process has already been placed on its own core.
        let cores = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count();
        let memory = std::fs::read_to_string("/proc/meminfo")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_owned()))
            .unwrap_or_default();
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let commit = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let o = self.options;
        self.report.machine = vec![
            format!("date: {}", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")),
            format!("CPU: {cpu}, {cores} cores; memory {memory}; Linux {}", kernel.trim()),
            format!("PostgreSQL: {}", self.database.server_version().await?),
            format!(
                "load average when the run began (1, 5, 15 min; other work on this machine): {}",
                load.split_whitespace().take(3).collect::<Vec<_>>().join(", ")
            ),
            format!(
                "server: release build of commit {commit}, production mode (JSON logs to a file, credits enforced, local ledger, local file store), rate limits off, reconciler idle; {}",
                match &self.config.placement {
                    Some(p) => format!(
                        "server and PostgreSQL on core {}, this harness (load generator, provider fake) on core {}",
                        p.server, p.load
                    ),
                    None => "server, PostgreSQL and this harness share every core".to_owned(),
                }
            ),
            format!(
                "load: closed-loop HTTP/1.1 keep-alive connections over loopback from the harness (hyper); {} s warm-up, then {} runs of {} s per row, medians",
                o.warmup, o.runs, o.duration
            ),
            "data: 1,000-image and 100,000-image galleries among 50,000 other users' images, 100,000 public images of 100 other users with 50,000 likes for explore, a 500-item board (400 images, 100 texts), VACUUM ANALYZE after seeding".into(),
        ];
        Ok(())
    }

    /// Starts the server five times (migrations applied), keeps the last one running.
    async fn start_to_ready(&mut self) -> anyhow::Result<Server> {
        let mut times = Vec::new();
        let mut server = self.config.start().await?;
        for _ in 0..4 {
            times.push(server.started_in);
            server.stop().await?;
            server = self.config.start().await?;
        }
        times.push(server.started_in);
        times.sort();
        let median = times[times.len() / 2];
        let listed: Vec<String> = times.iter().map(|t| format!("{}", t.as_millis())).collect();
        self.report.figure(
            "start to ready (spawn → first 200 from /ready), 5 starts",
            format!(
                "median {} ms (each: {} ms)",
                median.as_millis(),
                listed.join(", ")
            ),
        );
        self.report.check(
            "start to ready ≤ 300 ms",
            format!("{} ms", median.as_millis()),
            median <= Duration::from_millis(300),
        );
        Ok(server)
    }

    async fn fixtures(&self, server: &Server) -> anyhow::Result<Fixtures> {
        let mut generating = Vec::with_capacity(GENERATING_USERS);
        for i in 0..GENERATING_USERS {
            let user = format!("bench-generating-{i}");
            self.config.grant(&user, 1_000_000_000).await?;
            generating.push(self.config.token(&user).await?);
        }
        let small = self.config.token(SMALL_USER).await?;
        let (board, board_item) = self.database.seed_board().await?;
        let (status, body) =
            fetch(server.addr, &Target::get("/api/v1/models"), Some(&small)).await?;
        anyhow::ensure!(
            status == StatusCode::OK,
            "GET /api/v1/models answered {status}"
        );
        let models: Vec<Value> = serde_json::from_slice(&body)?;
        let model = models
            .iter()
            .find(|m| m["isDefault"] == json!(true))
            .and_then(|m| m["id"].as_str())
            .context("no default model")?
            .to_owned();
        Ok(Fixtures {
            small: Arc::new(vec![small]),
            large: Arc::new(vec![self.config.token(LARGE_USER).await?]),
            generating: Arc::new(generating),
            model,
            image: self.database.newest_image(SMALL_USER).await?,
            small_cursor: self.database.cursor_at(SMALL_USER, 1_000 - 21).await?,
            large_cursor: self.database.cursor_at(LARGE_USER, 100_000 - 21).await?,
            board,
            board_item,
        })
    }

    /// Whether `--only` selects `scenario`.
    fn wanted(&self, scenario: &str) -> bool {
        self.options.only.is_empty()
            || self
                .options
                .only
                .iter()
                .any(|o| scenario.contains(o.as_str()))
    }

    /// A load of `target` on the server at `addr`, after its warm-up at `connections` connections.
    async fn warmed_load(
        &self,
        addr: std::net::SocketAddr,
        target: Target,
        tokens: &Arc<Vec<String>>,
        connections: usize,
    ) -> anyhow::Result<Arc<Load>> {
        let load = Arc::new(Load {
            addr,
            target,
            tokens: Arc::clone(tokens),
            timeout: Duration::from_secs(30),
        });
        Arc::clone(&load)
            .run(connections, duration(self.options.warmup))
            .await?;
        Ok(load)
    }

    /// Warm-up, then the runs of one HTTP scenario, with the server's peak RSS.
    async fn measure(
        &mut self,
        server: &Server,
        scenario: &str,
        connections: usize,
        target: Target,
        tokens: &Arc<Vec<String>>,
    ) -> anyhow::Result<()> {
        if !self.wanted(scenario) {
            return Ok(());
        }
        let load = self
            .warmed_load(server.addr, target, tokens, connections)
            .await?;
        let sampler = PeakSampler::start(server.pid()?);
        let mut runs = Vec::new();
        self.rss_after_runs.clear();
        for _ in 0..self.options.runs {
            runs.push(
                Arc::clone(&load)
                    .run(connections, duration(self.options.duration))
                    .await?,
            );
            if scenario == SYNC_LARGE {
                // jemalloc hands freed pages back after a 10 s decay: read what stays.
                tokio::time::sleep(ALLOCATOR_DECAY).await;
            }
            self.rss_after_runs.push(rss(server.pid()?));
            clear_stored_images(&self.config.data_dir)?;
        }
        self.push(Row::from_runs(
            scenario,
            connections,
            runs,
            sampler.finish().await,
        ));
        Ok(())
    }

    fn push(&mut self, row: Row) {
        println!(
            "{} @ {}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors, peak RSS {:.1} MiB{}",
            row.scenario,
            row.connections,
            row.rate,
            row.p50,
            row.p99,
            row.errors,
            mib(row.peak_rss),
            row.first_error
                .as_ref()
                .map(|e| format!(" (first error: {e})"))
                .unwrap_or_default()
        );
        self.report.rows.push(row);
    }

    /// `runs` runs of the direct call (after its own warm-up), in a child process on the
    /// server's cores.
    async fn direct_runs(
        &self,
        connections: usize,
        runs: usize,
    ) -> anyhow::Result<Vec<RunFigures>> {
        let o = self.options;
        let harness = std::env::current_exe()?;
        let mut command = on_server_cores(self.config.placement.as_ref(), &harness);
        let output = command
            .args(["direct", "--url", &self.database.url, "--user", SMALL_USER])
            .args(["--connections", &connections.to_string()])
            .args([
                "--duration",
                &o.duration.to_string(),
                "--warmup",
                &o.warmup.to_string(),
            ])
            .args(["--runs", &runs.to_string()])
            .output()
            .await?;
        anyhow::ensure!(
            output.status.success(),
            "the direct calls failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8(output.stdout)?
            .lines()
            .map(serde_json::from_str::<RunFigures>)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// The scenarios the ratio targets compare — the direct repository call, the bare handler,
    /// the gallery's first page and the async submit — run in turns (one run of each, `runs`
    /// times), so a shared machine that slows down or speeds up during the benchmark moves them
    /// alike.
    async fn compared(
        &mut self,
        server: &Server,
        f: &Fixtures,
        connections: usize,
    ) -> anyhow::Result<()> {
        self.fake.set_mode(Mode::Instant);
        let submit = Target::post(
            "/api/v1/generate",
            &json!({"prompt": "a fox in the snow", "modelId": f.model, "waitForResult": false}),
            StatusCode::CREATED,
        )
        .containing("\"status\":\"processing\"");
        let bare = if self.wanted(BARE_FIRST) {
            Some(self.bare_server().await?)
        } else {
            None
        };
        let gallery = Target::get("/api/v1/images?limit=20");
        let mut candidates = Vec::new();
        if let Some(bare) = &bare {
            candidates.push((
                BARE_FIRST,
                bare.addr,
                bare.pid()?,
                gallery.clone(),
                &f.small,
            ));
        }
        candidates.push((GALLERY_FIRST, server.addr, server.pid()?, gallery, &f.small));
        candidates.push((
            ASYNC_SUBMIT,
            server.addr,
            server.pid()?,
            submit,
            &f.generating,
        ));
        let mut http = Vec::new();
        for (scenario, addr, pid, target, tokens) in candidates {
            if self.wanted(scenario) {
                let load = self.warmed_load(addr, target, tokens, connections).await?;
                http.push((scenario, pid, load, Vec::new(), 0_u64));
            }
        }
        let with_direct = self.wanted(DIRECT_FIRST);
        let mut direct = Vec::new();
        for _ in 0..self.options.runs {
            if with_direct {
                direct.extend(self.direct_runs(connections, 1).await?);
            }
            for (_, pid, load, runs, peak) in &mut http {
                let sampler = PeakSampler::start(*pid);
                runs.push(
                    Arc::clone(load)
                        .run(connections, duration(self.options.duration))
                        .await?,
                );
                *peak = (*peak).max(sampler.finish().await);
            }
        }
        if with_direct {
            self.push(Row::from_figures(DIRECT_FIRST, connections, direct, 0));
        }
        for (scenario, _, _, runs, peak) in http {
            self.push(Row::from_runs(scenario, connections, runs, peak));
        }
        Ok(())
    }

    /// The bare handler (`picture-bench bare`), on the server's cores.
    async fn bare_server(&self) -> anyhow::Result<BareServer> {
        let harness = std::env::current_exe()?;
        let mut command = on_server_cores(self.config.placement.as_ref(), &harness);
        command.args(["bare", "--url", &self.database.url, "--user", SMALL_USER]);
        BareServer::start(command).await
    }

    async fn reads(
        &mut self,
        server: &Server,
        f: &Fixtures,
        connections: usize,
    ) -> anyhow::Result<()> {
        let none = Arc::new(Vec::new());
        self.measure(
            server,
            "GET /health",
            connections,
            Target::get("/health"),
            &none,
        )
        .await?;
        self.measure(
            server,
            "GET /api/v1/models",
            connections,
            Target::get("/api/v1/models"),
            &f.small,
        )
        .await?;
        self.compared(server, f, connections).await?;
        let first = Target::get("/api/v1/images?limit=20");
        self.measure(
            server,
            "gallery first page, 100,000-image user",
            connections,
            first,
            &f.large,
        )
        .await?;
        let small_deep = Target::get(format!("/api/v1/images?limit=20&cursor={}", f.small_cursor));
        self.measure(
            server,
            "gallery last page by cursor, 1,000-image user",
            connections,
            small_deep,
            &f.small,
        )
        .await?;
        let large_deep = Target::get(format!("/api/v1/images?limit=20&cursor={}", f.large_cursor));
        self.measure(
            server,
            "gallery last page by cursor, 100,000-image user",
            connections,
            large_deep,
            &f.large,
        )
        .await?;
        if Some(&connections) == self.options.connections.first() {
            let small_offset = Target::get("/api/v1/images?limit=20&page=50");
            self.measure(
                server,
                "gallery last page by page= (OFFSET), 1,000-image user",
                connections,
                small_offset,
                &f.small,
            )
            .await?;
            let large_offset = Target::get("/api/v1/images?limit=20&page=5000");
            self.measure(
                server,
                "gallery last page by page= (OFFSET), 100,000-image user",
                connections,
                large_offset,
                &f.large,
            )
            .await?;
        }
        self.explore(server, f, connections).await?;
        self.boards(server, f, connections).await?;
        let image = Target::get(format!("/api/v1/images/{}", f.image));
        self.measure(
            server,
            "GET /api/v1/images/:id",
            connections,
            image,
            &f.small,
        )
        .await?;
        Ok(())
    }

    fn sync_target(model: &str) -> Target {
        Target::post(
            "/api/v1/generate",
            &json!({"prompt": "a fox in the snow", "modelId": model, "waitForResult": true}),
            StatusCode::CREATED,
        )
        .containing("\"status\":\"completed\"")
    }

    /// One connection, `sync_requests` sync generations: (p50, the fake's own time per
    /// generation).
    async fn sequential_sync(
        &mut self,
        server: &Server,
        f: &Fixtures,
        large: bool,
    ) -> anyhow::Result<(Duration, Duration)> {
        self.fake.set_mode(Mode::Image {
            delay: Duration::ZERO,
            large,
        });
        let load = Arc::new(Load {
            addr: server.addr,
            target: Self::sync_target(&f.model),
            tokens: Arc::clone(&f.generating),
            timeout: Duration::from_secs(30),
        });
        Arc::clone(&load).run(1, Duration::from_secs(2)).await?;
        let _ = self.fake.take_busy();
        let created = self.fake.created();
        let mut outcome = Outcome::empty()?;
        while outcome.ok + outcome.errors < self.options.sync_requests as u64 {
            outcome.merge(Arc::clone(&load).run(1, Duration::from_millis(500)).await?);
        }
        anyhow::ensure!(
            outcome.errors == 0,
            "sync generations failed: {:?}",
            outcome.first_error
        );
        let generations = (self.fake.created() - created).max(1);
        let fake_time = self.fake.take_busy() / u32::try_from(generations).unwrap_or(u32::MAX);
        clear_stored_images(&self.config.data_dir)?;
        Ok((
            Duration::from_micros(outcome.latency.value_at_quantile(0.5)),
            fake_time,
        ))
    }

    async fn sync_generations(&mut self, server: &Server, f: &Fixtures) -> anyhow::Result<()> {
        if !self.wanted(SYNC_LARGE) {
            return Ok(());
        }
        let (large_p50, large_fake) = self.sequential_sync(server, f, true).await?;
        let (small_p50, small_fake) = self.sequential_sync(server, f, false).await?;
        let size = self.fake.large_size();
        let copy = loopback::copy_time(size, 200).await?;
        let overhead = large_p50.saturating_sub(large_fake);
        let small_overhead = small_p50.saturating_sub(small_fake);
        let per_byte = overhead.saturating_sub(small_overhead);
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
        self.report.figure(
            "sync generation, one connection, 1 MB output",
            format!(
                "end to end p50 {}; the fake's own time {}; server overhead {} ({} bytes)",
                ms(large_p50),
                ms(large_fake),
                ms(overhead),
                size
            ),
        );
        self.report.figure(
            "sync generation, one connection, 3 KB output",
            format!(
                "end to end p50 {}; server overhead {}",
                ms(small_p50),
                ms(small_overhead)
            ),
        );
        self.report.figure(
            "one copy of the 1 MB over loopback (median of 200)",
            ms(copy),
        );
        let commit = self.database.commit_time(200).await?;
        self.report.figure(
            "one PostgreSQL commit of a one-row INSERT (median of 200; a sync generation commits twice)",
            ms(commit),
        );
        for (label, bytes) in [("1 MB", size), ("3 KB", 3 * 1024)] {
            let write = durable::file_write_time(&self.config.data_dir, bytes, 50).await?;
            self.report.figure(
                &format!("storing {label} durably in the data directory as the local store does (write, fsync, rename; median of 50)"),
                ms(write),
            );
        }
        self.report.check(
            "sync 1 MB: server overhead ≤ 2× one loopback copy of the bytes",
            format!("{} vs 2 × {} = {}", ms(overhead), ms(copy), ms(copy * 2)),
            overhead <= copy * 2,
        );
        self.report.check(
            "sync 1 MB: what the megabyte adds (1 MB minus 3 KB overhead) ≤ 2× one loopback copy",
            format!("{} vs {}", ms(per_byte), ms(copy * 2)),
            per_byte <= copy * 2,
        );
        let connections = self.options.connections.first().copied().unwrap_or(16);
        self.fake.set_mode(Mode::Image {
            delay: Duration::ZERO,
            large: true,
        });
        let created = self.fake.created();
        self.measure(
            server,
            SYNC_LARGE,
            connections,
            Self::sync_target(&f.model),
            &f.generating,
        )
        .await?;
        let ingested = self.fake.created() - created;
        let after: Vec<String> = self
            .rss_after_runs
            .iter()
            .map(|b| format!("{:.1}", mib(*b)))
            .collect();
        self.report.figure(
            "RSS after each 1 MB sync run",
            format!(
                "{} MiB ({ingested} images ingested over warm-up and runs)",
                after.join(" / ")
            ),
        );
        if let (Some(first), Some(last)) = (self.rss_after_runs.first(), self.rss_after_runs.last())
        {
            self.report.check(
                "memory does not grow with images ingested (RSS after the last run ≤ after the first + 10 MiB)",
                format!("{:+.1} MiB from the first run to the last", mib(*last) - mib(*first)),
                *last <= first + 10 * MIB,
            );
        }
        Ok(())
    }

    async fn waiters(&mut self, server: &Server, f: &Fixtures) -> anyhow::Result<()> {
        if !self.wanted(WAITERS) {
            return Ok(());
        }
        self.fake.set_mode(Mode::Image {
            delay: Duration::from_secs(5),
            large: false,
        });
        let load = Arc::new(Load {
            addr: server.addr,
            target: Self::sync_target(&f.model),
            tokens: Arc::clone(&f.generating),
            timeout: Duration::from_secs(60),
        });
        let sampler = PeakSampler::start(server.pid()?);
        let outcome = load.burst(self.options.waiters).await?;
        let peak = sampler.finish().await;
        let row = Row::from_runs(
            &format!("{} {WAITERS}", self.options.waiters),
            self.options.waiters,
            vec![outcome],
            peak,
        );
        let errors = row.errors;
        self.push(row);
        clear_stored_images(&self.config.data_dir)?;
        self.report.check(
            "1,000 concurrent sync waiters: no errors, peak RSS ≤ 150 MiB",
            format!("{errors} errors, peak {:.1} MiB", mib(peak)),
            errors == 0 && peak <= 150 * MIB,
        );
        Ok(())
    }

    /// The ratio targets, from rows of this run.
    fn check_ratios(&mut self) {
        for &c in &self.options.connections.clone() {
            let (Some(http), Some(direct)) = (
                self.report.row(GALLERY_FIRST, c),
                self.report.row(DIRECT_FIRST, c),
            ) else {
                continue;
            };
            let (rate, direct_rate, p99, direct_p99) =
                (http.rate, direct.rate, http.p99, direct.p99);
            self.report.check(
                &format!("gallery over HTTP ≥ 75 % of the direct call's rate at {c} connections"),
                format!(
                    "{rate:.0} vs {direct_rate:.0} req/s = {:.0} %",
                    100.0 * rate / direct_rate
                ),
                rate >= 0.75 * direct_rate,
            );
            if let Some(bare) = self.report.row(BARE_FIRST, c) {
                let bare_rate = bare.rate;
                self.report.figure(
                    &format!("gallery over HTTP against the bare handler at {c} connections"),
                    format!(
                        "{rate:.0} vs {bare_rate:.0} req/s = {:.0} %; the bare handler reaches {:.0} % of the direct call",
                        100.0 * rate / bare_rate,
                        100.0 * bare_rate / direct_rate
                    ),
                );
            }
            if Some(&c) == self.options.connections.first() {
                self.report.check(
                    &format!("gallery p99 at {c} connections ≤ 2× the direct call's"),
                    format!("{p99:.2} vs {direct_p99:.2} ms = {:.2}×", p99 / direct_p99),
                    p99 <= 2.0 * direct_p99,
                );
            }
            for other in [
                "gallery first page, 100,000-image user",
                "gallery last page by cursor, 1,000-image user",
                "gallery last page by cursor, 100,000-image user",
            ] {
                if let Some(row) = self.report.row(other, c) {
                    let slower = rate / row.rate;
                    let measured =
                        format!("{:.0} vs {rate:.0} req/s = {slower:.2}× slower", row.rate);
                    self.report.check(
                        &format!(
                            "{other} within 1.5× of the 1,000-image first page at {c} connections"
                        ),
                        measured,
                        slower <= 1.5,
                    );
                }
            }
            if let Some(submit) = self.report.row(ASYNC_SUBMIT, c) {
                let share = submit.rate / rate;
                let measured = format!(
                    "{:.0} vs {rate:.0} req/s = {:.0} %",
                    submit.rate,
                    100.0 * share
                );
                self.report.check(
                    &format!("async submit ≥ 30 % of the gallery rate at {c} connections"),
                    measured,
                    share >= 0.3,
                );
            }
        }
    }
}
