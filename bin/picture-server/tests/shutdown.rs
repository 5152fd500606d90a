//! SIGTERM during a generation: the server stops accepting, lets the in-flight request finish
//! within `SHUTDOWN_TIMEOUT_SECS`, and exits cleanly with the generation completed.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_generation_finish() {
    let replicate = MockServer::start().await;
    let output = format!("{}/delivery/out.png", replicate.uri());
    Mock::given(method("POST"))
        .and(path_regex("predictions$"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({
                    "id": "p-shutdown", "status": "succeeded", "output": [output],
                    "error": null, "metrics": {"predict_time": 1.2}
                }))
                .set_delay(Duration::from_millis(1_500)),
        )
        .mount(&replicate)
        .await;
    Mock::given(method("GET"))
        .and(path("/delivery/out.png"))
        .respond_with(
            ResponseTemplate::new(200).set_body_bytes(
                picture_offline::render_png("shutdown", Some(1), 256, 256).unwrap(),
            ),
        )
        .mount(&replicate)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let configure = |command: &mut Command| {
        command
            .env_clear()
            .env("DATA_DIR", dir.path())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .env("REPLICATE_API_TOKEN", "r8_test")
            .env("REPLICATE_API_BASE_URL", format!("{}/v1", replicate.uri()))
            .env("OUTPUT_ALLOWED_HOSTS", "127.0.0.1")
            .env("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true")
            .env("SHUTDOWN_TIMEOUT_SECS", "10");
    };
    let binary = env!("CARGO_BIN_EXE_picture-server");
    let mut token = Command::new(binary);
    configure(&mut token);
    let token = token.args(["token", "patient"]).output().unwrap();
    let token = String::from_utf8(token.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let mut serve = Command::new(binary);
    configure(&mut serve);
    let mut server = serve.arg("serve").stdout(Stdio::null()).spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut model = Value::Null;
    for _ in 0..100 {
        if let Ok(response) = client.get(format!("{base}/api/v1/models")).send().await {
            model = response.json::<Value>().await.unwrap()[0]["id"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(model.is_string(), "the server did not come up");

    let request = client
        .post(format!("{base}/api/v1/generate"))
        .bearer_auth(&token)
        .json(&json!({"prompt": "finish me", "modelId": model, "waitForResult": true}))
        .send();
    let in_flight = tokio::spawn(request);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    let answer = in_flight.await.unwrap().unwrap();
    assert_eq!(answer.status(), 201);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["status"], "completed", "{body}");
    let mut exited = None;
    for _ in 0..150 {
        exited = server.try_wait().unwrap();
        if exited.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let Some(status) = exited else {
        server.kill().unwrap();
        panic!("the server did not stop after finishing the request");
    };
    assert!(status.success(), "{status:?}");
    assert!(
        client.get(format!("{base}/health")).send().await.is_err(),
        "no longer accepting"
    );
}
