//! Microbenchmarks of the Replicate adapter's hot pure code: checking a webhook's signature and
//! normalising a prediction's output into image sources. `cargo bench -p picture-replicate`.
#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up with known-good inputs"
)]

use criterion::Criterion;
use picture_replicate::{Prediction, WebhookHeaders, WebhookVerifier};
use serde_json::json;
use std::hint::black_box;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn completed_prediction(outputs: usize) -> Vec<u8> {
    let output: Vec<String> = (0..outputs)
        .map(|i| format!("https://replicate.delivery/xezq/abc{i}/out-{i}.webp"))
        .collect();
    json!({"id": "gm3qorzdhgbfurvjtvhg6dckhu", "model": "black-forest-labs/flux-schnell",
           "version": "5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637",
           "input": {"prompt": "a watercolour fox in a snowy forest", "num_outputs": outputs},
           "logs": "Using seed: 1234\n0%|          | 0/4 [00:00<?, ?it/s]\n100%|██████████| 4/4",
           "output": output, "error": null, "status": "succeeded",
           "created_at": "2026-11-24T05:00:00.000Z", "started_at": "2026-11-24T05:00:00.100Z",
           "completed_at": "2026-11-24T05:00:00.900Z",
           "urls": {"get": "https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu",
                    "cancel": "https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel"},
           "metrics": {"predict_time": 0.8}})
    .to_string()
    .into_bytes()
}

fn webhook_signature(c: &mut Criterion) {
    let verifier = WebhookVerifier::new(SECRET).unwrap();
    let body = completed_prediction(1);
    let now = 1_764_000_000;
    let signature = verifier.sign("msg_2LvTrFjk4eJ1Lrrp6dENmnQNr7R", now, &body);
    let headers = WebhookHeaders {
        id: "msg_2LvTrFjk4eJ1Lrrp6dENmnQNr7R",
        timestamp: "1764000000",
        signature: &signature,
    };
    assert!(verifier.verify(&headers, &body, now).is_ok());
    c.bench_function(
        "webhook signature check (a completed prediction, 1 KB)",
        |b| b.iter(|| verifier.verify(black_box(&headers), black_box(&body), now)),
    );
}

fn output_normalisation(c: &mut Criterion) {
    for outputs in [1, 4] {
        let body = completed_prediction(outputs);
        assert_eq!(Prediction::parse(&body).unwrap().outputs().len(), outputs);
        c.bench_function(
            &format!("prediction parse + output normalisation ({outputs} outputs)"),
            |b| b.iter(|| Prediction::parse(black_box(&body)).map(|p| p.outputs())),
        );
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    webhook_signature(&mut criterion);
    output_normalisation(&mut criterion);
    criterion.final_summary();
}
