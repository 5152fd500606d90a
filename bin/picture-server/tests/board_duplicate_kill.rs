//! A duplicate of a 500-item board is atomic: the real binary copies the board while it is
//! killed with SIGKILL at several delays, then is started again; every copy in the database
//! has exactly 500 items (a copy is there whole or not at all). On PostgreSQL and SQLite.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

#[path = "common/process.rs"]
#[expect(
    dead_code,
    reason = "the shared process plumbing: this test only starts and kills servers"
)]
mod process;

use std::path::Path;

use diesel::sql_types::BigInt;
use diesel::{QueryableByName, SqliteConnection, sql_query};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use picture_test_support::PgTestDb;
use serde_json::{Value, json};

use crate::process::Launch;

const JWT_SECRET: &str = "duplicate-kill-secret-of-at-least-32-bytes";
const ITEMS: usize = 500;
/// Kills per run: the server is killed after 1/KILLS, 2/KILLS, … of the time the duplicates
/// sent at once take together (measured first), so kills land before, during and after the
/// copies' transactions.
const KILLS: u32 = 10;
/// Duplicates sent at once before each kill.
const CONCURRENT: usize = 4;

#[derive(QueryableByName, Debug)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs `$body` with `$conn` connected to `$url` (PostgreSQL or a SQLite file).
macro_rules! with_database {
    ($url:expr, |$conn:ident| $body:expr) => {
        match $url.strip_prefix("sqlite://") {
            Some(path) => {
                let mut connection = SyncConnectionWrapper::<SqliteConnection>::establish(path)
                    .await
                    .unwrap();
                let $conn = &mut connection;
                $body
            }
            None => {
                let mut connection = AsyncPgConnection::establish($url).await.unwrap();
                let $conn = &mut connection;
                $body
            }
        }
    };
}

/// `ITEMS` text items on `board`, z-indexes 0..ITEMS.
async fn seed(url: &str, board: &str) {
    let values: Vec<String> = (0..ITEMS)
        .map(|z| {
            format!(
                "('{}', '{board}', NULL, 'text', {z}, {z}, 1, 1, 0, {z}, 1, NULL, NULL, 'item {z}', 24, '#000000', NULL, 1)",
                uuid::Uuid::new_v4()
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO board_items (id, board_id, image_id, item_type, position_x, position_y, \
         scale_x, scale_y, rotation, z_index, opacity, width, height, text_content, font_size, \
         color, properties, created_at) VALUES {};",
        values.join(", ")
    );
    with_database!(url, |conn| conn.batch_execute(&sql).await.unwrap());
}

/// (copies of `source`, copies whose item count is not exactly `ITEMS`).
async fn copies(url: &str, source: &str) -> (i64, i64) {
    let all = format!("SELECT COUNT(*) AS n FROM boards WHERE id <> '{source}'");
    let partial = format!(
        "SELECT COUNT(*) AS n FROM boards b WHERE b.id <> '{source}' AND \
         (SELECT COUNT(*) FROM board_items i WHERE i.board_id = b.id) <> {ITEMS}"
    );
    with_database!(url, |conn| {
        let all = sql_query(&all).get_result::<Count>(conn).await.unwrap().n;
        let partial = sql_query(&partial)
            .get_result::<Count>(conn)
            .await
            .unwrap()
            .n;
        (all, partial)
    })
}

async fn duplicate(client: &reqwest::Client, base: &str, board: &str, token: &str) -> u16 {
    client
        .post(format!("{base}/api/v1/boards/{board}/duplicate"))
        .bearer_auth(token)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

async fn duplicates_survive_kills_whole_or_not_at_all(database: &str, dir: &Path) {
    let launch = Launch::new(Some(database), dir, JWT_SECRET);
    let owner = launch.token("owner");
    let client = reqwest::Client::new();
    let mut server = launch.start("server").await;
    let board: Value = client
        .post(format!("{}/api/v1/boards", server.base()))
        .bearer_auth(&owner)
        .json(&json!({"name": "Five hundred"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let board = board["id"].as_str().unwrap().to_owned();
    seed(database, &board).await;

    // One copy undisturbed, timed: the kills are spread over this time × CONCURRENT.
    let started = std::time::Instant::now();
    assert_eq!(
        duplicate(&client, &server.base(), &board, &owner).await,
        201
    );
    let window = started.elapsed() * u32::try_from(CONCURRENT).unwrap();
    let mut answered = 0;
    for step in 1..=KILLS {
        let delay = window * step / KILLS;
        let base = server.base();
        let requests: Vec<_> = (0..CONCURRENT)
            .map(|_| {
                let (client, base, board, owner) =
                    (client.clone(), base.clone(), board.clone(), owner.clone());
                tokio::spawn(async move { duplicate(&client, &base, &board, &owner).await })
            })
            .collect();
        tokio::time::sleep(delay).await;
        server.kill();
        for request in requests {
            if request.await.unwrap() == 201 {
                answered += 1;
            }
        }
        server = launch.start("server").await;
        let (all, partial) = copies(database, &board).await;
        assert_eq!(
            partial, 0,
            "after a kill at {delay:?}: {partial} of {all} copies are partial"
        );
    }
    let (all, partial) = copies(database, &board).await;
    assert_eq!(partial, 0);
    assert!(
        all > answered,
        "{all} copies, {answered} answered before the kills"
    );
    eprintln!(
        "one copy takes {:?}; {all} whole copies; {answered} answered 201 before a kill; {} requests killed",
        window / u32::try_from(CONCURRENT).unwrap(),
        i64::from(KILLS) * i64::try_from(CONCURRENT).unwrap() - answered
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_killed_mid_way_leaves_a_whole_copy_or_none_on_postgres() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    duplicates_survive_kills_whole_or_not_at_all(pg.url(), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_killed_mid_way_leaves_a_whole_copy_or_none_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("picture.db").display());
    duplicates_survive_kills_whole_or_not_at_all(&database, dir.path()).await;
}
