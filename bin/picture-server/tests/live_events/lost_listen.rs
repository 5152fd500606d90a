//! The PostgreSQL feed survives a lost connection: the server's `LISTEN` connection is
//! terminated from outside, then an admin grant changes the balance — the open user stream
//! still gets its credits event (the feed reconnects and the hub has the streams replay the
//! log), and a later grant arrives over the new connection.

use std::time::{Duration, Instant};

use diesel::sql_types::BigInt;
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use picture_persistence::LIVE_FEED_APPLICATION_NAME;
use picture_test_support::PgTestDb;

use crate::fake_replicate::FakeReplicate;
use crate::support::{Api, SERIAL, launch};

const USER: &str = "live-lost";
const WAIT: Duration = Duration::from_secs(10);

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Terminates the server's listening connection to `url`'s database: how many were.
async fn terminate_the_listener(url: &str) -> i64 {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    // The feed opens its connection with `SET application_name = …; LISTEN picture_live`
    // (one statement string, so `query` does not start with LISTEN).
    let sql = format!(
        "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
           AND (query ILIKE 'LISTEN%' OR query ILIKE '%; LISTEN picture_live' \
                OR application_name = '{LIVE_FEED_APPLICATION_NAME}')"
    );
    sql_query(sql)
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_gets_its_events_after_the_listen_connection_is_lost() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeReplicate::start().await;
    let launch = launch(Some(pg.url()), dir.path(), &fake);
    let token = launch.token(USER);
    let server = launch.start("server").await;
    let api = Api::on(&server);

    let mut user = api.stream(&token, "/generate/events").await;
    let (_, ready) = user.event(WAIT).await;
    assert_eq!(ready.name, "ready", "{ready:?}");
    let (_, credits) = user.event(WAIT).await;
    assert_eq!(credits.name, "credits", "the balance follows: {credits:?}");

    assert_eq!(terminate_the_listener(pg.url()).await, 1, "one listener");
    let granted = Instant::now();
    assert_eq!(api.grant(USER, 25, "lost-1").await, 201);
    let (arrived, event) = user
        .until(WAIT, "credits after the lost connection", |event| {
            event.name == "credits" && event.data["balance"] == 25
        })
        .await;
    assert!(event.id.is_some(), "{event:?}");
    eprintln!(
        "the grant made while the listener was lost arrived {:?} later",
        arrived.duration_since(granted)
    );
    let reconnects = server.counter("picture_live_feed_reconnects_total").await;
    assert!(reconnects >= 1.0, "the feed reconnected: {reconnects}");

    let granted = Instant::now();
    assert_eq!(api.grant(USER, 5, "lost-2").await, 201);
    let (arrived, _) = user
        .until(WAIT, "credits over the new connection", |event| {
            event.name == "credits" && event.data["balance"] == 30
        })
        .await;
    eprintln!(
        "a grant after the reconnect arrived {:?} later",
        arrived.duration_since(granted)
    );
}
