//! Secrets never reach the logs: the real binary runs with debug logging and every secret set,
//! is driven through the paths that log most (auth failures, provider and credits-service
//! errors, admin and webhook checks), and its whole output is searched for them.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use picture_replicate::WebhookVerifier;
use serde_json::json;

const JWT_SECRET: &str = "jwt-LEAKCHECK-0123456789-abcdefghijklmnop";
const WEBHOOK_SECRET: &str = "whsec_TEVBS0NIRUNLLXdlYmhvb2stc2VjcmV0LWJ5dGVz";
const REPLICATE_TOKEN: &str = "r8_LEAKCHECK_replicate_token_value";
const ADMIN_KEY: &str = "admin-LEAKCHECK-service-key";
const SERVICE_KEY: &str = "svc-LEAKCHECK-credits-key";

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(data_dir: &std::path::Path, port: u16) -> Command {
    let closed = closed_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_picture-server"));
    command
        .env_clear()
        .env("DATA_DIR", data_dir)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("APP_ENV", "staging")
        .env("FREE_GENERATIONS", "1")
        .env("RUST_LOG", "debug")
        .env("LOG_FORMAT", "json")
        .env("JWT_SECRET", JWT_SECRET)
        .env("REPLICATE_API_TOKEN", REPLICATE_TOKEN)
        .env(
            "REPLICATE_API_BASE_URL",
            format!("http://127.0.0.1:{closed}/v1"),
        )
        .env("REPLICATE_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("ADMIN_SERVICE_KEY", ADMIN_KEY)
        .env("MANA_CREDITS_URL", format!("http://127.0.0.1:{closed}"))
        .env("MANA_CORE_SERVICE_KEY", SERVICE_KEY);
    command
}

#[tokio::test]
async fn a_full_run_logs_no_secret_and_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let token_run = command(dir.path(), port)
        .args(["token", "leaker"])
        .output()
        .unwrap();
    assert!(token_run.status.success(), "{token_run:?}");
    let token = String::from_utf8(token_run.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let mut server = command(dir.path(), port)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not come up");

    let me = format!("{base}/api/v1/profiles/me");
    let ok = client.get(&me).bearer_auth(&token).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let forged = format!("{token}x");
    let refused = client.get(&me).bearer_auth(&forged).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let models: serde_json::Value = client
        .get(format!("{base}/api/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = json!({"prompt": "leak check", "modelId": models[0]["id"], "waitForResult": true});
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let response = client
            .post(format!("{base}/api/v1/generate"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        let text = response.text().await.unwrap();
        for secret in [REPLICATE_TOKEN, SERVICE_KEY] {
            assert!(!text.contains(secret), "{text}");
        }
    }
    assert_eq!(
        statuses,
        [503, 503],
        "provider down, then credits service down"
    );
    for key in [ADMIN_KEY, "wrong-key"] {
        let response = client
            .post(format!("{base}/api/v1/admin/credits/grant"))
            .header("X-Service-Key", key)
            .json(&json!({"userId": "leaker", "amount": 5, "reason": "r", "idempotencyKey": "k"}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error());
    }
    let report = json!({"id": "p-unknown", "status": "succeeded", "output": []});
    let now = chrono::Utc::now().timestamp();
    let signature = WebhookVerifier::new(WEBHOOK_SECRET).unwrap().sign(
        "msg_leak",
        now,
        report.to_string().as_bytes(),
    );
    for signature in [signature, "v1,Zm9yZ2Vk".to_owned()] {
        client
            .post(format!("{base}/api/v1/generate/webhook"))
            .header("content-type", "application/json")
            .header("webhook-id", "msg_leak")
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature)
            .body(report.to_string())
            .send()
            .await
            .unwrap();
    }

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut logs = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    server.wait().unwrap();
    assert!(
        logs.contains("credits service"),
        "the run logged its failures:\n{logs}"
    );
    let webhook_key = WEBHOOK_SECRET.trim_start_matches("whsec_");
    for secret in [
        JWT_SECRET,
        webhook_key,
        REPLICATE_TOKEN,
        ADMIN_KEY,
        SERVICE_KEY,
        token.as_str(),
        forged.as_str(),
    ] {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
    // No fragment of a token either (its signature part is the secret-bearing bit).
    let signature_part = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature_part));
    assert!(!logs.to_ascii_lowercase().contains("bearer "));
}
