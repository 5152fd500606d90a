//! The connection pool for either backend, and the one place that dispatches a query body to
//! the right connection type.

use std::time::Duration;

use diesel::SqliteConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use picture_domain::RepositoryError;

use crate::connection_home::{ConnectionHome, HomeRuntime, open_at_home};
use crate::error::{PersistenceError, pool_error, query_error};
use crate::migrations;
use crate::url::{Backend, DatabaseUrl};

/// An async SQLite connection: diesel's synchronous connection run on blocking threads.
pub(crate) type SqliteAsync = SyncConnectionWrapper<SqliteConnection>;

/// Per-connection settings of SQLite: writers wait up to 5 s for the lock instead of failing
/// with `SQLITE_BUSY` (set first, so the statements after it wait too), WAL so readers never
/// block the writer, foreign keys enforced.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

/// How the pool is sized and how long callers wait.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_size: usize,
    /// Longest wait for a free connection (and to open one) before the call fails as
    /// unavailable.
    pub timeout: Duration,
    /// Which runtime the connections are bound to.
    pub home: ConnectionHome,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            timeout: Duration::from_secs(5),
            home: ConnectionHome::Database,
        }
    }
}

#[derive(Clone)]
pub(crate) enum Pools {
    Postgres(Pool<AsyncPgConnection>),
    Sqlite(Pool<SqliteAsync>),
}

/// A pooled database, PostgreSQL or SQLite. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pools: Pools,
    /// Where it is, for the connections opened outside the pool (the live feed's).
    url: DatabaseUrl,
}

/// Runs `$body` with `$conn` bound to a `&mut` pooled connection of whichever backend the
/// database uses. The body is written once and compiled for both connection types, so it may
/// only use SQL both backends understand; it evaluates to a `Result<_, RepositoryError>`.
macro_rules! with_connection {
    ($database:expr, |$conn:ident| $body:expr) => {
        match $database.pools() {
            $crate::database::Pools::Postgres(pool) => {
                let mut pooled = pool.get().await.map_err($crate::error::pool_error)?;
                let $conn = &mut *pooled;
                $body
            }
            $crate::database::Pools::Sqlite(pool) => {
                let mut pooled = pool.get().await.map_err($crate::error::pool_error)?;
                let $conn = &mut *pooled;
                $body
            }
        }
    };
}
pub(crate) use with_connection;

impl Database {
    /// Opens a pool for `url` and checks that the database answers (the connection that
    /// checked stays in the pool). A SQLite file and its directory are created when missing.
    ///
    /// # Errors
    /// [`PersistenceError::Connect`] when the pool cannot be built or the first connection fails.
    pub async fn connect(
        url: &DatabaseUrl,
        options: PoolOptions,
    ) -> Result<Self, PersistenceError> {
        let database = Self::open(url, options)?;
        database
            .ping()
            .await
            .map_err(|e| PersistenceError::Connect(e.into()))?;
        Ok(database)
    }

    /// A pool for `url` that has opened no connection yet: each is opened when a caller first
    /// needs it, on the runtime `options.home` says (with [`ConnectionHome::Database`] the pool
    /// starts a runtime of its own, stopped when the pool is dropped). A SQLite file's directory
    /// is created when missing.
    ///
    /// # Errors
    /// [`PersistenceError::Connect`] when the pool or its runtime cannot be built.
    pub fn open(url: &DatabaseUrl, options: PoolOptions) -> Result<Self, PersistenceError> {
        let home = HomeRuntime::for_home(options.home)?;
        let pools = match url.backend() {
            Backend::Postgres => {
                // A pooled connection is handed out again after a check of its transaction
                // state and its socket, without the default `SELECT 1` round trip on every
                // checkout (a third of a gallery read's round trips).
                let mut config = ManagerConfig::<AsyncPgConnection>::default();
                config.recycling_method = RecyclingMethod::Fast;
                config.custom_setup = Box::new(move |url| {
                    let (url, home) = (url.to_owned(), home.clone());
                    Box::pin(async move {
                        let opening = async move { AsyncPgConnection::establish(&url).await };
                        open_at_home(home.as_deref(), opening).await
                    })
                });
                let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
                    url.connection_string(),
                    config,
                );
                Pools::Postgres(build_pool(manager, options)?)
            }
            Backend::Sqlite => {
                url.ensure_sqlite_directory()?;
                let mut config = ManagerConfig::<SqliteAsync>::default();
                config.recycling_method = RecyclingMethod::Fast;
                config.custom_setup = Box::new(move |path| {
                    let (path, home) = (path.to_owned(), home.clone());
                    Box::pin(async move {
                        let opening = async move {
                            let mut conn = SqliteAsync::establish(&path).await?;
                            conn.batch_execute(SQLITE_PRAGMAS)
                                .await
                                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                            Ok(conn)
                        };
                        open_at_home(home.as_deref(), opening).await
                    })
                });
                let manager = AsyncDieselConnectionManager::<SqliteAsync>::new_with_config(
                    url.connection_string(),
                    config,
                );
                Pools::Sqlite(build_pool(manager, options)?)
            }
        };
        Ok(Self {
            pools,
            url: url.clone(),
        })
    }

    /// Applies the pending embedded migrations (under an advisory lock on PostgreSQL, so
    /// several instances can start together). Idempotent.
    ///
    /// # Errors
    /// [`PersistenceError::Migration`] when a migration fails.
    pub async fn migrate(url: &DatabaseUrl) -> Result<Vec<String>, PersistenceError> {
        migrations::run(url).await
    }

    /// Checks the database answers a trivial query.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when no connection can be had or the query fails.
    pub async fn ping(&self) -> Result<(), RepositoryError> {
        with_connection!(self, |conn| conn
            .batch_execute("SELECT 1")
            .await
            .map_err(|e| pool_error(query_error(e))))
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Postgres(_) => Backend::Postgres,
            Pools::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The pool's connections: `(in use, idle, max)`.
    pub fn pool_usage(&self) -> (usize, usize, usize) {
        let status = match &self.pools {
            Pools::Postgres(pool) => pool.status(),
            Pools::Sqlite(pool) => pool.status(),
        };
        let idle = status.available;
        (status.size.saturating_sub(idle), idle, status.max_size)
    }

    pub(crate) fn pools(&self) -> &Pools {
        &self.pools
    }

    pub(crate) fn url(&self) -> &DatabaseUrl {
        &self.url
    }
}

fn build_pool<C>(
    manager: AsyncDieselConnectionManager<C>,
    options: PoolOptions,
) -> Result<Pool<C>, PersistenceError>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager,
{
    Pool::builder(manager)
        .max_size(options.max_size)
        .wait_timeout(Some(options.timeout))
        .create_timeout(Some(options.timeout))
        .recycle_timeout(Some(options.timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| PersistenceError::Connect(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_opened_pool_has_no_connection_until_one_is_needed() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::sqlite_file(dir.path().join("nested/picture.db"));
        let database = Database::open(&url, PoolOptions::default()).unwrap();
        assert_eq!(database.pool_usage(), (0, 0, 16));
        database.ping().await.unwrap();
        assert_eq!(database.pool_usage(), (0, 1, 16));
        let checked = Database::connect(&url, PoolOptions::default())
            .await
            .unwrap();
        assert_eq!(checked.pool_usage(), (0, 1, 16));
    }

    /// Runs `work` on a runtime of its own, on a thread of its own, and stops that runtime
    /// before returning what `work` gave (as an actix worker's runtime stops on shutdown).
    fn on_a_runtime_that_stops<T: Send + 'static>(
        work: impl std::future::Future<Output = T> + Send + 'static,
    ) -> T {
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(work)
        })
        .join()
        .unwrap()
    }

    /// A connection opened for (and still held by) a caller whose runtime then stops keeps
    /// working for the next caller, on another runtime.
    async fn a_connection_outlives_the_runtime_of_the_caller_that_opened_it(url: DatabaseUrl) {
        let database = Database::open(&url, PoolOptions::default()).unwrap();
        match database.pools().clone() {
            Pools::Postgres(pool) => {
                let mut conn = on_a_runtime_that_stops(async move { pool.get().await.unwrap() });
                conn.batch_execute("SELECT 1").await.unwrap();
            }
            Pools::Sqlite(pool) => {
                let mut conn = on_a_runtime_that_stops(async move { pool.get().await.unwrap() });
                conn.batch_execute("SELECT 1").await.unwrap();
            }
        }
        on_a_runtime_that_stops({
            let database = database.clone();
            async move { database.ping().await.unwrap() }
        });
        database.ping().await.unwrap();
        assert_eq!(database.pool_usage(), (0, 1, 16));
    }

    #[tokio::test]
    async fn a_sqlite_connection_outlives_the_runtime_that_opened_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::sqlite_file(dir.path().join("picture.db"));
        a_connection_outlives_the_runtime_of_the_caller_that_opened_it(url).await;
    }

    #[tokio::test]
    async fn a_postgres_connection_outlives_the_runtime_that_opened_it() {
        let Some(database) = picture_test_support::PgTestDb::create().await else {
            return;
        };
        let url = DatabaseUrl::parse(database.url()).unwrap();
        a_connection_outlives_the_runtime_of_the_caller_that_opened_it(url).await;
    }
}
