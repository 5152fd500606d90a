//! The Replicate fake of the event tests (its pieces in [`crate::fake_replicate`]): a
//! wiremock API and output host, and webhooks signed like Replicate signs them.

use picture_server::settings::RawSettings;
use picture_tests::Db;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::fake_replicate::{
    self, Fake, output_response, prediction, prediction_with_logs, signed_webhook,
};

/// A cog progress bar at 2 of 4 steps, as flux-schnell prints it.
pub(super) const HALF_WAY_LOGS: &str = "Using seed: 42\n  0%|          | 0/4 [00:00<?, ?it/s]\r 25%|██▌       | 1/4 [00:00<00:01,  2.61it/s]\r 50%|█████     | 2/4 [00:00<00:00,  2.93it/s]";

/// A server on `db` with a fresh fake Replicate; `None` when PostgreSQL is absent on a
/// developer's machine.
pub(super) async fn setup(db: Db, configure: impl FnOnce(&mut RawSettings)) -> Option<Fake> {
    fake_replicate::setup(db, "events-user", configure).await
}

impl Fake {
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
