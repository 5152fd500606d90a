//! SIGTERM with two open streams (a user stream, and the stream of a processing generation)
//! and `SHUTDOWN_TIMEOUT_SECS=30`: both bodies complete and the process exits well before the
//! shutdown timeout — on the embedded SQLite default and on PostgreSQL.

use std::time::{Duration, Instant};

use picture_test_support::PgTestDb;

use crate::fake_replicate::{FakeReplicate, HALF_WAY_LOGS};
use crate::support::{Api, SERIAL, launch};

const USER: &str = "live-sigterm";
/// The exit must come well before `SHUTDOWN_TIMEOUT_SECS` (30).
const EXIT_WITHIN: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(5);

async fn sigterm_ends_the_streams_and_the_server_exits_at_once(database: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeReplicate::start().await;
    let launch = launch(database, dir.path(), &fake);
    let token = launch.token(USER);
    let mut server = launch.start("server").await;
    let api = Api::on(&server);
    let model = api.replicate_model().await;
    let id = api.generate(&token, &model, "stopped while watched").await;
    let created = fake.created(1, WAIT).await;
    let (_, status, _) = fake
        .deliver(
            &server,
            &created,
            "processing",
            HALF_WAY_LOGS,
            "msg_sigterm",
        )
        .await;
    assert_eq!(status, 200, "{}", server.log_tail());

    let mut watch = api.stream(&token, &format!("/generate/{id}/events")).await;
    let (_, first) = watch.event(WAIT).await;
    assert_eq!(first.data["status"], "processing", "{first:?}");
    let mut user = api.stream(&token, "/generate/events").await;
    let (_, ready) = user.event(WAIT).await;
    assert_eq!(ready.name, "ready", "{ready:?}");

    let signalled = Instant::now();
    server.sigterm();
    for (name, stream) in [("generation", &mut watch), ("user", &mut user)] {
        let (ended, clean) = stream
            .end(EXIT_WITHIN)
            .await
            .unwrap_or_else(|| panic!("the {name} stream did not end within {EXIT_WITHIN:?}"));
        assert!(clean, "the {name} stream's body completed");
        eprintln!(
            "the {name} stream ended {:?} after SIGTERM",
            ended.duration_since(signalled)
        );
    }
    let left = EXIT_WITHIN.saturating_sub(signalled.elapsed());
    let exit = server
        .exited_within(left)
        .await
        .unwrap_or_else(|| panic!("still running {EXIT_WITHIN:?} after SIGTERM"));
    eprintln!("the server exited {:?} after SIGTERM", signalled.elapsed());
    assert!(exit.success(), "{exit:?}: {}", server.log_tail());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_open_streams_on_sqlite() {
    let _serial = SERIAL.lock().await;
    sigterm_ends_the_streams_and_the_server_exits_at_once(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_open_streams_on_postgres() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let _serial = SERIAL.lock().await;
    sigterm_ends_the_streams_and_the_server_exits_at_once(Some(pg.url())).await;
}
