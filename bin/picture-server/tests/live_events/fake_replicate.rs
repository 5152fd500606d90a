//! A fake of Replicate on loopback whose predictions stay `processing` until the test delivers
//! their webhooks (signed with the servers' secret, to whichever server it picks), and its
//! output host.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use picture_replicate::WebhookVerifier;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::output_host::mount_output_png;
use crate::process::{Server, WEBHOOK_SECRET};

/// Logs of a prediction half-way through its steps (tqdm's bar): progress 0.5.
pub const HALF_WAY_LOGS: &str = "Loading model\n 50%|█████     | 2/4 [00:00<00:00,  2.93it/s]\n";

/// A prediction the fake created: its id and the query of the webhook URL it was given.
#[derive(Clone, Debug)]
pub struct Created {
    pub prediction: String,
    pub query: String,
}

fn prediction(id: &str, status: &str, output: Value, logs: &str) -> Value {
    json!({"id": id, "model": "black-forest-labs/flux-schnell", "version": "hidden",
           "status": status, "output": output, "error": null, "logs": logs,
           "metrics": {"predict_time": 0.5}})
}

/// `POST /v1/predictions`: a new prediction, `starting`, recorded.
struct Creates(Arc<Mutex<Vec<Created>>>);

impl Respond for Creates {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let webhook = body["webhook"].as_str().unwrap_or_default();
        let query = webhook.find('?').map_or("", |at| &webhook[at..]).to_owned();
        let mut created = self.0.lock().unwrap();
        let id = format!("live{:022}", created.len());
        created.push(Created {
            prediction: id.clone(),
            query,
        });
        ResponseTemplate::new(201).set_body_json(prediction(&id, "starting", Value::Null, ""))
    }
}

/// `GET /v1/predictions/{id}` says `processing` (no logs); a cancel says `canceled`.
struct Reads;

impl Respond for Reads {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request.url.path().split('/').nth(3).unwrap_or_default();
        let status = if request.url.path().ends_with("/cancel") {
            "canceled"
        } else {
            "processing"
        };
        ResponseTemplate::new(200).set_body_json(prediction(id, status, Value::Null, ""))
    }
}

/// The fake and what it created.
pub struct FakeReplicate {
    server: MockServer,
    created: Arc<Mutex<Vec<Created>>>,
}

impl FakeReplicate {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let created = Arc::new(Mutex::new(Vec::new()));
        Mock::given(method("POST"))
            .and(path("/v1/predictions"))
            .respond_with(Creates(Arc::clone(&created)))
            .mount(&server)
            .await;
        Mock::given(path_regex(r"^/v1/predictions/[^/]+(/cancel)?$"))
            .respond_with(Reads)
            .mount(&server)
            .await;
        mount_output_png(&server, "live").await;
        Self { server, created }
    }

    /// Its base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The `n`-th prediction created (from 1), waiting up to `within` for it.
    pub async fn created(&self, n: usize, within: Duration) -> Created {
        let deadline = Instant::now() + within;
        loop {
            if let Some(created) = self.created.lock().unwrap().get(n - 1) {
                return created.clone();
            }
            assert!(
                Instant::now() < deadline,
                "prediction {n} not created within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Delivers the signed webhook of `created` with `status` (and, when `processing`, `logs`;
    /// when `succeeded`, an image on this fake) to `server` as delivery `delivery`: when it was
    /// sent, the status it got and when.
    pub async fn deliver(
        &self,
        server: &Server,
        created: &Created,
        status: &str,
        logs: &str,
        delivery: &str,
    ) -> (Instant, u16, Instant) {
        let output = if status == "succeeded" {
            json!([format!("{}/delivery/out.png", self.uri())])
        } else {
            Value::Null
        };
        let body = prediction(&created.prediction, status, output, logs).to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let signature = WebhookVerifier::new(WEBHOOK_SECRET).unwrap().sign(
            delivery,
            timestamp,
            body.as_bytes(),
        );
        let sent = Instant::now();
        let answer = reqwest::Client::new()
            .post(format!(
                "{}/api/v1/generate/webhook{}",
                server.base(),
                created.query
            ))
            .header("content-type", "application/json")
            .header("webhook-id", delivery)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .unwrap();
        (sent, answer.status().as_u16(), Instant::now())
    }
}
