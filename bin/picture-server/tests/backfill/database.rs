//! The database behind the command, reached directly: rows written with plain SQL (faster than
//! the server's services for a thousand), and the blurhashes read back.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryableByName, SqliteConnection, sql_query};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// A connection to PostgreSQL or to a `sqlite://` file.
pub enum Connection {
    Sqlite(SyncConnectionWrapper<SqliteConnection>),
    Postgres(Box<AsyncPgConnection>),
}

/// One image's id and blurhash.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Hashed {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub blurhash: Option<String>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs `$query` (a diesel query) on whichever backend `$connection` is.
macro_rules! on_backend {
    ($connection:expr, |$conn:ident| $query:expr) => {
        match $connection {
            Connection::Sqlite($conn) => $query,
            Connection::Postgres($conn) => {
                let $conn = &mut **$conn;
                $query
            }
        }
    };
}

impl Connection {
    /// Connects to `url` (SQLite waits up to 5 s for the command's write lock, as it does).
    pub async fn open(url: &str) -> Self {
        match url.strip_prefix("sqlite://") {
            Some(path) => {
                let mut connection = SyncConnectionWrapper::<SqliteConnection>::establish(path)
                    .await
                    .unwrap();
                connection
                    .batch_execute("PRAGMA busy_timeout = 5000")
                    .await
                    .unwrap();
                Self::Sqlite(connection)
            }
            None => Self::Postgres(Box::new(AsyncPgConnection::establish(url).await.unwrap())),
        }
    }

    /// Runs `sql` (statements separated by `;`).
    pub async fn execute(&mut self, sql: &str) {
        on_backend!(self, |conn| conn.batch_execute(sql).await.unwrap());
    }

    /// Images with a blurhash now.
    pub async fn hashed_images(&mut self) -> i64 {
        let sql = "SELECT COUNT(*) AS n FROM images WHERE blurhash IS NOT NULL";
        on_backend!(self, |conn| sql_query(sql)
            .get_result::<Count>(conn)
            .await
            .unwrap()
            .n)
    }

    /// Every image's id and blurhash, in id order.
    pub async fn image_hashes(&mut self) -> Vec<Hashed> {
        let sql = "SELECT id, blurhash FROM images ORDER BY id";
        on_backend!(self, |conn| sql_query(sql)
            .load::<Hashed>(conn)
            .await
            .unwrap())
    }

    /// The board `id`'s thumbnail blurhash.
    pub async fn board_hash(&mut self, id: &str) -> Option<String> {
        let sql =
            format!("SELECT id, thumbnail_blurhash AS blurhash FROM boards WHERE id = '{id}'");
        on_backend!(self, |conn| sql_query(&sql)
            .get_result::<Hashed>(conn)
            .await
            .unwrap()
            .blurhash)
    }
}
