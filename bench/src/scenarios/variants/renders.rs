//! First requests of variants, which the server renders: one at a time (the render's latency
//! as a client sees it) and 16 at once on a fresh server (its memory while they render).

use std::sync::Arc;
use std::time::Duration;

use anyhow::ensure;

use super::{ACCEPT_WEBP, BURST, Picture, image_get, is_webp, kib};
use crate::load::{Load, Outcome, Target, connect, send};
use crate::memory::{PeakSampler, mib, rss};
use crate::report::Row;
use crate::scenarios::{ALLOCATOR_DECAY, Bench};
use crate::server::{Server, ServerConfig};

/// How long a fresh server is left alone before its idle RSS is read (as after the main
/// server's start).
const SETTLE: Duration = Duration::from_secs(2);

/// The cores `pid` may run on (`Cpus_allowed_list` of `/proc/{pid}/status`): what the server's
/// default `IMAGE_RENDER_THREADS` counts.
fn allowed_cores(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix("Cpus_allowed_list:")
                    .map(|cores| cores.trim().to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".into())
}

/// How many cores a `Cpus_allowed_list` (`0`, `0-1`, `0,2-3`) names.
fn count_cores(list: &str) -> Option<usize> {
    list.split(',')
        .map(|part| match part.split_once('-') {
            Some((low, high)) => {
                Some(high.trim().parse::<usize>().ok()? + 1 - low.trim().parse::<usize>().ok()?)
            }
            None => part.trim().parse::<usize>().ok().map(|_| 1),
        })
        .sum()
}

impl Bench<'_> {
    /// The first request of each picture's mobile variant, one after another on one keep-alive
    /// connection: the latency of a render as the client sees it (read the original, take the
    /// render lease, decode, resize, encode, store, answer).
    pub(super) async fn first_renders(
        &mut self,
        server: &Server,
        pictures: &[Picture],
    ) -> anyhow::Result<()> {
        println!(
            "image variants: {} first renders one at a time …",
            pictures.len()
        );
        let mut sender = connect(server.addr).await?;
        let mut outcome = Outcome::empty()?;
        let started = std::time::Instant::now();
        for picture in pictures {
            let target = image_get(picture.mobile());
            let sent = std::time::Instant::now();
            let (status, body) = send(&mut sender, server.addr, &target, None).await?;
            let took = sent.elapsed();
            ensure!(
                status.is_success() && is_webp(&body),
                "the first request of {} answered {status} ({} bytes, WebP: {})",
                target.path,
                body.len(),
                is_webp(&body)
            );
            outcome.record(took);
            outcome.bytes += body.len() as u64;
        }
        outcome.elapsed = started.elapsed();
        self.report.figure(
            &format!(
                "variants: first request of a 256×256 cover WebP q80 of a 1024² PNG (rendered), {} distinct images one at a time",
                pictures.len()
            ),
            format!(
                "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; mean variant {:.1} KiB",
                outcome.millis(0.5),
                outcome.millis(0.99),
                outcome.millis(1.0),
                kib(outcome.bytes as f64 / pictures.len().max(1) as f64)
            ),
        );
        Ok(())
    }

    /// [`BURST`] first requests of the mobile variants of `pictures` at once, on a fresh server
    /// of `config` (`IMAGE_RENDER_THREADS` = `threads`, or the default): its RSS idle, at its
    /// peak (sampled every 10 ms), and after the allocator's decay; the time until every one
    /// was served.
    pub(super) async fn render_burst(
        &mut self,
        config: &ServerConfig,
        threads: Option<usize>,
        pictures: &[Picture],
    ) -> anyhow::Result<()> {
        let server = config.start().await?;
        let measured = self.burst_on(&server, threads, pictures).await;
        server.stop().await?;
        measured
    }

    async fn burst_on(
        &mut self,
        server: &Server,
        threads: Option<usize>,
        pictures: &[Picture],
    ) -> anyhow::Result<()> {
        let pid = server.pid()?;
        let cores = allowed_cores(pid);
        let setting = match threads {
            Some(threads) => format!("IMAGE_RENDER_THREADS={threads}"),
            None => format!(
                "default IMAGE_RENDER_THREADS (= {} allowed core(s): {cores})",
                count_cores(&cores).map_or_else(|| "?".to_owned(), |n| n.to_string())
            ),
        };
        println!("image variants: {BURST} renders at once, {setting} …");
        tokio::time::sleep(SETTLE).await;
        let idle = rss(pid);
        let paths: Vec<String> = pictures.iter().map(Picture::mobile).collect();
        let load = Arc::new(Load {
            addr: server.addr,
            target: Target::rotating(paths).with_header("accept", ACCEPT_WEBP),
            tokens: Arc::new(Vec::new()),
            timeout: Duration::from_secs(60),
        });
        let sampler = PeakSampler::start(pid);
        let outcome = load.burst(pictures.len()).await?;
        let peak = sampler.finish().await;
        let (all_served, p50, errors) = (
            outcome.elapsed.as_secs_f64() * 1000.0,
            outcome.millis(0.5),
            outcome.errors,
        );
        let scenario = format!(
            "variants: {} concurrent first requests of different 256 px WebP variants, {setting}",
            pictures.len()
        );
        self.push(Row::from_runs(
            &scenario,
            pictures.len(),
            vec![outcome],
            peak,
        ));
        tokio::time::sleep(ALLOCATOR_DECAY).await;
        let after = rss(pid);
        self.report.figure(
            &scenario,
            format!(
                "idle RSS {:.1} MiB, peak {:.1} MiB (+{:.1} MiB), {:.1} MiB 11 s after; all served after {all_served:.0} ms (p50 {p50:.0} ms), {errors} errors",
                mib(idle),
                mib(peak),
                mib(peak.saturating_sub(idle)),
                mib(after)
            ),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::count_cores;

    #[test]
    fn core_lists_are_counted() {
        assert_eq!(count_cores("0"), Some(1));
        assert_eq!(count_cores("0-1"), Some(2));
        assert_eq!(count_cores("0,2-3"), Some(3));
        assert_eq!(count_cores("x"), None);
    }
}
