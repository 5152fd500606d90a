//! One server, three providers side by side: Replicate and an OpenAI-compatible images API
//! (both wiremock fakes following their documented APIs) and the offline renderer. Each
//! generation goes only to its model's provider; the OpenAI-compatible provider's failures
//! fail the generation and give the free slot back; its key is never shown.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use picture_tests::{Db, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The OpenAI-compatible API's key: it must appear in no reply and no log line.
const KEY: &str = "sk-proj-PICTURE-TEST-KEY-never-shown-0123456789";

picture_tests::for_both_databases!(
    models_of_three_providers_are_served_side_by_side_each_generation_going_to_its_own,
    openai_failures_fail_the_generation_give_the_slot_back_and_never_show_the_key,
);

/// Every log line any server of this test binary writes, from the first call on.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LINES: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LINES
        .get_or_init(|| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let writer = Capture(lines.clone());
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_writer(move || writer.clone())
                .json()
                .finish();
            // Another test of this binary may have set one first: then its lines are not
            // seen here, and the assertion below checks what is.
            let _ = tracing::subscriber::set_global_default(subscriber);
            lines
        })
        .clone()
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Fakes {
    app: TestApp,
    replicate: MockServer,
    openai: MockServer,
    /// Every reply body the test read, to check the key is in none.
    replies: Vec<String>,
}

fn png(label: &str) -> Vec<u8> {
    picture_offline::render_png(label, Some(1), 64, 48).unwrap()
}

/// OpenAI's documented answer with one base64 image.
fn b64_answer(label: &str) -> Value {
    json!({"created": 1_713_833_628, "data": [{"b64_json": STANDARD.encode(png(label))}]})
}

/// OpenAI's documented error object.
fn openai_error(message: &str, kind: &str, code: Value) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

async fn setup(db: Db) -> Option<Fakes> {
    let _ = captured_logs();
    let replicate = MockServer::start().await;
    let openai = MockServer::start().await;
    let (replicate_base, openai_base) = (replicate.uri(), openai.uri());
    let app = TestApp::spawn_with(db, |raw| {
        raw.set("REPLICATE_API_TOKEN", "r8_test_token");
        raw.set("REPLICATE_API_BASE_URL", format!("{replicate_base}/v1"));
        raw.set("OPENAI_IMAGES_BASE_URL", openai_base);
        raw.set("OPENAI_IMAGES_API_KEY", KEY);
        raw.set("OPENAI_IMAGES_MODELS", "gpt-image-1,dall-e-3");
        raw.set("OUTPUT_ALLOWED_HOSTS", "127.0.0.1");
        raw.set("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true");
        raw.set("GENERATION_POLL_INTERVAL_MS", "50");
        raw.set("PROVIDER_POLL_MIN_INTERVAL_MS", "0");
        raw.set("RECONCILER_INTERVAL_SECS", "3600");
        raw.set("RECONCILER_MIN_AGE_SECS", "3600");
    })
    .await?;
    Some(Fakes {
        app,
        replicate,
        openai,
        replies: Vec::new(),
    })
}

impl Fakes {
    /// The id of the model named `name`, and its provider.
    async fn model(&mut self, name: &str) -> (String, String) {
        let models = self.json(Method::GET, "/api/v1/models", None, None).await.1;
        let model = models
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {models}"));
        (
            model["id"].as_str().unwrap().to_owned(),
            model["provider"].as_str().unwrap().to_owned(),
        )
    }

    /// A request; its status and JSON body (kept for the key check).
    async fn json(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let response = match body {
            Some(body) => self.app.send_json(method, path, token, &body).await,
            None => self.app.send(method, path, token).await,
        };
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        self.replies.push(text.clone());
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn generate(
        &mut self,
        user: &str,
        model: &str,
        prompt: &str,
        wait: bool,
    ) -> (u16, Value) {
        let token = self.app.token(user, None);
        self.json(
            Method::POST,
            "/api/v1/generate",
            Some(&token),
            Some(json!({"prompt": prompt, "modelId": model, "waitForResult": wait})),
        )
        .await
    }

    /// The status of `user`'s generation `id` once it is final (bounded: 10 s).
    async fn final_status(&mut self, user: &str, id: &str) -> Value {
        let token = self.app.token(user, None);
        let mut status = Value::Null;
        for _ in 0..200 {
            status = self
                .json(
                    Method::GET,
                    &format!("/api/v1/generate/{id}/status"),
                    Some(&token),
                    None,
                )
                .await
                .1;
            if ["completed", "failed", "cancelled"]
                .contains(&status["status"].as_str().unwrap_or(""))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        status
    }

    async fn free_used(&self, user: &str) -> u32 {
        self.app.account(user).await.free_generations_used
    }

    /// The key appears in no reply read and no log line written.
    fn assert_key_never_shown(&self) {
        for reply in &self.replies {
            assert!(!reply.contains(KEY), "a reply shows the key: {reply}");
        }
        let logs = captured_logs();
        let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        assert!(!logs.is_empty(), "the servers' logs are captured");
        assert!(!logs.contains(KEY), "a log line shows the key");
    }
}

/// The bodies of the requests `server` received on `route`.
async fn bodies(server: &MockServer, route: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r: &&Request| r.url.path() == route)
        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        .collect()
}

async fn models_of_three_providers_are_served_side_by_side_each_generation_going_to_its_own(
    db: Db,
) {
    let Some(mut fakes) = setup(db).await else {
        return;
    };
    // Replicate answers at once with an output on the fake's own host.
    let output = format!("{}/delivery/flux.png", fakes.replicate.uri());
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "p-flux", "model": "black-forest-labs/flux-schnell", "version": "v",
            "input": {}, "logs": "", "output": [output], "error": null, "status": "succeeded",
            "created_at": "2026-11-30T00:00:00Z", "urls": {}, "metrics": {"predict_time": 1.0}
        })))
        .expect(1)
        .mount(&fakes.replicate)
        .await;
    Mock::given(method("GET"))
        .and(path("/delivery/flux.png"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(png("flux")))
        .mount(&fakes.replicate)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/images/generations"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(b64_answer("openai")))
        .expect(2)
        .mount(&fakes.openai)
        .await;

    let listed = fakes
        .json(Method::GET, "/api/v1/models", None, None)
        .await
        .1;
    let providers: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["provider"].as_str().unwrap()))
        .collect();
    assert_eq!(
        providers,
        [
            ("flux-schnell", "replicate"),
            ("offline-preview", "offline"),
            ("seedream-3", "replicate"),
            ("nano-banana", "replicate"),
            ("gpt-image-1", "openai"),
            ("dall-e-3", "openai"),
        ]
    );
    assert_eq!(listed[4]["replicateId"], "gpt-image-1");

    // The offline preview is rendered here, never sent to Replicate.
    let (offline, _) = fakes.model("offline-preview").await;
    let (status, body) = fakes
        .generate("u-offline", &offline, "a lighthouse", true)
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (201, Some("completed")),
        "{body}"
    );

    let (flux, _) = fakes.model("flux-schnell").await;
    let (status, body) = fakes.generate("u-flux", &flux, "a fox", true).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (201, Some("completed")),
        "{body}"
    );

    // OpenAI-compatible, waiting: the image comes back in the answer.
    let (gpt, provider) = fakes.model("gpt-image-1").await;
    assert_eq!(provider, "openai");
    let (status, body) = fakes.generate("u-gpt", &gpt, "a heron", true).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (201, Some("completed")),
        "{body}"
    );
    assert!(body["image"]["publicUrl"].is_string(), "{body}");

    // Not waiting: `processing` at once, completed in the background.
    let (dalle, _) = fakes.model("dall-e-3").await;
    let (status, body) = fakes.generate("u-dalle", &dalle, "a crane", false).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (201, Some("processing")),
        "{body}"
    );
    let id = body["generationId"].as_str().unwrap().to_owned();
    let done = fakes.final_status("u-dalle", &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        fakes.free_used("u-dalle").await,
        1,
        "billed like any generation"
    );

    // Each generation went to its own provider only.
    let replicate = bodies(&fakes.replicate, "/v1/predictions").await;
    assert_eq!(
        replicate.len(),
        1,
        "only flux went to Replicate: {replicate:?}"
    );
    assert_eq!(replicate[0]["input"]["prompt"], "a fox");
    let openai = bodies(&fakes.openai, "/v1/images/generations").await;
    let sent: Vec<(&str, &str)> = openai
        .iter()
        .map(|b| (b["model"].as_str().unwrap(), b["prompt"].as_str().unwrap()))
        .collect();
    assert_eq!(sent, [("gpt-image-1", "a heron"), ("dall-e-3", "a crane")]);
    // Only the documented fields: gpt-image models always answer base64 and take no format.
    let mut keys: Vec<&String> = openai[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["model", "n", "prompt", "size"]);
    assert_eq!(openai[1]["response_format"], "b64_json");
    assert_eq!(openai[1]["size"], "1024x1024");
    fakes.assert_key_never_shown();
}

async fn openai_failures_fail_the_generation_give_the_slot_back_and_never_show_the_key(db: Db) {
    let Some(mut fakes) = setup(db).await else {
        return;
    };
    let refusals = [
        (
            "refused prompt",
            ResponseTemplate::new(400).set_body_json(openai_error(
                "Your request was rejected as a result of our safety system.",
                "image_generation_user_error",
                json!("content_policy_violation"),
            )),
            502,
            "content policy",
        ),
        (
            "throttled prompt",
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(openai_error(
                    "Rate limit reached for images per minute.",
                    "requests",
                    json!("rate_limit_exceeded"),
                )),
            503,
            "busy",
        ),
        (
            "crashed prompt",
            ResponseTemplate::new(500).set_body_json(openai_error(
                "The server had an error while processing your request.",
                "server_error",
                Value::Null,
            )),
            503,
            "unavailable",
        ),
        (
            "bad key prompt",
            ResponseTemplate::new(401).set_body_json(openai_error(
                &format!("Incorrect API key provided: {KEY}. You can find your API key at https://platform.openai.com/account/api-keys."),
                "invalid_request_error",
                json!("invalid_api_key"),
            )),
            502,
            "credentials",
        ),
    ];
    for (prompt, answer, _, _) in &refusals {
        Mock::given(method("POST"))
            .and(path("/v1/images/generations"))
            .and(body_partial_json(json!({"prompt": prompt})))
            .respond_with(answer.clone())
            .mount(&fakes.openai)
            .await;
    }
    let (gpt, _) = fakes.model("gpt-image-1").await;
    for (n, (prompt, _, status, says)) in refusals.iter().enumerate() {
        // Waiting: the refusal is the request's answer.
        let user = format!("u-sync-{n}");
        let (got, body) = fakes.generate(&user, &gpt, prompt, true).await;
        assert_eq!(got, *status, "{prompt}: {body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains(says),
            "{prompt}: {body}"
        );
        if *status == 503 && *says == "busy" {
            // Retry-After is passed on.
            let token = fakes.app.token(&user, None);
            let again = fakes
                .app
                .send_json(
                    Method::POST,
                    "/api/v1/generate",
                    Some(&token),
                    &json!({"prompt": prompt, "modelId": gpt, "waitForResult": true}),
                )
                .await;
            assert_eq!(again.headers()["retry-after"], "7");
            fakes.replies.push(again.text().await.unwrap());
        }
        assert_eq!(
            fakes.free_used(&user).await,
            0,
            "{prompt}: the free slot came back"
        );

        // Not waiting: `processing`, then `failed`, and the slot comes back.
        let user = format!("u-async-{n}");
        let (got, body) = fakes.generate(&user, &gpt, prompt, false).await;
        assert_eq!(
            (got, body["status"].as_str()),
            (201, Some("processing")),
            "{body}"
        );
        let id = body["generationId"].as_str().unwrap().to_owned();
        let done = fakes.final_status(&user, &id).await;
        assert_eq!(done["status"], "failed", "{prompt}: {done}");
        assert_eq!(
            fakes.free_used(&user).await,
            0,
            "{prompt}: the free slot came back"
        );
    }
    // No image was stored for any of them.
    let token = fakes.app.token("u-sync-0", None);
    let (_, images) = fakes
        .json(Method::GET, "/api/v1/images", Some(&token), None)
        .await;
    assert_eq!(images, json!([]));
    fakes.assert_key_never_shown();
}
