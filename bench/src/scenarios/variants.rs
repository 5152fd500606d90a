//! Issue 21's image variants, on a server of its own on SQLite with the offline renderer (no
//! provider token, so every generation is drawn by `picture-offline`): 1024×1024 images are
//! generated through the API, then
//! - the time of a first request of a 256 px WebP variant, rendered one at a time;
//! - cached variants against plain originals under load, in turns, with the bytes moved;
//! - the bytes of a 20-image mobile gallery page: originals against variants;
//! - the server's RSS while 16 first requests for 16 different variants render at once, with
//!   the default `IMAGE_RENDER_THREADS` and with 16.

mod renders;
mod seed;
mod served;

use std::sync::Arc;

use anyhow::Context;
use serde_json::Value;

use super::Bench;
use crate::load::{Target, fetch};
use crate::server::Server;

/// The scenario's name for `--only`.
pub(super) const VARIANTS: &str = "image variants (issue 21)";
/// Images whose first variant request is timed one at a time (then served cached under load).
const RENDER_SAMPLES: usize = 100;
/// First requests rendered at once in the memory measurement.
const BURST: usize = 16;
/// Images generated: the timed ones and two bursts of not-yet-rendered ones.
const IMAGES: usize = RENDER_SAMPLES + 2 * BURST;
/// The mobile client's variant query.
const MOBILE_QUERY: &str = "width=256&height=256&resize=cover&quality=80";
/// The `Accept` header of an image request from a browser or the mobile client.
const ACCEPT_WEBP: &str = "image/webp,image/*,*/*;q=0.8";
/// The user who generates every image.
const USER: &str = "bench-variants";
/// The offline renderer's model (`picture_domain::catalog_seed::OFFLINE_PREVIEW_MODEL`).
const OFFLINE_MODEL: &str = "offline-preview";

/// One generated image, as the paths a client requests.
#[derive(Debug, Clone)]
struct Picture {
    /// `/files/{key}` of the original.
    original: String,
    /// The path and query of its `thumbnailUrl`.
    thumbnail: String,
}

impl Picture {
    /// The original's path with the mobile variant query.
    fn mobile(&self) -> String {
        format!("{}?{MOBILE_QUERY}", self.original)
    }
}

/// A `GET` of `path` as an image request (WebP accepted).
fn image_get(path: impl Into<String>) -> Target {
    Target::get(path).with_header("accept", ACCEPT_WEBP)
}

/// Whether `bytes` are a WebP file (RIFF container, `WEBP` form).
fn is_webp(bytes: &[u8]) -> bool {
    bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP"
}

/// Bytes as KiB for the report.
fn kib(bytes: f64) -> f64 {
    bytes / 1024.0
}

impl Bench<'_> {
    /// The scenario: its own SQLite database and data directory under the harness's.
    pub(super) async fn variants(&mut self) -> anyhow::Result<()> {
        if !self.wanted(VARIANTS) {
            return Ok(());
        }
        let mut config = self.config.clone();
        config.data_dir = self.config.data_dir.join("variants");
        std::fs::create_dir_all(&config.data_dir)?;
        config.database_url = format!("sqlite://{}", config.data_dir.join("picture.db").display());
        config.without = vec!["REPLICATE_API_TOKEN", "REPLICATE_API_BASE_URL"];
        config.migrate().await?;
        config.grant(USER, 1_000_000_000).await?;
        let token = Arc::new(vec![config.token(USER).await?]);

        let server = config.start().await?;
        let measured = self.variants_on(&server, &token).await;
        server.stop().await?;
        let pictures = measured?;

        let bursts = pictures[RENDER_SAMPLES..].chunks(BURST);
        for (threads, pictures) in [None, Some(BURST)].into_iter().zip(bursts) {
            let mut burst_config = config.clone();
            if let Some(threads) = threads {
                burst_config
                    .env
                    .push(("IMAGE_RENDER_THREADS".into(), threads.to_string()));
            }
            self.render_burst(&burst_config, threads, pictures).await?;
        }
        Ok(())
    }

    /// Generation, first renders, cached throughput and the gallery's bytes on `server`: the
    /// generated pictures.
    async fn variants_on(
        &mut self,
        server: &Server,
        token: &Arc<Vec<String>>,
    ) -> anyhow::Result<Vec<Picture>> {
        let model = offline_model(server, &token[0]).await?;
        let pictures = self.generate_pictures(server, token, &model).await?;
        self.first_renders(server, &pictures[..RENDER_SAMPLES])
            .await?;
        self.cached_against_plain(server, &pictures[..RENDER_SAMPLES])
            .await?;
        self.gallery_bytes(server, &pictures[..served::GALLERY_PAGE])
            .await?;
        Ok(pictures)
    }
}

/// The id of the offline renderer's model.
async fn offline_model(server: &Server, token: &str) -> anyhow::Result<String> {
    let (status, body) = fetch(server.addr, &Target::get("/api/v1/models"), Some(token)).await?;
    anyhow::ensure!(status.is_success(), "GET /api/v1/models answered {status}");
    let models: Vec<Value> = serde_json::from_slice(&body)?;
    models
        .iter()
        .find(|m| m["name"] == OFFLINE_MODEL)
        .and_then(|m| m["id"].as_str())
        .map(str::to_owned)
        .context("the catalogue has no offline preview model")
}
