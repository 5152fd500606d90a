//! The OpenAI-compatible adapter against a wiremock fake that follows OpenAI's documented
//! `POST /v1/images/generations`: the request body (`model`, `prompt`, `n`, `size`,
//! `response_format`), the answer (`{"created", "data": [{"b64_json"} | {"url"}]}`) and the
//! error object (`{"error": {"message", "type", "param", "code"}}`).
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use picture_domain::ports::{
    ImageProvider, ImageSource, ProviderError, ProviderRequest, ProviderState,
};
use picture_domain::{GenerationId, GenerationParams, PredictionId};
use picture_openai::{OpenAiImagesConfig, OpenAiImagesProvider};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-proj-test-key-0123456789";

fn config(server: &MockServer) -> OpenAiImagesConfig {
    let mut config =
        OpenAiImagesConfig::new(server.uri(), vec!["dall-e-3".into(), "gpt-image-1".into()]);
    config.api_key = Some(SecretString::from(KEY));
    config.timeout = Duration::from_millis(500);
    config
}

fn provider(server: &MockServer) -> OpenAiImagesProvider {
    OpenAiImagesProvider::new(config(server)).unwrap()
}

fn request(model: &str) -> ProviderRequest {
    ProviderRequest {
        generation_id: GenerationId::new_random(),
        model_ref: model.into(),
        model_version: None,
        prompt: "A cute baby sea otter".into(),
        negative_prompt: Some("blurry".into()),
        source_image_url: None,
        params: GenerationParams {
            width: 1024,
            height: 1024,
            steps: 30,
            guidance_scale: 7.5,
            seed: Some(42),
            generation_strength: None,
        },
        webhook_url: None,
        wait: true,
    }
}

fn png() -> Vec<u8> {
    picture_offline::render_png("A cute baby sea otter", Some(42), 64, 64).unwrap()
}

fn b64_answer(bytes: &[u8]) -> Value {
    json!({
        "created": 1_713_833_628,
        "data": [{"b64_json": STANDARD.encode(bytes)}],
        "usage": {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50,
                  "input_tokens_details": {"text_tokens": 10, "image_tokens": 40}}
    })
}

async fn only_request_body(server: &MockServer) -> Value {
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    serde_json::from_slice(&received[0].body).unwrap()
}

fn keys(body: &Value) -> BTreeSet<&str> {
    body.as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn a_dall_e_call_sends_the_documented_fields_and_answers_the_image_inline() {
    let server = MockServer::start().await;
    let image = png();
    Mock::given(method("POST"))
        .and(path("/v1/images/generations"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(b64_answer(&image)))
        .expect(1)
        .mount(&server)
        .await;
    let r = request("dall-e-3");
    let submission = provider(&server).submit(&r).await.unwrap();

    let body = only_request_body(&server).await;
    assert_eq!(
        keys(&body),
        BTreeSet::from(["model", "prompt", "n", "size", "response_format"])
    );
    assert_eq!(
        body,
        json!({"model": "dall-e-3", "prompt": "A cute baby sea otter", "n": 1,
               "size": "1024x1024", "response_format": "b64_json"})
    );
    assert_eq!(
        submission.prediction_id.as_str(),
        format!("openai-{}", r.generation_id)
    );
    match submission.state {
        ProviderState::Succeeded {
            outputs,
            predict_time,
        } => {
            assert!(predict_time.is_some());
            let [ImageSource::DataUri(uri)] = outputs.as_slice() else {
                panic!("unexpected {outputs:?}");
            };
            let b64 = uri.strip_prefix("data:image/png;base64,").unwrap();
            assert_eq!(STANDARD.decode(b64).unwrap(), image);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn gpt_image_models_get_no_response_format_and_keyless_servers_no_authorization() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/images/generations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(b64_answer(&png())))
        .expect(2)
        .mount(&server)
        .await;
    provider(&server)
        .submit(&request("gpt-image-1"))
        .await
        .unwrap();
    let mut keyless = config(&server);
    keyless.api_key = None;
    OpenAiImagesProvider::new(keyless)
        .unwrap()
        .submit(&request("gpt-image-1"))
        .await
        .unwrap();

    let received = server.received_requests().await.unwrap();
    for sent in &received {
        let body: Value = serde_json::from_slice(&sent.body).unwrap();
        assert_eq!(
            keys(&body),
            BTreeSet::from(["model", "prompt", "n", "size"])
        );
    }
    assert_eq!(
        received[0].headers.get("authorization").unwrap(),
        &format!("Bearer {KEY}")
    );
    assert!(received[1].headers.get("authorization").is_none());
}

#[tokio::test]
async fn a_url_answer_is_an_image_url() {
    let server = MockServer::start().await;
    let url = "https://oaidalleapiprodscus.blob.core.windows.net/private/org-x/img-abc.png?sig=1";
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "created": 1_713_833_628,
            "data": [{"url": url, "revised_prompt": "A cute baby sea otter floating"}]
        })))
        .mount(&server)
        .await;
    let submission = provider(&server)
        .submit(&request("dall-e-3"))
        .await
        .unwrap();
    assert!(matches!(
        submission.state,
        ProviderState::Succeeded { outputs, .. } if outputs == [ImageSource::Url(url.into())]
    ));
}

async fn answer_error(status: u16, body: Value, extra: Option<(&str, &str)>) -> ProviderError {
    let server = MockServer::start().await;
    let mut response = ResponseTemplate::new(status).set_body_json(body);
    if let Some((name, value)) = extra {
        response = response.insert_header(name, value);
    }
    Mock::given(method("POST"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let error = provider(&server)
        .submit(&request("dall-e-3"))
        .await
        .unwrap_err();
    server.verify().await;
    error
}

fn openai_error(message: &str, kind: &str, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

#[tokio::test]
async fn every_error_status_maps_to_a_clear_domain_error_and_is_never_retried() {
    let policy =
        ProviderError::Rejected("The prompt was refused by the provider's content policy".into());
    assert_eq!(
        answer_error(
            400,
            openai_error(
                "Your request was rejected as a result of our safety system.",
                "invalid_request_error",
                Some("content_policy_violation")
            ),
            None
        )
        .await,
        policy
    );
    assert_eq!(
        answer_error(
            400,
            openai_error(
                "Your request was rejected by the safety system.",
                "image_generation_user_error",
                Some("moderation_blocked")
            ),
            None
        )
        .await,
        policy
    );
    assert_eq!(
        answer_error(400, openai_error("Invalid value: '999x999'. Supported values are: '1024x1024', '1024x1792', and '1792x1024'.", "invalid_request_error", Some("invalid_value")), None).await,
        ProviderError::Rejected("Invalid value: '999x999'. Supported values are: '1024x1024', '1024x1792', and '1792x1024'.".into())
    );
    assert_eq!(
        answer_error(
            401,
            openai_error(
                "You didn't provide an API key.",
                "invalid_request_error",
                None
            ),
            None
        )
        .await,
        ProviderError::Unauthorized
    );
    assert_eq!(
        answer_error(
            403,
            openai_error(
                "Project does not have access to model dall-e-3",
                "invalid_request_error",
                None
            ),
            None
        )
        .await,
        ProviderError::Unauthorized
    );
    assert_eq!(
        answer_error(
            404,
            openai_error(
                "The model `dall-e-3` does not exist.",
                "invalid_request_error",
                Some("model_not_found")
            ),
            None
        )
        .await,
        ProviderError::UnknownModel("dall-e-3".into())
    );
    assert_eq!(
        answer_error(
            429,
            openai_error(
                "Rate limit reached for dall-e-3 on images per min (IPM): Limit 5.",
                "requests",
                Some("rate_limit_exceeded")
            ),
            Some(("retry-after", "20"))
        )
        .await,
        ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(20))
        }
    );
    assert_eq!(
        answer_error(
            429,
            openai_error(
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                Some("insufficient_quota")
            ),
            None
        )
        .await,
        ProviderError::Billing
    );
    assert!(matches!(
        answer_error(500, openai_error("The server had an error while processing your request.", "server_error", None), None).await,
        ProviderError::Unavailable(m) if m.contains("500")
    ));
    assert!(matches!(
        answer_error(503, json!("<html>Service Unavailable</html>"), None).await,
        ProviderError::Unavailable(_)
    ));
}

#[tokio::test]
async fn a_call_past_the_time_limit_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(b64_answer(&png()))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let error = provider(&server)
        .submit(&request("dall-e-3"))
        .await
        .unwrap_err();
    assert_eq!(error, ProviderError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn malformed_oversized_and_imageless_answers_are_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"created\": 1, \"data\": ["))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"created": 1, "data": []})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(b64_answer(&[7u8; 4096])))
        .mount(&server)
        .await;
    let p = provider(&server);
    let malformed = p.submit(&request("dall-e-3")).await.unwrap_err();
    assert!(
        matches!(&malformed, ProviderError::Unavailable(m) if m.contains("unexpected answer")),
        "{malformed:?}"
    );
    let imageless = p.submit(&request("dall-e-3")).await.unwrap_err();
    assert!(
        matches!(&imageless, ProviderError::Unavailable(m) if m.contains("no image")),
        "{imageless:?}"
    );
    let mut capped = config(&server);
    capped.max_answer_bytes = 1024;
    let oversized = OpenAiImagesProvider::new(capped)
        .unwrap()
        .submit(&request("dall-e-3"))
        .await
        .unwrap_err();
    assert!(
        matches!(&oversized, ProviderError::Unavailable(m) if m.contains("larger than 1024")),
        "{oversized:?}"
    );
}

#[tokio::test]
async fn the_key_never_appears_in_an_error() {
    let echoed = format!(
        "Incorrect API key provided: {KEY}. You can find your API key at https://platform.openai.com/account/api-keys."
    );
    let mut errors = vec![
        answer_error(
            401,
            openai_error(&echoed, "invalid_request_error", Some("invalid_api_key")),
            None,
        )
        .await,
        answer_error(
            400,
            openai_error(&echoed, "invalid_request_error", None),
            None,
        )
        .await,
        answer_error(500, openai_error(&echoed, "server_error", None), None).await,
    ];
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut unreachable =
        OpenAiImagesConfig::new(format!("http://{closed}"), vec!["dall-e-3".into()]);
    unreachable.api_key = Some(SecretString::from(KEY));
    errors.push(
        OpenAiImagesProvider::new(unreachable.clone())
            .unwrap()
            .submit(&request("dall-e-3"))
            .await
            .unwrap_err(),
    );
    assert!(matches!(errors[3], ProviderError::Unavailable(_)));
    for error in &errors {
        assert!(!error.to_string().contains(KEY), "{error}");
        assert!(!format!("{error:?}").contains(KEY), "{error:?}");
    }
    assert!(!format!("{unreachable:?}").contains(KEY));
}

#[tokio::test]
async fn an_unconfigured_model_never_reaches_the_network() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(b64_answer(&png())))
        .expect(0)
        .mount(&server)
        .await;
    let error = provider(&server)
        .submit(&request("dall-e-2"))
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::UnknownModel(_)), "{error:?}");
}

#[tokio::test]
async fn an_inline_provider_keeps_nothing_and_cannot_cancel() {
    let server = MockServer::start().await;
    let p = provider(&server);
    assert!(p.answers_in_submit());
    let id = PredictionId::parse("openai-anything").unwrap();
    assert_eq!(p.fetch(&id).await, Err(ProviderError::NotFound));
    assert_eq!(p.cancel(&id).await, Ok(()));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn calls_are_sent_from_the_sending_runtime() {
    let outbound = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let caller = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handle = outbound.handle().clone();
    caller.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(b64_answer(&png())))
            .expect(1)
            .mount(&server)
            .await;
        let p = provider(&server).sending_on(handle);
        let submission = p.submit(&request("dall-e-3")).await.unwrap();
        assert!(matches!(submission.state, ProviderState::Succeeded { .. }));
    });
    drop(caller);
    outbound.shutdown_background();
}
