//! Serving what is stored: cached variants against plain originals under load, in turns, and
//! the bytes a mobile gallery page moves with and without variants.

use std::sync::Arc;

use anyhow::ensure;

use super::{ACCEPT_WEBP, Picture, image_get, is_webp, kib};
use crate::load::{Outcome, Target, connect, send};
use crate::report::{Row, median};
use crate::scenarios::{Bench, duration};
use crate::server::Server;

/// Images of one gallery page.
pub(super) const GALLERY_PAGE: usize = 20;
/// Connections of the throughput comparison.
const CONNECTIONS: usize = 32;
/// The target: a cached variant served at this share of a plain original's rate.
const RATE_SHARE: f64 = 0.8;
/// The expectation: a page of variants at most this fraction of the originals' bytes.
const BYTES_FACTOR: f64 = 20.0;

const PLAIN: &str = "variants: GET /files/{key}, plain 1024² PNG originals";
const CACHED: &str =
    "variants: GET /files/{key}?width=256&height=256&resize=cover&quality=80, cached WebP variants";

/// The medians of `runs`' transfer rate, MB/s.
fn megabytes_per_second(runs: &[Outcome]) -> f64 {
    median(runs.iter().map(|r| r.bytes_per_second() / 1e6).collect())
}

impl Bench<'_> {
    /// Plain originals and cached variants of `pictures` (each variant rendered before), at
    /// [`CONNECTIONS`] connections, a run of each in turn, `runs` times.
    pub(super) async fn cached_against_plain(
        &mut self,
        server: &Server,
        pictures: &[Picture],
    ) -> anyhow::Result<()> {
        println!("image variants: plain originals and cached variants in turns …");
        let none = Arc::new(Vec::new());
        let plain: Vec<String> = pictures.iter().map(|p| p.original.clone()).collect();
        let cached: Vec<String> = pictures.iter().map(Picture::mobile).collect();
        let mut loads = Vec::new();
        for (scenario, paths) in [(PLAIN, plain), (CACHED, cached)] {
            let target = Target::rotating(paths).with_header("accept", ACCEPT_WEBP);
            let load = self
                .warmed_load(server.addr, target, &none, CONNECTIONS)
                .await?;
            loads.push((scenario, load, Vec::new()));
        }
        for _ in 0..self.options.runs {
            for (_, load, runs) in &mut loads {
                runs.push(
                    Arc::clone(load)
                        .run(CONNECTIONS, duration(self.options.duration))
                        .await?,
                );
            }
        }
        let mut rates = Vec::new();
        for (scenario, _, runs) in loads {
            let moved = megabytes_per_second(&runs);
            let row = Row::from_runs(scenario, CONNECTIONS, runs, 0);
            self.report.figure(
                &format!("{scenario}: transferred at {CONNECTIONS} connections"),
                format!("{moved:.1} MB/s (median of the runs)"),
            );
            rates.push(row.rate);
            self.push(row);
        }
        if let [plain, cached] = rates[..] {
            self.report.check(
                &format!(
                    "cached variant rate ≥ {:.0} % of plain /files at {CONNECTIONS} connections",
                    RATE_SHARE * 100.0
                ),
                format!(
                    "{cached:.0} vs {plain:.0} req/s = {:.0} %",
                    100.0 * cached / plain
                ),
                cached >= RATE_SHARE * plain,
            );
        }
        Ok(())
    }

    /// The bytes of `pictures` (a gallery page) as originals, as mobile variants and as
    /// `thumbnailUrl` variants (the latter rendered by this first request), WebP accepted.
    pub(super) async fn gallery_bytes(
        &mut self,
        server: &Server,
        pictures: &[Picture],
    ) -> anyhow::Result<()> {
        let mut sender = connect(server.addr).await?;
        let (mut originals, mut mobile, mut thumbnails) = (0_u64, 0_u64, 0_u64);
        for picture in pictures {
            for (path, sum, webp) in [
                (picture.original.clone(), &mut originals, false),
                (picture.mobile(), &mut mobile, true),
                (picture.thumbnail.clone(), &mut thumbnails, true),
            ] {
                let (status, body) =
                    send(&mut sender, server.addr, &image_get(&path), None).await?;
                ensure!(
                    status.is_success() && (!webp || is_webp(&body)),
                    "{path} answered {status} ({} bytes)",
                    body.len()
                );
                *sum += body.len() as u64;
            }
        }
        let page = pictures.len();
        for (label, bytes) in [
            (
                "mobile variants (width=256&height=256&resize=cover&quality=80, WebP)",
                mobile,
            ),
            (
                "thumbnailUrl variants (width=384&height=384&resize=cover, WebP)",
                thumbnails,
            ),
        ] {
            let fewer = originals as f64 / bytes.max(1) as f64;
            self.report.figure(
                &format!("variants: bytes of a {page}-image gallery page, {label}"),
                format!(
                    "{:.1} KiB against {:.0} KiB of originals: {fewer:.0}× fewer",
                    kib(bytes as f64),
                    kib(originals as f64)
                ),
            );
            self.report.check(
                &format!(
                    "a {page}-image page of {label} ≥ {BYTES_FACTOR:.0}× fewer bytes than the originals"
                ),
                format!("{fewer:.0}×"),
                fewer >= BYTES_FACTOR,
            );
        }
        Ok(())
    }
}
