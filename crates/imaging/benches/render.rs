//! Criterion benchmarks: a 256 px WebP q80 cover variant and a blurhash of a photo-like
//! 1024×1024 PNG, through the renderer's port (pool and blocking thread included).

#[path = "../src/sample_photo.rs"]
mod sample_photo;

use std::hint::black_box;

use criterion::Criterion;
use picture_domain::ports::ImageRenderer;
use picture_domain::variant::{OutputFormat, Resize, VariantSpec};
use picture_imaging::{ImagingSettings, Renderer};

const THUMBNAIL: VariantSpec = VariantSpec {
    width: Some(256),
    height: Some(256),
    resize: Resize::Cover,
    quality: 80,
    format: OutputFormat::Webp,
};

#[expect(
    clippy::expect_used,
    reason = "a benchmark without its runtime or source cannot run"
)]
fn render(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let source = sample_photo::photo_png(1024, 1024, 7).expect("the source PNG");
    let renderer = Renderer::new(ImagingSettings {
        threads: 1,
        ..ImagingSettings::default()
    });
    c.bench_function("webp_256_cover_q80_from_1024_png", |b| {
        b.iter(|| {
            let out = runtime.block_on(renderer.render(source.clone(), THUMBNAIL));
            black_box(out.map(|image| image.bytes.len()))
        });
    });
    c.bench_function("blurhash_from_1024_png", |b| {
        b.iter(|| black_box(runtime.block_on(renderer.blurhash(source.clone()))));
    });
}

fn main() {
    let mut criterion = Criterion::default().sample_size(30).configure_from_args();
    render(&mut criterion);
    criterion.final_summary();
}
