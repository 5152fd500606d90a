//! Issue 20's live progress at scale, on two servers of their own with the same settings on
//! the same database: 10,000 user streams (`GET /generate/events`, 2,000 users × 5) opened on
//! the first and held idle — the time to open them, the server's RSS per stream and its CPU
//! while idle — then the gallery's rate on the first server and on the second (which holds no
//! streams) in turns, so a machine that drifts moves both alike; the delay from a credit grant
//! to its `credits` event on each of the user's streams; and how soon the server lets go of
//! streams whose clients left.

mod delay;
mod held;

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{ALLOCATOR_DECAY, Bench, Fixtures, GALLERY_FIRST};
use crate::load::{Target, fetch};
use crate::memory::{PeakSampler, mib, rss};
use crate::report::Row;
use crate::server::{Server, ServerConfig};

use self::delay::Delays;

/// The scenario's name for `--only`.
pub(super) const STREAMS: &str = "event streams (issue 20)";
/// The proposed memory budget of one open stream.
const BUDGET_PER_STREAM: u64 = 32 * 1024;
/// The issue's bound on an event's delay after the change (its black-box test's 100 ms).
const DELAY_P99: Duration = Duration::from_millis(100);
/// Connections and streams beyond the scenario's that the server allows.
const HEADROOM: usize = 2_000;
/// How long the server's CPU is read with the streams idle: two heartbeat periods.
const IDLE_CPU_WINDOW: Duration = Duration::from_secs(30);
/// Longest wait for the server to let go of closed streams.
const RELEASE_WITHIN: Duration = Duration::from_secs(60);
/// Credits each stream user starts with.
const START_CREDITS: u64 = 1_000_000;

/// The gallery's first page, as in the other scenarios.
fn gallery_target() -> Target {
    Target::get("/api/v1/images?limit=20")
}

/// The gallery rows' scenario names.
fn gallery_scenario(when: &str) -> String {
    format!("{GALLERY_FIRST}, {when}")
}

fn ms(micros: u64) -> String {
    format!("{:.2} ms", micros as f64 / 1000.0)
}

impl Bench<'_> {
    /// The scenario on a server of its own with caps above the streams it opens.
    pub(super) async fn streams(&mut self, f: &Fixtures) -> anyhow::Result<()> {
        if !self.wanted(STREAMS) {
            return Ok(());
        }
        let per_user = self.options.streams_per_user.max(1);
        let users: Vec<String> = (0..self.options.streams.div_ceil(per_user))
            .map(|i| format!("bench-stream-{i}"))
            .collect();
        let room = (users.len() * per_user + HEADROOM).to_string();
        let mut config = self.config.clone();
        config.env.extend([
            ("EVENT_STREAMS_PER_INSTANCE".to_owned(), room.clone()),
            ("MAX_CONNECTIONS".to_owned(), room),
            ("EVENT_STREAMS_PER_USER".to_owned(), per_user.to_string()),
        ]);
        let log = config.data_dir.join("server.log");
        let log_from = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let server = config.start().await?;
        let plain = config.start().await?;
        let measured = self
            .streams_on(&server, &plain, f, Arc::new(users), per_user)
            .await;
        server.stop().await?;
        plain.stop().await?;
        self.server_log_warnings(&config, log_from)?;
        measured
    }

    async fn streams_on(
        &mut self,
        server: &Server,
        plain: &Server,
        f: &Fixtures,
        users: Arc<Vec<String>>,
        per_user: usize,
    ) -> anyhow::Result<()> {
        let streams = users.len() * per_user;
        println!(
            "event streams: {} users × {per_user} streams; granting credits …",
            users.len()
        );
        delay::grant_each(server.addr, &users, START_CREDITS).await?;
        let signer = ServerConfig::local_tokens();
        let tokens = users
            .iter()
            .map(|user| {
                let id = picture_domain::UserId::parse(user.as_str())
                    .map_err(|e| anyhow::anyhow!("user id {user}: {e:?}"))?;
                Ok(signer.issue(&id, None, Duration::from_secs(3_600))?)
            })
            .collect::<anyhow::Result<Vec<String>>>()?;

        // The pool's connections and the allocator's caches warmed, as in the other scenarios.
        self.warmed_load(server.addr, gallery_target(), &f.small, self.connections())
            .await?;
        tokio::time::sleep(ALLOCATOR_DECAY).await;
        let idle = rss(server.pid()?);

        println!("opening {streams} event streams …");
        let sampler = PeakSampler::start(server.pid()?);
        let opened = held::open(server.addr, &tokens, per_user).await?;
        let open_peak = sampler.finish().await;
        self.report.figure(
            &format!("opening {streams} event streams (GET /generate/events, {} users × {per_user}), 64 at a time, each until its ready event", users.len()),
            format!(
                "{:.1} s ({:.0} streams/s); {} ready, {} failed{}; peak RSS meanwhile {:.1} MiB",
                opened.took.as_secs_f64(),
                opened.ready as f64 / opened.took.as_secs_f64(),
                opened.ready,
                opened.failed,
                opened
                    .first_failure
                    .as_ref()
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default(),
                mib(open_peak)
            ),
        );
        tokio::time::sleep(ALLOCATOR_DECAY).await;
        let loaded = rss(server.pid()?);
        let cpu_from = cpu_seconds(server.pid()?);
        tokio::time::sleep(IDLE_CPU_WINDOW).await;
        let idle_cpu = (cpu_seconds(server.pid()?) - cpu_from) / IDLE_CPU_WINDOW.as_secs_f64();
        self.report.figure(
            &format!(
                "server CPU with {streams} idle streams open (heartbeat comments only), over {} s",
                IDLE_CPU_WINDOW.as_secs()
            ),
            format!("{:.1} % of one core", 100.0 * idle_cpu),
        );
        let counted = open_streams_metric(server).await?;
        let per_stream = loaded.saturating_sub(idle) / opened.ready.max(1);
        self.report.figure(
            "server RSS: idle / with the streams open and idle (11 s after the last opened) / per stream",
            format!(
                "{:.1} MiB / {:.1} MiB / {:.1} KiB ({} streams; the server's picture_live_streams_open says {counted})",
                mib(idle),
                mib(loaded),
                per_stream as f64 / 1024.0,
                opened.ready
            ),
        );
        self.report.check(
            "memory budget: at most 32 KiB of RSS per open event stream",
            format!(
                "{:.1} KiB per stream ({:+.1} MiB for {})",
                per_stream as f64 / 1024.0,
                mib(loaded.saturating_sub(idle)),
                opened.ready
            ),
            per_stream <= BUDGET_PER_STREAM && opened.failed == 0,
        );

        let (with, without) = self.gallery_in_turns(server, plain, f, streams).await?;
        self.report.check(
            &format!("gallery with {streams} idle event streams open ≥ 90 % of its rate without"),
            format!(
                "{with:.0} vs {without:.0} req/s (the same server without streams, in turns) = {:.0} %",
                100.0 * with / without
            ),
            with >= 0.9 * without,
        );

        println!("timing {} credit grants …", self.options.grants);
        let sampler = PeakSampler::start(server.pid()?);
        let delays = delay::time_grants(
            server.addr,
            &users,
            opened.arrivals,
            per_user,
            self.options.grants,
        )
        .await?;
        let grants_peak = sampler.finish().await;
        self.delay_figures(&delays, per_user, streams, grants_peak);
        let (ended, first_end) = opened.held.ended();
        self.report.check(
            "every stream stays open and gets every event (none ended early, none missing)",
            format!(
                "{ended} ended early{}, {} of {} events missing",
                first_end
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default(),
                delays.missing,
                delays.grants * per_user as u64
            ),
            ended == 0 && delays.missing == 0,
        );

        opened.held.close().await;
        let closed = Instant::now();
        let mut counted = open_streams_metric(server).await?;
        while counted != "0" && closed.elapsed() < RELEASE_WITHIN {
            tokio::time::sleep(Duration::from_millis(100)).await;
            counted = open_streams_metric(server).await?;
        }
        let released = closed.elapsed();
        tokio::time::sleep(ALLOCATOR_DECAY).await;
        self.report.figure(
            "after the harness closed every stream's connection: until the server counts none open (picture_live_streams_open, read every 100 ms) / its RSS 11 s later",
            format!(
                "{:.1} s (then {counted} open) / {:.1} MiB",
                released.as_secs_f64(),
                mib(rss(server.pid()?))
            ),
        );
        Ok(())
    }

    fn delay_figures(&mut self, d: &Delays, per_user: usize, streams: usize, peak: u64) {
        let q = |h: &hdrhistogram::Histogram<u64>, q: f64| ms(h.value_at_quantile(q));
        self.report.figure(
            &format!(
                "credit grant → credits event on each of the user's {per_user} streams, {streams} streams open ({} grants, {} closed-loop granters)",
                d.grants,
                delay::GRANTERS
            ),
            format!(
                "p50 {}, p99 {}, max {} ({} events; {} missing; {:.0} grants/s; peak RSS {:.1} MiB)",
                q(&d.to_event, 0.5),
                q(&d.to_event, 0.99),
                ms(d.to_event.max()),
                d.to_event.len(),
                d.missing,
                d.grants as f64 / d.took.as_secs_f64().max(f64::MIN_POSITIVE),
                mib(peak)
            ),
        );
        self.report.figure(
            "the grant's own answer (POST /admin/credits/grant)",
            format!("p50 {}, p99 {}", q(&d.answer, 0.5), q(&d.answer, 0.99)),
        );
        self.report.figure(
            "the grant's answer → the event (negative: the event came first)",
            format!(
                "min {:.2} ms, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                d.after_answer_ms(0.0),
                d.after_answer_ms(0.5),
                d.after_answer_ms(0.99),
                d.after_answer_ms(1.0)
            ),
        );
        let p99 = Duration::from_micros(d.to_event.value_at_quantile(0.99));
        self.report.check(
            &format!("state change → event p99 ≤ 100 ms with {streams} streams open"),
            ms(d.to_event.value_at_quantile(0.99)),
            p99 <= DELAY_P99 && !d.to_event.is_empty(),
        );
    }

    /// The first concurrency, where the gallery is measured.
    fn connections(&self) -> usize {
        self.options.connections.first().copied().unwrap_or(16)
    }

    /// The gallery's first page on `with` (streams open) and on `plain` (none): a warm-up of
    /// each, then their runs in turns; the median rates (the rows go to the report).
    async fn gallery_in_turns(
        &mut self,
        with: &Server,
        plain: &Server,
        f: &Fixtures,
        streams: usize,
    ) -> anyhow::Result<(f64, f64)> {
        let connections = self.connections();
        let mut sides = Vec::new();
        for (server, when) in [
            (with, format!("{streams} idle event streams open")),
            (
                plain,
                "a server of the same settings without streams, in turns".to_owned(),
            ),
        ] {
            let load = self
                .warmed_load(server.addr, gallery_target(), &f.small, connections)
                .await?;
            sides.push((server, gallery_scenario(&when), load, Vec::new(), 0_u64));
        }
        for _ in 0..self.options.runs {
            for (server, _, load, runs, peak) in &mut sides {
                let sampler = PeakSampler::start(server.pid()?);
                runs.push(
                    Arc::clone(load)
                        .run(connections, Duration::from_secs(self.options.duration))
                        .await?,
                );
                *peak = (*peak).max(sampler.finish().await);
            }
        }
        let mut rates = Vec::new();
        for (_, scenario, _, runs, peak) in sides {
            let row = Row::from_runs(&scenario, connections, runs, peak);
            rates.push(row.rate);
            self.push(row);
        }
        Ok((rates[0], rates[1]))
    }

    /// Warnings and errors the server logged since `from` (its log is shared by the run's
    /// servers), as a figure.
    fn server_log_warnings(&mut self, config: &ServerConfig, from: u64) -> anyhow::Result<()> {
        let log = std::fs::read(config.data_dir.join("server.log"))?;
        let start = usize::try_from(from).unwrap_or(usize::MAX).min(log.len());
        let text = String::from_utf8_lossy(&log[start..]);
        let flagged: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("\"WARN\"") || l.contains("\"ERROR\""))
            .collect();
        self.report.figure(
            "warnings and errors in the server's log during the scenario",
            match flagged.first() {
                None => "none".to_owned(),
                Some(first) => format!(
                    "{} (first: {})",
                    flagged.len(),
                    first
                        .chars()
                        .take(300)
                        .collect::<String>()
                        .replace('|', "/")
                ),
            },
        );
        Ok(())
    }
}

/// CPU time `pid` has used (user and system), in seconds; 0 when it cannot be read.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are the 14th and 15th fields, the 12th and 13th after the name; in
    // clock ticks, 100 per second on Linux.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    ticks as f64 / 100.0
}

/// The server's own count of open streams (`picture_live_streams_open` on `/metrics`).
async fn open_streams_metric(server: &Server) -> anyhow::Result<String> {
    let (_, body) = fetch(server.addr, &Target::get("/metrics"), None).await?;
    let text = String::from_utf8_lossy(&body);
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("picture_live_streams_open "))
        .map(str::to_owned)
        .unwrap_or_else(|| "nothing".into()))
}
