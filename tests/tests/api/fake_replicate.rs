//! What the tests against a wiremock Replicate share: a server on a fresh fake and its user,
//! the settings that point a server at the fake, the prediction object as Replicate answers
//! and posts it, the output image, and webhooks signed like Replicate signs them.

use chrono::Utc;
use picture_replicate::WebhookVerifier;
use picture_server::settings::RawSettings;
use picture_tests::{Db, TestApp};
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

/// The webhook signing secret of the servers on the fake.
pub(crate) const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Points a server at the fake Replicate at `base`: its API, webhooks signed with
/// [`WEBHOOK_SECRET`], and outputs fetched from loopback.
pub(crate) fn use_fake_replicate(raw: &mut RawSettings, base: &str) {
    raw.set("REPLICATE_API_TOKEN", "r8_test_token");
    raw.set("REPLICATE_API_BASE_URL", format!("{base}/v1"));
    raw.set("REPLICATE_WEBHOOK_SECRET", WEBHOOK_SECRET);
    raw.set("WEBHOOK_BASE_URL", "https://picture.example");
    raw.set("OUTPUT_ALLOWED_HOSTS", "127.0.0.1");
    raw.set("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true");
}

/// A server talking to a fake Replicate, and one user of it. Each suite adds the calls it
/// makes in its own `impl Fake`.
pub(crate) struct Fake {
    pub(crate) app: TestApp,
    pub(crate) replicate: MockServer,
    pub(crate) token: String,
    pub(crate) model: String,
}

/// A server on `db` talking to a fresh fake Replicate, the reconciler an hour apart, then
/// `configure`d; `user`'s token and the default model. `None` when PostgreSQL is absent on a
/// developer's machine.
pub(crate) async fn setup(
    db: Db,
    user: &str,
    configure: impl FnOnce(&mut RawSettings),
) -> Option<Fake> {
    let replicate = MockServer::start().await;
    let base = replicate.uri();
    let app = TestApp::spawn_with(db, |raw| {
        use_fake_replicate(raw, &base);
        raw.set("RECONCILER_INTERVAL_SECS", "3600");
        raw.set("RECONCILER_MIN_AGE_SECS", "3600");
        configure(raw);
    })
    .await?;
    let token = app.token(user, None);
    let model = app.default_model_id().await;
    Some(Fake {
        app,
        replicate,
        token,
        model,
    })
}

impl Fake {
    /// Where the fake serves the output image.
    pub(crate) fn output_url(&self) -> String {
        format!("{}/delivery/out-0.png", self.replicate.uri())
    }

    /// `POST /api/v1/generate` without waiting: the new generation's id (it is processing).
    pub(crate) async fn start_generation(&self) -> String {
        let response = self.app.generate(&self.token, &self.model, false).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "processing", "{body}");
        body["generationId"].as_str().unwrap().to_owned()
    }
}

/// A prediction as Replicate answers and posts it, with no logs.
pub(crate) fn prediction(id: &str, status: &str, output: Value) -> Value {
    prediction_with_logs(id, status, output, "")
}

/// A prediction as Replicate answers and posts it, with `logs`.
pub(crate) fn prediction_with_logs(id: &str, status: &str, output: Value, logs: &str) -> Value {
    json!({"id": id, "model": "black-forest-labs/flux-schnell", "version": "hidden",
           "status": status, "output": output, "error": null, "logs": logs,
           "metrics": {"predict_time": 0.83}})
}

/// The image the fake serves as a prediction's output.
pub(crate) fn output_png() -> Vec<u8> {
    picture_offline::render_png("replicate fake", Some(1), 320, 240).unwrap()
}

/// The fake output host's answer: [`output_png`] as `image/png`.
pub(crate) fn output_response() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "image/png")
        .set_body_bytes(output_png())
}

/// The headers that sign `body` with `secret` at `timestamp`, under a fresh delivery id.
pub(crate) fn signature_headers(
    secret: &str,
    body: &Value,
    timestamp: i64,
) -> [(&'static str, String); 3] {
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let signature =
        WebhookVerifier::new(secret)
            .unwrap()
            .sign(&id, timestamp, body.to_string().as_bytes());
    [
        ("webhook-id", id),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
    ]
}

/// Posts `body` with `headers` to the webhook route of the server at `address` (`query`:
/// the webhook URL's query, or `""`): the status.
pub(crate) async fn post_webhook(
    client: &reqwest::Client,
    address: &str,
    query: &str,
    body: &Value,
    headers: &[(&str, String)],
) -> u16 {
    let mut request = client
        .post(format!("{address}/api/v1/generate/webhook{query}"))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Posts `body` to `app`'s webhook route (`query` as in [`post_webhook`]), signed now with
/// [`WEBHOOK_SECRET`]: the status.
pub(crate) async fn signed_webhook(app: &TestApp, query: &str, body: &Value) -> u16 {
    let headers = signature_headers(WEBHOOK_SECRET, body, Utc::now().timestamp());
    post_webhook(&app.client, &app.address, query, body, &headers).await
}
