//! `picture-server images backfill` run as a process over 1,000 images stored without a
//! blurhash (5 whose object is missing, 2 whose object is no image) and a board thumbnail, on
//! SQLite and on PostgreSQL: stopped once it has hashed 200 (SIGINT on SQLite, SIGKILL on
//! PostgreSQL), run again to the end, then once more. What the first run wrote stays, the
//! second hashes the rest and nothing twice, the bad rows keep no blurhash, and the third has
//! nothing left to hash. The tests run one after the other ([`SERIAL`]): each times its runs.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

#[path = "backfill/command.rs"]
mod command;
#[path = "backfill/database.rs"]
mod database;
#[path = "backfill/fixture.rs"]
mod fixture;
#[path = "backfill/scenario.rs"]
mod scenario;

use picture_test_support::PgTestDb;

use crate::scenario::{Stop, stopped_then_resumed};

/// One test at a time: the other's processes would disturb the timing on two cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_interrupted_with_ctrl_c_resumes_without_hashing_twice_on_sqlite() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("picture.db").display());
    stopped_then_resumed(&database, dir.path(), Stop::Sigint).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_killed_resumes_without_hashing_twice_on_postgres() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    stopped_then_resumed(pg.url(), dir.path(), Stop::Sigkill).await;
}
