//! The Replicate fake of the event tests (its pieces in [`crate::fake_replicate`]): a
//! wiremock API and output host, and webhooks signed like Replicate signs them.

use picture_server::settings::RawSettings;
use picture_tests::{Db, TestApp};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fake_replicate::{
    output_response, prediction, prediction_with_logs, signed_webhook, use_fake_replicate,
};

/// A cog progress bar at 2 of 4 steps, as flux-schnell prints it.
pub(super) const HALF_WAY_LOGS: &str = "Using seed: 42\n  0%|          | 0/4 [00:00<?, ?it/s]\r 25%|██▌       | 1/4 [00:00<00:01,  2.61it/s]\r 50%|█████     | 2/4 [00:00<00:00,  2.93it/s]";

/// A server talking to a fake Replicate.
pub(super) struct Fake {
    pub app: TestApp,
    pub replicate: MockServer,
    pub token: String,
    pub model: String,
}

/// A server on `db` with a fresh fake Replicate; `None` when PostgreSQL is absent on a
/// developer's machine.
pub(super) async fn setup(db: Db, configure: impl FnOnce(&mut RawSettings)) -> Option<Fake> {
    let replicate = MockServer::start().await;
    let base = replicate.uri();
    let app = TestApp::spawn_with(db, |raw| {
        use_fake_replicate(raw, &base);
        raw.set("RECONCILER_INTERVAL_SECS", "3600");
        raw.set("RECONCILER_MIN_AGE_SECS", "3600");
        configure(raw);
    })
    .await?;
    let token = app.token("events-user", None);
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
    pub(super) fn output_url(&self) -> String {
        format!("{}/delivery/out-0.png", self.replicate.uri())
    }

    /// Creates answer `id` as `starting`, reads answer it `processing` (no logs), and the
    /// output is served.
    pub(super) async fn mount_prediction(&self, id: &str) {
        Mock::given(method("POST"))
            .and(path("/v1/predictions"))
            .respond_with(ResponseTemplate::new(201).set_body_json(prediction(
                id,
                "starting",
                Value::Null,
            )))
            .mount(&self.replicate)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/v1/predictions/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(prediction(
                id,
                "processing",
                Value::Null,
            )))
            .mount(&self.replicate)
            .await;
        Mock::given(method("GET"))
            .and(path("/delivery/out-0.png"))
            .respond_with(output_response())
            .mount(&self.replicate)
            .await;
    }

    /// `POST /api/v1/generate` without waiting: the new generation's id (it is processing).
    pub(super) async fn start_generation(&self) -> String {
        let response = self.app.generate(&self.token, &self.model, false).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "processing", "{body}");
        body["generationId"].as_str().unwrap().to_owned()
    }

    /// The webhook of prediction `id` at 2 of 4 steps.
    pub(super) async fn half_way(&self, id: &str) {
        let body = prediction_with_logs(id, "processing", Value::Null, HALF_WAY_LOGS);
        assert_eq!(signed_webhook(&self.app, "", &body).await, 200);
    }

    /// The webhook of prediction `id` succeeding with the fake's output.
    pub(super) async fn succeed(&self, id: &str) {
        let body = prediction_with_logs(id, "succeeded", json!([self.output_url()]), HALF_WAY_LOGS);
        assert_eq!(signed_webhook(&self.app, "", &body).await, 200);
    }
}
