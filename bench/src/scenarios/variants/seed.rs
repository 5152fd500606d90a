//! The images of the variants scenario: 1024×1024 offline renders generated through
//! `POST /api/v1/generate` (sync), a few at a time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use hyper::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::{IMAGES, Picture, kib};
use crate::load::{Target, fetch};
use crate::scenarios::Bench;
use crate::server::Server;

/// Generations in flight at once.
const GENERATING: usize = 4;
/// The side of every generated image.
const SIDE: u32 = 1024;

/// The path of `url` on its server (`http://host:port/files/…` → `/files/…`): every start of
/// the server has a new port, the stored URLs keep the first one's.
fn path_of(url: &str) -> anyhow::Result<String> {
    url.find("/files/")
        .map(|at| url[at..].to_owned())
        .with_context(|| format!("not a /files/ URL: {url}"))
}

/// One sync generation of picture `index`: the picture and its stored size in bytes.
async fn generate(
    addr: SocketAddr,
    token: &str,
    model: &str,
    index: usize,
) -> anyhow::Result<(Picture, u64)> {
    let target = Target::post(
        "/api/v1/generate",
        &json!({
            "prompt": format!("variant bench {index}: a lighthouse at dusk over a stormy sea"),
            "modelId": model,
            "width": SIDE,
            "height": SIDE,
            "seed": index,
            "waitForResult": true,
        }),
        StatusCode::CREATED,
    );
    let (status, body) = fetch(addr, &target, Some(token)).await?;
    let answer: Value = serde_json::from_slice(&body)?;
    if status != StatusCode::CREATED || answer["status"] != "completed" {
        bail!(
            "generation {index} answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    let image = &answer["image"];
    let url = |field: &str| {
        image[field]
            .as_str()
            .with_context(|| format!("an image without {field}"))
    };
    Ok((
        Picture {
            original: path_of(url("publicUrl")?)?,
            thumbnail: path_of(url("thumbnailUrl")?)?,
        },
        image["fileSize"]
            .as_u64()
            .context("an image without fileSize")?,
    ))
}

impl Bench<'_> {
    /// Generates [`IMAGES`] pictures, in order of their index.
    pub(super) async fn generate_pictures(
        &mut self,
        server: &Server,
        token: &Arc<Vec<String>>,
        model: &str,
    ) -> anyhow::Result<Vec<Picture>> {
        println!("image variants: generating {IMAGES} images of {SIDE}×{SIDE} …");
        let started = Instant::now();
        let mut calls = JoinSet::new();
        let mut done = Vec::with_capacity(IMAGES);
        for index in 0..IMAGES {
            if calls.len() >= GENERATING
                && let Some(generated) = calls.join_next().await
            {
                done.push(generated??);
            }
            let (addr, token, model) = (server.addr, token[0].clone(), model.to_owned());
            calls.spawn(async move {
                generate(addr, &token, &model, index)
                    .await
                    .map(|(picture, size)| (index, picture, size))
            });
        }
        while let Some(generated) = calls.join_next().await {
            done.push(generated??);
        }
        let took = started.elapsed();
        done.sort_by_key(|(index, _, _)| *index);
        let sizes: Vec<u64> = done.iter().map(|(_, _, size)| *size).collect();
        let mean = sizes.iter().sum::<u64>() as f64 / sizes.len().max(1) as f64;
        let (smallest, largest) = (
            sizes.iter().min().copied().unwrap_or(0),
            sizes.iter().max().copied().unwrap_or(0),
        );
        self.report.figure(
            &format!(
                "variants: {IMAGES} offline-rendered {SIDE}×{SIDE} PNG originals generated (sync, {GENERATING} at a time)"
            ),
            format!(
                "mean {:.0} KiB ({:.0} to {:.0} KiB); {:.1} s in all, {:.0} ms per image",
                kib(mean),
                kib(smallest as f64),
                kib(largest as f64),
                took.as_secs_f64(),
                took.as_secs_f64() * 1000.0 / IMAGES as f64
            ),
        );
        Ok(done.into_iter().map(|(_, picture, _)| picture).collect())
    }
}
