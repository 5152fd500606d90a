//! Microbenchmark of the adapter's hot pure code: turning a realistic answer (a ~1.5 MB image
//! as `b64_json`, ~2 MB of JSON) into the submission. `cargo bench -p picture-openai`.
#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up with known-good inputs"
)]

use std::hint::black_box;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::Criterion;
use picture_domain::GenerationId;
use picture_openai::ImagesAnswer;
use serde_json::json;

/// A PNG-looking 1.5 MB payload: the signature, then incompressible-looking bytes.
fn image(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

fn answer_decoding(c: &mut Criterion) {
    let body = json!({
        "created": 1_713_833_628,
        "background": "opaque", "output_format": "png", "quality": "high", "size": "1024x1024",
        "data": [{"b64_json": STANDARD.encode(image(1_500_000))}],
        "usage": {"total_tokens": 4_220, "input_tokens": 60, "output_tokens": 4_160,
                  "input_tokens_details": {"text_tokens": 60, "image_tokens": 0}}
    })
    .to_string()
    .into_bytes();
    let generation_id = GenerationId::new_random();
    let elapsed = Duration::from_secs(12);
    assert!(
        ImagesAnswer::parse(&body)
            .unwrap()
            .submission(&generation_id, elapsed)
            .is_ok()
    );
    c.bench_function(
        &format!(
            "answer parse + submission (1.5 MB image, {:.1} MB body)",
            body.len() as f64 / 1e6
        ),
        |b| {
            b.iter(|| {
                ImagesAnswer::parse(black_box(&body))
                    .unwrap()
                    .submission(&generation_id, elapsed)
            })
        },
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    answer_decoding(&mut criterion);
    criterion.final_summary();
}
