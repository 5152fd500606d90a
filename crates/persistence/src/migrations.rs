//! Embedded migrations, run at start-up and by `picture-server migrate`.
//!
//! They run on a blocking thread over a synchronous connection (diesel's migration harness is
//! synchronous). PostgreSQL takes a session advisory lock first, so instances starting together
//! apply each migration once; SQLite's own file lock serialises writers.

use diesel::{Connection, RunQueryDsl, SqliteConnection};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::PersistenceError;
use crate::url::{Backend, DatabaseUrl};

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Key of the PostgreSQL advisory lock held while migrating ("picture" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x0070_6963_7475_7265;

/// Applies pending migrations; returns the versions applied.
pub(crate) async fn run(url: &DatabaseUrl) -> Result<Vec<String>, PersistenceError> {
    let url = url.clone();
    tokio::task::spawn_blocking(move || match url.backend() {
        Backend::Postgres => run_postgres(&url),
        Backend::Sqlite => run_sqlite(&url),
    })
    .await
    .map_err(|e| PersistenceError::Migration(e.into()))?
}

fn run_postgres(url: &DatabaseUrl) -> Result<Vec<String>, PersistenceError> {
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(url.connection_string())
        .map_err(|e| PersistenceError::Connect(e.into()))?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn)
        .map_err(|e| PersistenceError::Migration(e.into()))?;
    let applied = apply(&mut conn, POSTGRES);
    let unlocked = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn)
        .map_err(|e| PersistenceError::Migration(e.into()));
    let applied = applied?;
    unlocked?;
    Ok(applied)
}

fn run_sqlite(url: &DatabaseUrl) -> Result<Vec<String>, PersistenceError> {
    url.ensure_sqlite_directory()?;
    let mut conn = SqliteConnection::establish(url.connection_string())
        .map_err(|e| PersistenceError::Connect(e.into()))?;
    // WAL is a property of the database file: set it once here, before any pool connects.
    for pragma in ["PRAGMA busy_timeout = 5000", "PRAGMA journal_mode = WAL"] {
        diesel::sql_query(pragma)
            .execute(&mut conn)
            .map_err(|e| PersistenceError::Migration(e.into()))?;
    }
    apply(&mut conn, SQLITE)
}

fn apply<C>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<Vec<String>, PersistenceError>
where
    C: MigrationHarness<C::Backend> + Connection,
{
    conn.run_pending_migrations(migrations)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(PersistenceError::Migration)
}
