//! The `picture-server` binary's subcommands, run as a user would run them.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::path::Path;
use std::process::{Command, Output};

use picture_server::settings::RawSettings;
use picture_server::{Application, Settings};

fn run(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_picture-server"))
        .args(args)
        .env_clear()
        .env("DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn help_documents_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["--help"], &[]);
    assert!(output.status.success());
    let help = stdout(&output);
    for command in ["serve", "migrate", "token", "credits", "models"] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
    let credits = stdout(&run(dir.path(), &["credits", "--help"], &[]));
    assert!(credits.contains("grant"), "{credits}");
}

#[test]
fn credits_grant_adds_to_the_local_balance_once_per_key() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "credits",
        "grant",
        "cli-user",
        "25",
        "--idempotency-key",
        "order-7",
    ];
    let first = run(dir.path(), &args, &[]);
    assert!(first.status.success(), "{first:?}");
    let first = stdout(&first);
    assert!(
        first.starts_with("granted: user cli-user amount 25 key order-7"),
        "{first}"
    );
    assert!(first.ends_with("balance 25\n"), "{first}");
    let again = stdout(&run(dir.path(), &args, &[]));
    assert!(again.starts_with("already granted"), "{again}");
    assert!(again.ends_with("balance 25\n"), "{again}");
    let more = stdout(&run(
        dir.path(),
        &["credits", "grant", "cli-user", "5"],
        &[],
    ));
    assert!(more.ends_with("balance 30\n"), "{more}");
    for bad in [
        ["credits", "grant", "cli-user", "0"],
        ["credits", "grant", "a b", "5"],
    ] {
        let refused = run(dir.path(), &bad, &[]);
        assert!(!refused.status.success(), "{bad:?}");
    }
    let remote = run(
        dir.path(),
        &["credits", "grant", "cli-user", "5"],
        &[
            ("MANA_CREDITS_URL", "http://127.0.0.1:9"),
            ("MANA_CORE_SERVICE_KEY", "k"),
        ],
    );
    assert!(!remote.status.success());
    let stderr = String::from_utf8(remote.stderr).unwrap();
    assert!(stderr.contains("remote credits service"), "{stderr}");
}

#[test]
fn an_invalid_setting_stops_start_up_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["serve"], &[("PORT", "not-a-port")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("invalid setting PORT:"), "{stderr}");
}

#[test]
fn migrate_applies_once_and_models_list_shows_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &["migrate"], &[]);
    assert!(first.status.success(), "{first:?}");
    let applied = stdout(&first);
    assert!(
        applied.starts_with("applied ") && !applied.starts_with("applied 0"),
        "{applied}"
    );
    let again = run(dir.path(), &["migrate"], &[]);
    assert!(stdout(&again).starts_with("applied 0 migration(s)"));
    let list = run(dir.path(), &["models", "list"], &[]);
    assert!(list.status.success(), "{list:?}");
    let lines: Vec<_> = stdout(&list).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].contains("offline-preview") && lines[0].ends_with("(default)"));
}

#[test]
fn token_refuses_an_invalid_user_id() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["token", "has space"], &[]);
    assert!(!output.status.success());
}

#[tokio::test]
async fn a_token_from_the_cli_is_accepted_and_a_tampered_one_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        dir.path(),
        &["token", "cli-user", "--email", "c@example.com"],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
    let token = stdout(&output).lines().last().unwrap().to_owned();

    let mut raw = RawSettings::default();
    raw.set("HOST", "127.0.0.1")
        .set("PORT", "0")
        .set("HTTP_WORKERS", "1")
        .set("DATA_DIR", dir.path().display().to_string());
    let settings = Settings::from_raw(raw).unwrap();
    let app = Application::build(settings).await.unwrap();
    let url = format!("http://127.0.0.1:{}/api/v1/profiles/me", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();

    let accepted = client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(accepted.status(), 200);
    let profile: serde_json::Value = accepted.json().await.unwrap();
    assert_eq!(profile["id"], "cli-user");
    assert_eq!(profile["email"], "c@example.com");

    let mut tampered = token.clone();
    let middle = tampered.len() / 2;
    let replacement = if &tampered[middle..=middle] == "x" {
        "y"
    } else {
        "x"
    };
    tampered.replace_range(middle..=middle, replacement);
    let refused = client
        .get(&url)
        .bearer_auth(&tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    handle.stop(true).await;
}

#[tokio::test]
async fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_picture-server"))
        .arg("serve")
        .env_clear()
        .env("DATA_DIR", dir.path())
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let health = format!("http://127.0.0.1:{port}/health");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(&health)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not come up");
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut status = None;
    for _ in 0..100 {
        status = server.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let Some(status) = status else {
        server.kill().unwrap();
        panic!("the server did not stop within 10 s of SIGTERM");
    };
    assert!(status.success(), "exit status {status:?}");
    assert!(client.get(&health).send().await.is_err(), "still listening");
}
