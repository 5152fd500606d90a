//! Property tests at the HTTP edge: arbitrary JSON bodies, query strings and path ids sent to
//! the real server get a clear answer in the contract's error shape, never a 5xx.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use picture_tests::{Db, TestApp};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

/// One server for all cases (limits off, so hundreds of requests stay allowed).
struct Target {
    runtime: tokio::runtime::Runtime,
    app: TestApp,
    token: String,
    model: String,
}

impl Target {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let app = runtime
            .block_on(TestApp::spawn_with(Db::Sqlite, |raw| {
                raw.set("RATE_LIMIT_IP_PER_MINUTE", "0");
                raw.set("RATE_LIMIT_GENERATIONS_PER_MINUTE", "0");
                raw.set("RATE_LIMIT_GENERATIONS_PER_DAY", "0");
            }))
            .unwrap();
        let token = app.token("fuzzer", None);
        let model = runtime.block_on(app.default_model_id());
        Self {
            runtime,
            app,
            token,
            model,
        }
    }

    /// Sends the request; fails the case on a 5xx or a 4xx outside the error shape.
    fn check(&self, method: Method, path: &str, body: Option<&str>) -> Result<u16, TestCaseError> {
        let (status, text) = self.runtime.block_on(async {
            let mut request = self
                .app
                .client
                .request(method.clone(), format!("{}{path}", self.app.address))
                .bearer_auth(&self.token);
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_owned());
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        });
        prop_assert!(status < 500, "{method} {path} {body:?} -> {status} {text}");
        if status >= 400 {
            let error: Value = serde_json::from_str(&text)
                .map_err(|e| TestCaseError::fail(format!("{status} not JSON: {e}: {text}")))?;
            prop_assert_eq!(&error["statusCode"], &json!(status));
            prop_assert!(error["code"].is_string(), "{}", text);
        }
        Ok(status)
    }
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::from),
        (0u32..3000).prop_map(Value::from),
    ]
}

fn generate_body(model: String) -> impl Strategy<Value = String> {
    let fields = [
        "prompt",
        "modelId",
        "negativePrompt",
        "width",
        "height",
        "steps",
        "guidanceScale",
        "seed",
        "sourceImageUrl",
        "generationStrength",
        "style",
        "modelVersion",
        "waitForResult",
        "unknownField",
    ];
    let pairs = prop::collection::vec((prop::sample::select(fields.to_vec()), json_leaf()), 0..8);
    prop_oneof![
        4 => pairs.prop_map(move |pairs| {
            let mut body = json!({"prompt": "fuzz", "modelId": model});
            for (field, value) in pairs {
                body[field] = value;
            }
            body.to_string()
        }),
        1 => any::<String>(),
        1 => json_leaf().prop_map(|v| v.to_string()),
    ]
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn generate_bodies_never_cause_a_server_error() {
    let target = Target::start();
    runner()
        .run(&generate_body(target.model.clone()), |body| {
            target.check(Method::POST, "/api/v1/generate", Some(&body))?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn query_strings_and_path_ids_never_cause_a_server_error() {
    let target = Target::start();
    let noise = "[ -~]{0,24}";
    let cases = (
        prop::sample::select(vec![
            "/api/v1/images?",
            "/api/v1/generate/history?",
            "/api/v1/images?page=1&",
        ]),
        noise,
        noise,
        noise,
    );
    runner()
        .run(&cases, |(base, key, value, id)| {
            let query: String = url_encode(&format!("{key}={value}"));
            target.check(Method::GET, &format!("{base}{query}"), None)?;
            let id = url_encode(&id);
            for path in [
                format!("/api/v1/images/{id}"),
                format!("/api/v1/generate/{id}/status"),
                format!("/api/v1/models/{id}"),
                format!("/api/v1/images/generation/{id}"),
            ] {
                target.check(Method::GET, &path, None)?;
            }
            target.check(Method::DELETE, &format!("/api/v1/generate/{id}"), None)?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn batch_and_grant_bodies_never_cause_a_server_error() {
    let target = Target::start();
    let bodies = prop_oneof![
        prop::collection::vec(json_leaf(), 0..130)
            .prop_map(|ids| json!({"imageIds": ids}).to_string()),
        any::<String>(),
    ];
    runner()
        .run(&bodies, |body| {
            target.check(Method::POST, "/api/v1/images/batch/archive", Some(&body))?;
            target.check(Method::POST, "/api/v1/admin/credits/grant", Some(&body))?;
            target.check(
                Method::PATCH,
                "/api/v1/images/00000000-0000-4000-8000-000000000000/favorite",
                Some(&body),
            )?;
            Ok(())
        })
        .unwrap();
}

/// Percent-encodes everything but unreserved characters and `=`/`&` separators.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'=' | b'&' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
