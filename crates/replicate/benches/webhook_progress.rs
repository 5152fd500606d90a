//! What asking Replicate for progress webhooks (`REPLICATE_WEBHOOK_PROGRESS`) costs:
//!
//! 1. a model of Replicate's throttle — `start` and `completed` always, `logs` at most once per
//!    500 ms while the model prints — giving the deliveries per prediction for typical runs;
//! 2. our CPU per delivery: signature check + prediction parse + domain state (progress
//!    parsed from the logs), timed one delivery at a time, p50/p90/p99.
//!
//! `cargo bench -p picture-replicate --bench webhook_progress`; the crate's README quotes it.
#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up with known-good inputs"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use picture_domain::ports::ProviderState;
use picture_replicate::{Prediction, WebhookHeaders, WebhookVerifier};
use serde_json::json;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Replicate's throttle of `logs` (and `output`) webhooks.
const THROTTLE: Duration = Duration::from_millis(500);

/// Deliveries of one prediction that runs `run` and prints its bar at the start and after each
/// of `steps` even steps, with `["start","logs","completed"]`. The throttle is modelled as
/// leading and trailing: a change is sent at once when the last `logs` webhook is at least
/// 500 ms old, else when those 500 ms are over, if the prediction still runs; a change pending
/// at the end travels in `completed`.
fn deliveries_with_progress(run: Duration, steps: u32) -> u32 {
    let writes = (0..=steps).map(|step| run.mul_f64(f64::from(step) / f64::from(steps)));
    let mut sent: Option<Duration> = None;
    let mut pending = false;
    let mut logs = 0;
    for at in writes {
        if let (true, Some(last)) = (pending, sent)
            && last + THROTTLE <= at
            && last + THROTTLE < run
        {
            logs += 1;
            sent = Some(last + THROTTLE);
            pending = false;
        }
        match sent {
            Some(last) if at < last + THROTTLE => pending = true,
            _ if at < run => {
                logs += 1;
                sent = Some(at);
            }
            _ => {}
        }
    }
    // start + logs + completed
    logs + 2
}

/// A processing SDXL prediction as a webhook body, its logs about `logs_bytes` long (at least
/// one bar): the set-up lines and the tqdm bar redrawn with `\r` at every step.
fn processing_prediction(logs_bytes: usize) -> (Vec<u8>, usize) {
    let mut logs = String::from(
        "Using seed: 42069\nPrompt: a studio photo of a rainbow colored corgi\ntxt2img mode\n",
    );
    let mut step = 0;
    while step == 0 || logs.len() < logs_bytes {
        let filled = step * 10 / 30;
        let bar: String = "█".repeat(filled) + &" ".repeat(10 - filled);
        logs.push_str(&format!(
            "{:3}%|{bar}| {step}/30 [00:{:02}<00:{:02},  5.32it/s]\r",
            step * 100 / 30,
            step / 5,
            (30 - step) / 5
        ));
        step = (step + 1) % 31;
    }
    let body = json!({"id": "vgcm4plb7tgzlyznry5d5jkgvu", "model": "stability-ai/sdxl",
           "version": "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b",
           "input": {"prompt": "a studio photo of a rainbow colored corgi", "width": 1024,
                     "height": 1024, "num_inference_steps": 30, "seed": 42069},
           "logs": logs, "output": null, "error": null, "status": "processing",
           "data_removed": false, "source": "api",
           "created_at": "2026-11-24T05:00:00.000Z", "started_at": "2026-11-24T05:00:00.100Z",
           "completed_at": null,
           "urls": {"get": "https://api.replicate.com/v1/predictions/vgcm4plb7tgzlyznry5d5jkgvu",
                    "cancel": "https://api.replicate.com/v1/predictions/vgcm4plb7tgzlyznry5d5jkgvu/cancel",
                    "web": "https://replicate.com/p/vgcm4plb7tgzlyznry5d5jkgvu"},
           "webhook": "https://picture.example/api/v1/generate/webhook?generation=0193a1c2-7d4e-7000-8000-000000000000",
           "webhook_events_filter": ["start", "logs", "completed"],
           "metrics": {}});
    (body.to_string().into_bytes(), logs.len())
}

/// What the webhook route computes from a delivery before it touches the database.
fn receive(verifier: &WebhookVerifier, headers: &WebhookHeaders<'_>, body: &[u8], now: i64) {
    verifier.verify(headers, body, now).unwrap();
    let prediction = Prediction::parse(body).unwrap();
    black_box(prediction.prediction_id().unwrap());
    black_box(prediction.state());
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() - 1) * p / 100]
}

fn time_deliveries(logs_bytes: usize) {
    const RUNS: usize = 200_000;
    let verifier = WebhookVerifier::new(SECRET).unwrap();
    let (body, logs_len) = processing_prediction(logs_bytes);
    let now = 1_764_000_000;
    let signature = verifier.sign("msg_2LvTrFjk4eJ1Lrrp6dENmnQNr7R", now, &body);
    let headers = WebhookHeaders {
        id: "msg_2LvTrFjk4eJ1Lrrp6dENmnQNr7R",
        timestamp: "1764000000",
        signature: &signature,
    };
    assert!(matches!(
        Prediction::parse(&body).unwrap().state(),
        ProviderState::Processing { progress: Some(_) }
    ));
    for _ in 0..RUNS / 10 {
        receive(&verifier, &headers, &body, now);
    }
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            receive(&verifier, &headers, black_box(&body), now);
            started.elapsed()
        })
        .collect();
    times.sort_unstable();
    let progress_only = {
        let prediction = Prediction::parse(&body).unwrap();
        let started = Instant::now();
        for _ in 0..RUNS {
            black_box(black_box(&prediction).progress());
        }
        started.elapsed() / u32::try_from(RUNS).unwrap()
    };
    println!(
        "| {:>5} B ({} B of logs) | {:.2} µs | {:.2} µs | {:.2} µs | {:.2} µs |",
        body.len(),
        logs_len,
        micros(percentile(&times, 50)),
        micros(percentile(&times, 90)),
        micros(percentile(&times, 99)),
        micros(progress_only),
    );
}

/// The progress parse's worst case: logs of `bytes` without a bar, every line tried.
fn time_logs_without_a_bar(bytes: usize) {
    const RUNS: u32 = 20_000;
    let line = "Loading pipeline components...: 100% 7/7 done, moving to cuda:0\n";
    let logs = line.repeat(bytes / line.len() + 1);
    let prediction = Prediction::parse(
        json!({"id": "a", "status": "processing", "logs": logs})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    assert!(prediction.progress().is_none());
    let started = Instant::now();
    for _ in 0..RUNS {
        black_box(black_box(&prediction).progress());
    }
    println!(
        "| {} B of logs, no bar | {:.2} µs |",
        logs.len(),
        micros(started.elapsed() / RUNS)
    );
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    println!("Deliveries per prediction (throttle model):\n");
    println!(
        "| run | steps | `[\"completed\"]` | `[\"start\",\"logs\",\"completed\"]` | bound 2 + ⌈run / 0.5 s⌉ |"
    );
    println!("|---|---|---|---|---|");
    for (label, run_ms, steps) in [
        ("1 s (flux-schnell)", 1_000, 4),
        ("3 s (flux-dev, 28 steps)", 3_000, 28),
        ("7 s (SDXL, 30 steps)", 7_000, 30),
        ("30 s (50 steps)", 30_000, 50),
    ] {
        let run = Duration::from_millis(run_ms);
        println!(
            "| {label} | {steps} | 1 | {} | {} |",
            deliveries_with_progress(run, steps),
            2 + run_ms.div_ceil(500)
        );
    }
    println!("\nOur CPU per delivery (verify + parse + state with progress), one core:\n");
    println!("| body | p50 | p90 | p99 | progress parse alone |");
    println!("|---|---|---|---|---|");
    for logs_bytes in [0, 2_048, 16_384, 131_072] {
        time_deliveries(logs_bytes);
    }
    println!("\n| progress parse, worst case | mean |");
    println!("|---|---|");
    for bytes in [2_048, 131_072] {
        time_logs_without_a_bar(bytes);
    }
}
