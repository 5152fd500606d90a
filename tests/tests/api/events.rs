//! Live progress over Server-Sent Events (issue 20), black-box on both databases: one
//! generation's stream on the Replicate fake (`generation`), reconnecting with `Last-Event-ID`
//! (`reconnect`), who may open a stream and with which token (`access`), the user stream with
//! its credits and batch items (`user_stream`), `GET /generate/active` as the queue's first
//! paint (`active`), and the per-user cap (`caps`). `sse` is the tests' SSE client.

use serde_json::Value;

mod access;
mod active;
mod caps;
mod fake;
mod generation;
mod reconnect;
mod sse;
mod user_stream;

use self::sse::Event;

const STATUSES: [&str; 6] = [
    "pending",
    "queued",
    "processing",
    "completed",
    "failed",
    "cancelled",
];

/// Asserts `event` is a `generation` event of `id` in the documented shape: `generationId`
/// and `status` strings, `progress` null or 0–1 (1 when completed), `batchId` null or a string,
/// an `id:`, and `result` (the `/status` shape) on final events only.
fn assert_generation(event: &Event, id: &str) {
    assert_eq!(event.name, "generation", "{event:?}");
    assert!(event.id.is_some_and(|n| n > 0), "{event:?}");
    let data = &event.data;
    assert_eq!(data["generationId"], id, "{event:?}");
    let status = data["status"].as_str().unwrap();
    assert!(STATUSES.contains(&status), "{event:?}");
    match &data["progress"] {
        Value::Null => assert_ne!(status, "completed", "{event:?}"),
        Value::Number(n) => {
            let p = n.as_f64().unwrap();
            assert!((0.0..=1.0).contains(&p), "{event:?}");
            assert!(status == "processing" || status == "completed", "{event:?}");
        }
        other => panic!("progress {other}"),
    }
    assert!(
        data["batchId"].is_null() || data["batchId"].is_string(),
        "{event:?}"
    );
    let terminal = matches!(status, "completed" | "failed" | "cancelled");
    if terminal {
        let result = &data["result"];
        assert_eq!(result["id"], id, "{event:?}");
        assert_eq!(result["status"], status, "{event:?}");
        assert!(result["creditsUsed"].is_i64(), "{event:?}");
        assert!(result["prompt"].is_string(), "{event:?}");
    } else {
        assert!(data.get("result").is_none(), "{event:?}");
    }
}

/// Asserts a final `completed` event of `id` carrying its image (`publicUrl`, as `/status`).
fn assert_completed(event: &Event, id: &str) {
    assert_generation(event, id);
    assert_eq!(event.data["status"], "completed", "{event:?}");
    assert_eq!(event.data["progress"], 1.0);
    let image = &event.data["result"]["image"];
    assert!(
        image["publicUrl"]
            .as_str()
            .is_some_and(|url| !url.is_empty()),
        "{event:?}"
    );
    assert!(image["width"].is_u64(), "{event:?}");
}

/// Asserts `event` is a `credits` event in `GET /credits/balance`'s shape.
fn assert_credits(event: &Event) {
    assert_eq!(event.name, "credits", "{event:?}");
    let data = &event.data;
    for field in [
        "balance",
        "freeGenerationsRemaining",
        "freeGenerationsLimit",
        "creditsPerGeneration",
    ] {
        assert!(data[field].is_i64(), "{field}: {event:?}");
    }
    assert!(data["enforcement"].is_string(), "{event:?}");
}

/// Asserts an error answer: `status` and the error shape with `code`.
async fn assert_error(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    let message = &body["message"];
    assert!(
        message.is_string()
            || message
                .as_array()
                .is_some_and(|m| m.iter().all(Value::is_string)),
        "{body}"
    );
}
