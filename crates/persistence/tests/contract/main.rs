//! The repository contract suite: every test runs against SQLite (always) and PostgreSQL (a fresh
//! database per test; skipped with a reason when PostgreSQL is absent, failed when `CI=true`).
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use chrono::{DateTime, Utc};
use picture_persistence::{Database, DatabaseUrl, PoolOptions};
use picture_test_support::PgTestDb;

/// A migrated database and whatever keeps it alive.
pub(crate) struct TestDatabase {
    pub(crate) database: Database,
    pub(crate) url: DatabaseUrl,
    _sqlite_dir: Option<tempfile::TempDir>,
    _pg: Option<PgTestDb>,
}

async fn open(url: DatabaseUrl) -> Database {
    Database::migrate(&url).await.unwrap();
    Database::connect(&url, PoolOptions::default())
        .await
        .unwrap()
}

pub(crate) async fn sqlite() -> Option<TestDatabase> {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::sqlite_file(dir.path().join("nested/picture.db"));
    Some(TestDatabase {
        database: open(url.clone()).await,
        url,
        _sqlite_dir: Some(dir),
        _pg: None,
    })
}

pub(crate) async fn postgres() -> Option<TestDatabase> {
    let pg = PgTestDb::create().await?;
    let url = DatabaseUrl::parse(pg.url()).unwrap();
    Some(TestDatabase {
        database: open(url.clone()).await,
        url,
        _sqlite_dir: None,
        _pg: Some(pg),
    })
}

/// A time `ms` milliseconds after the epoch.
pub(crate) fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

/// Declares each listed test on both backends: `on_sqlite::NAME` and `on_postgres::NAME`.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = crate::sqlite().await.unwrap();
                    assert_eq!(db.database.backend(), picture_persistence::Backend::Sqlite);
                    super::$name(&db).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = crate::postgres().await else { return };
                    assert_eq!(db.database.backend(), picture_persistence::Backend::Postgres);
                    super::$name(&db).await;
                }
            )*
        }
    };
}

mod abuse;
mod batches;
mod board_items;
mod boards;
mod explore;
mod generations;
mod idempotency;
mod image_keys;
mod images;
mod live_events;
mod models;
mod money;
mod placeholders;
mod profile_edits;
mod profiles;
mod provider_checks;
mod remote_money;
mod render_leases;
mod sliding_limits;
mod tags;
mod uploads;
