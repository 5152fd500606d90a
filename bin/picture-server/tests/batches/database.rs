//! Reads of the database behind the servers: a user's account and a batch's items.

use diesel::sql_types::BigInt;
use diesel::{QueryableByName, SqliteConnection, sql_query};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// A user's account as stored.
#[derive(QueryableByName, Debug, PartialEq, Eq)]
pub struct Book {
    #[diesel(sql_type = BigInt)]
    pub balance: i64,
    #[diesel(sql_type = BigInt)]
    pub held: i64,
    #[diesel(sql_type = BigInt)]
    pub total_spent: i64,
    #[diesel(sql_type = BigInt)]
    pub free_used: i64,
}

/// A batch's items as stored.
#[derive(QueryableByName, Debug, PartialEq, Eq)]
pub struct Items {
    /// Generations of the batch.
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    /// … completed.
    #[diesel(sql_type = BigInt)]
    pub completed: i64,
    /// … completed and paid (not free).
    #[diesel(sql_type = BigInt)]
    pub paid: i64,
    /// Distinct prediction ids among them.
    #[diesel(sql_type = BigInt)]
    pub predictions: i64,
    /// Their images.
    #[diesel(sql_type = BigInt)]
    pub images: i64,
    /// `capture` entries of the ledger for them.
    #[diesel(sql_type = BigInt)]
    pub captures: i64,
}

/// Runs `$body` with `$conn` connected to `$url` (PostgreSQL or a `sqlite://` file).
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

/// `user`'s account in the database at `url`.
pub async fn book(url: &str, user: &str) -> Book {
    let sql = format!(
        "SELECT balance, held, total_spent, CAST(free_generations_used AS BIGINT) AS free_used \
         FROM credit_accounts WHERE user_id = '{user}'"
    );
    with_database!(url, |conn| sql_query(&sql)
        .get_result::<Book>(conn)
        .await
        .unwrap())
}

/// The items of `batch` in the database at `url`.
pub async fn items(url: &str, batch: &str) -> Items {
    let sql = format!(
        "SELECT COUNT(*) AS total, \
           CAST(COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS completed, \
           CAST(COALESCE(SUM(CASE WHEN status = 'completed' AND billing = 'paid' THEN 1 ELSE 0 END), 0) AS BIGINT) AS paid, \
           COUNT(DISTINCT replicate_prediction_id) AS predictions, \
           (SELECT COUNT(*) FROM images i JOIN image_generations g ON g.id = i.generation_id \
              WHERE g.batch_id = '{batch}') AS images, \
           (SELECT COUNT(*) FROM credit_entries e JOIN image_generations g ON g.id = e.generation_id \
              WHERE g.batch_id = '{batch}' AND e.kind = 'capture') AS captures \
         FROM image_generations WHERE batch_id = '{batch}'"
    );
    with_database!(url, |conn| sql_query(&sql)
        .get_result::<Items>(conn)
        .await
        .unwrap())
}
