//! Renders the same 256 px WebP (q80, cover) of a photo-like 1024×1024 PNG 300 times on one
//! thread after a warm-up, and prints the latency percentiles and the output sizes.
//!
//! `cargo run --release -p picture-imaging --example render_percentiles`

#[path = "../src/sample_photo.rs"]
mod sample_photo;

use std::error::Error;
use std::time::{Duration, Instant};

use picture_domain::ports::ImageRenderer;
use picture_domain::variant::{OutputFormat, Resize, VariantSpec};
use picture_imaging::{ImagingSettings, Renderer};

const WARM_UP: usize = 20;
const RUNS: usize = 300;

/// The 256×256 cover variant in `format` at q80.
fn thumbnail(format: OutputFormat) -> VariantSpec {
    VariantSpec {
        width: Some(256),
        height: Some(256),
        resize: Resize::Cover,
        quality: 80,
        format,
    }
}

/// `sorted`'s `p`-th percentile (nearest rank), in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len().max(1)) - 1;
    sorted
        .get(index)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

fn main() -> Result<(), Box<dyn Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let source = sample_photo::photo_png(1024, 1024, 7)?;
    let renderer = Renderer::new(ImagingSettings {
        threads: 1,
        ..ImagingSettings::default()
    });
    let webp = thumbnail(OutputFormat::Webp);
    for _ in 0..WARM_UP {
        runtime.block_on(renderer.render(source.clone(), webp))?;
    }
    let mut times = Vec::with_capacity(RUNS);
    let mut size = 0;
    for _ in 0..RUNS {
        let input = source.clone();
        let started = Instant::now();
        let out = runtime.block_on(renderer.render(input, webp))?;
        times.push(started.elapsed());
        size = out.bytes.len();
    }
    times.sort_unstable();
    let jpeg = runtime.block_on(renderer.render(source.clone(), thumbnail(OutputFormat::Jpeg)))?;
    let started = Instant::now();
    let blurhash = runtime.block_on(renderer.blurhash(source.clone()))?;
    let blurhash_time = started.elapsed();
    println!("source: 1024x1024 PNG, {} bytes", source.len());
    println!(
        "256x256 cover WebP q80, {RUNS} runs on 1 thread: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {size} bytes",
        percentile(&times, 50.0),
        percentile(&times, 99.0),
        percentile(&times, 100.0),
    );
    println!("256x256 cover JPEG q80: {} bytes", jpeg.bytes.len());
    println!(
        "blurhash {blurhash} in {:.2} ms",
        blurhash_time.as_secs_f64() * 1000.0
    );
    Ok(())
}
