//! The Replicate adapter against a wiremock fake that answers like Replicate (the fixtures of
//! shared/reference/replicate-api.md §A.15 and its error bodies §A.6).
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::time::Duration;

use picture_domain::ports::{
    ImageProvider, ImageSource, ProviderError, ProviderRequest, ProviderState,
};
use picture_domain::{GenerationId, GenerationParams, PredictionId, Progress};
use picture_replicate::{ReplicateConfig, ReplicateProvider};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "r8_test_token";

fn provider(server: &MockServer) -> ReplicateProvider {
    let mut config = ReplicateConfig::new(SecretString::from(TOKEN));
    config.base_url = format!("{}/v1", server.uri());
    config.create_timeout = Duration::from_millis(500);
    config.get_timeout = Duration::from_millis(500);
    config.cancel_timeout = Duration::from_millis(500);
    config.sync_wait = Duration::from_secs(1);
    ReplicateProvider::new(config).unwrap()
}

fn request(model_ref: &str, version: Option<&str>) -> ProviderRequest {
    ProviderRequest {
        generation_id: GenerationId::new_random(),
        model_ref: model_ref.into(),
        model_version: version.map(str::to_owned),
        prompt: "a studio photo of a rainbow colored corgi".into(),
        negative_prompt: None,
        source_image_url: None,
        params: GenerationParams {
            width: 512,
            height: 512,
            steps: 50,
            guidance_scale: 7.5,
            seed: Some(42069),
            generation_strength: None,
        },
        webhook_url: None,
        wait: false,
    }
}

fn f1_created() -> Value {
    json!({
        "id": "vgcm4plb7tgzlyznry5d5jkgvu",
        "model": "stability-ai/sdxl",
        "version": "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b",
        "input": {"height": 512, "prompt": "a studio photo of a rainbow colored corgi", "seed": 42069, "width": 512},
        "logs": "",
        "error": null,
        "status": "starting",
        "created_at": "2023-08-16T18:57:08.36078514Z",
        "urls": {
            "cancel": "https://api.replicate.com/v1/predictions/vgcm4plb7tgzlyznry5d5jkgvu/cancel",
            "get": "https://api.replicate.com/v1/predictions/vgcm4plb7tgzlyznry5d5jkgvu"
        }
    })
}

fn f3_succeeded() -> Value {
    let mut prediction = f1_created();
    for (key, value) in json!({
        "logs": "Using seed: 42069\n",
        "output": ["https://replicate.delivery/pbxt/9inf36wjsEWuQ6XTf84iezPftv9QZdePfGySnU5tUai3BOrWE/out-0.png"],
        "status": "succeeded",
        "started_at": "2023-08-16T18:57:08.366092Z",
        "completed_at": "2023-08-16T18:57:12.17042Z",
        "metrics": {"predict_time": 3.804328},
    })
    .as_object()
    .unwrap()
    {
        prediction[key] = value.clone();
    }
    prediction
}

/// Creates a versioned prediction with a webhook through a provider whose webhooks report
/// progress or not, and answers the `webhook_events_filter` it sent.
async fn created_with_webhook(webhook_progress: Option<bool>) -> Value {
    let server = MockServer::start().await;
    let version = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b";
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_partial_json(json!({
            "version": version,
            "input": {"prompt": "a studio photo of a rainbow colored corgi", "width": 512,
                      "height": 512, "seed": 42069},
            "webhook": "https://picture.example/api/v1/generate/webhook?generation=x",
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(f1_created()))
        .expect(1)
        .mount(&server)
        .await;
    let mut config = ReplicateConfig::new(SecretString::from(TOKEN));
    config.base_url = format!("{}/v1", server.uri());
    if let Some(progress) = webhook_progress {
        config.webhook_progress = progress;
    }
    let mut r = request("stability-ai/sdxl", Some(version));
    r.webhook_url = Some("https://picture.example/api/v1/generate/webhook?generation=x".into());
    let submission = ReplicateProvider::new(config)
        .unwrap()
        .submit(&r)
        .await
        .unwrap();
    assert_eq!(
        submission.prediction_id.as_str(),
        "vgcm4plb7tgzlyznry5d5jkgvu"
    );
    assert_eq!(submission.state, ProviderState::Starting);
    let sent = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    body["webhook_events_filter"].clone()
}

#[tokio::test]
async fn a_versioned_model_is_created_on_the_predictions_endpoint_with_its_webhook() {
    let with_progress = json!(["start", "logs", "completed"]);
    let default = if ReplicateConfig::DEFAULT_WEBHOOK_PROGRESS {
        with_progress.clone()
    } else {
        json!(["completed"])
    };
    assert_eq!(created_with_webhook(None).await, default);
    assert_eq!(created_with_webhook(Some(true)).await, with_progress);
    assert_eq!(
        created_with_webhook(Some(false)).await,
        json!(["completed"])
    );
}

#[tokio::test]
async fn a_prediction_without_a_webhook_asks_for_no_events() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(f1_created()))
        .expect(1)
        .mount(&server)
        .await;
    provider(&server)
        .submit(&request("owner/model", Some("v1")))
        .await
        .unwrap();
    let sent = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert!(body.get("webhook").is_none());
    assert!(body.get("webhook_events_filter").is_none());
}

#[tokio::test]
async fn an_official_model_waits_with_prefer_and_may_answer_processing_with_outputs() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/v1/models/black-forest-labs/flux-schnell/predictions",
        ))
        .and(header("prefer", "wait=1"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("Preference-Applied", "wait=1")
                .set_body_json(json!({
                    "id": "dapztkbwgxrg20cfgsmrz2gm38",
                    "status": "processing",
                    "output": ["https://replicate.delivery/yhqm/abc/out-0.png"]
                })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut r = request("black-forest-labs/flux-schnell", None);
    r.wait = true;
    let submission = provider(&server).submit(&r).await.unwrap();
    assert_eq!(
        submission.prediction_id.as_str(),
        "dapztkbwgxrg20cfgsmrz2gm38"
    );
    assert_eq!(
        submission.state,
        ProviderState::Processing { progress: None }
    );
}

#[tokio::test]
async fn get_normalises_a_succeeded_prediction() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions/vgcm4plb7tgzlyznry5d5jkgvu"))
        .respond_with(ResponseTemplate::new(200).set_body_json(f3_succeeded()))
        .mount(&server)
        .await;
    let id = PredictionId::parse("vgcm4plb7tgzlyznry5d5jkgvu").unwrap();
    let state = provider(&server).fetch(&id).await.unwrap();
    assert_eq!(
        state,
        ProviderState::Succeeded {
            outputs: vec![ImageSource::Url(
                "https://replicate.delivery/pbxt/9inf36wjsEWuQ6XTf84iezPftv9QZdePfGySnU5tUai3BOrWE/out-0.png"
                    .into()
            )],
            predict_time: Some(Duration::from_secs_f64(3.804328)),
        }
    );
}

#[tokio::test]
async fn get_of_a_processing_prediction_carries_the_progress_of_its_logs() {
    let server = MockServer::start().await;
    let mut processing = f1_created();
    processing["status"] = json!("processing");
    processing["started_at"] = json!("2023-08-16T18:57:08.366092Z");
    processing["logs"] = json!(
        "Using seed: 42069\nPrompt: a studio photo of a rainbow colored corgi\ntxt2img mode\n  0%|          | 0/30 [00:00<?, ?it/s]\r  3%|▎         | 1/30 [00:00<00:05,  5.30it/s]\r 40%|████      | 12/30 [00:02<00:03,  5.32it/s]"
    );
    Mock::given(method("GET"))
        .and(path("/v1/predictions/vgcm4plb7tgzlyznry5d5jkgvu"))
        .respond_with(ResponseTemplate::new(200).set_body_json(processing))
        .expect(1)
        .mount(&server)
        .await;
    let id = PredictionId::parse("vgcm4plb7tgzlyznry5d5jkgvu").unwrap();
    let state = provider(&server).fetch(&id).await.unwrap();
    assert_eq!(
        state,
        ProviderState::Processing {
            progress: Some(Progress::new(12, 30).unwrap())
        }
    );
}

#[tokio::test]
async fn cancel_posts_to_the_cancel_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/predictions/hdwst0bb05rgp0cf0p29mzk2am/cancel"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "hdwst0bb05rgp0cf0p29mzk2am", "status": "canceled", "output": null,
            "error": null, "metrics": {"predict_time": 0.128148, "total_time": 0.175128}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let id = PredictionId::parse("hdwst0bb05rgp0cf0p29mzk2am").unwrap();
    provider(&server).cancel(&id).await.unwrap();
}

async fn create_error(
    status: u16,
    body: Value,
    extra_header: Option<(&str, &str)>,
) -> ProviderError {
    let server = MockServer::start().await;
    let mut response = ResponseTemplate::new(status)
        .insert_header("content-type", "application/problem+json")
        .set_body_json(body);
    if let Some((name, value)) = extra_header {
        response = response.insert_header(name, value);
    }
    Mock::given(method("POST"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let error = provider(&server)
        .submit(&request("owner/model", Some("v1")))
        .await
        .unwrap_err();
    server.verify().await;
    error
}

#[tokio::test]
async fn every_error_status_maps_to_a_clear_domain_error_and_a_create_is_never_retried() {
    assert_eq!(
        create_error(401, json!({"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}), None).await,
        ProviderError::Unauthorized
    );
    assert_eq!(
        create_error(402, json!({"title":"Billing required","detail":"You need to set up billing to run this model.","status":402}), None).await,
        ProviderError::Billing
    );
    assert!(matches!(
        create_error(
            404,
            json!({"detail":"The requested resource could not be found.","status":404}),
            None
        )
        .await,
        ProviderError::UnknownModel(_)
    ));
    assert!(matches!(
        create_error(422, json!({"title":"Invalid version or not permitted","detail":"The specified version does not exist (or perhaps you don't have permission to use it?)","status":422}), None).await,
        ProviderError::UnknownModel(_)
    ));
    assert_eq!(
        create_error(400, json!({"status":400,"detail":"Invalid input"}), None).await,
        ProviderError::Rejected("Invalid input".into())
    );
    assert_eq!(
        create_error(
            429,
            json!({"detail":"Request was throttled. Your rate limit resets in ~30s."}),
            Some(("retry-after", "30"))
        )
        .await,
        ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    assert!(matches!(
        create_error(500, json!({"detail":"Internal server error"}), None).await,
        ProviderError::Unavailable(_)
    ));
    assert!(matches!(
        create_error(503, json!("not a problem object"), None).await,
        ProviderError::Unavailable(_)
    ));
}

#[tokio::test]
async fn an_unknown_prediction_is_not_found_and_a_malformed_answer_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions/missing"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"detail":"Not found."})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions/garbled"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
        .mount(&server)
        .await;
    let p = provider(&server);
    assert_eq!(
        p.fetch(&PredictionId::parse("missing").unwrap()).await,
        Err(ProviderError::NotFound)
    );
    assert!(matches!(
        p.fetch(&PredictionId::parse("garbled").unwrap()).await,
        Err(ProviderError::Unavailable(_))
    ));
}

#[tokio::test]
async fn slow_answers_time_out_and_unreachable_hosts_are_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(f1_created())
                .set_delay(Duration::from_secs(3)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = provider(&server)
        .submit(&request("owner/model", Some("v1")))
        .await
        .unwrap_err();
    assert_eq!(error, ProviderError::Timeout);

    // A port nobody listens on (wiremock keeps dropped servers listening in a pool).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = ReplicateConfig::new(SecretString::from(TOKEN));
    config.base_url = format!("http://{closed}/v1");
    let p = ReplicateProvider::new(config).unwrap();
    assert!(matches!(
        p.fetch(&PredictionId::parse("abc").unwrap()).await,
        Err(ProviderError::Unavailable(_))
    ));
}

#[tokio::test]
async fn model_references_that_are_not_owner_name_never_reach_the_network() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(f1_created()))
        .expect(0)
        .mount(&server)
        .await;
    for model_ref in ["no-slash", "../../etc/x", "owner/na me", "owner/"] {
        let error = provider(&server)
            .submit(&request(model_ref, None))
            .await
            .unwrap_err();
        assert!(
            matches!(error, ProviderError::UnknownModel(_)),
            "{model_ref}"
        );
    }
}
