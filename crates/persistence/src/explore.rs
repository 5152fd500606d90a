//! The explore feed on diesel: public images with their like counts, sorted by recency or
//! likes, searched with each backend's full-text index (PostgreSQL: `images.search_vector`, a
//! GIN-indexed tsvector; SQLite: the FTS5 table `images_fts`).
//!
//! The query is written once for both backends; only the search predicate's SQL differs, and
//! the user's words reach it as one bound value, each word quoted as a prefix term (words are
//! letters and digits only, see [`SearchTerms`]). The SQL fragments below interpolate numbers
//! this module computed, never user text.

use async_trait::async_trait;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel_async::RunQueryDsl;
use picture_domain::ports::{ExploreRepository, FeedImage, FeedOrder, FeedQuery};
use picture_domain::{RepositoryError, SearchTerms};

use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::images::ImageRow;
use crate::schema::images;
use crate::time::to_millis;
use crate::url::Backend;

/// [`ExploreRepository`] over the `images` and `image_likes` tables.
#[derive(Clone)]
pub struct DieselExploreRepository {
    database: Database,
}

impl DieselExploreRepository {
    /// The feed of `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

/// An image's like count, as a correlated subquery (one index lookup per row).
const LIKE_COUNT: &str = "(SELECT COUNT(*) FROM image_likes l WHERE l.image_id = images.id)";

/// The score `order` sorts by, as SQL; `None` for recency.
fn score_sql(order: FeedOrder) -> Option<String> {
    match order {
        FeedOrder::Recent => None,
        FeedOrder::Popular => Some(LIKE_COUNT.to_owned()),
        FeedOrder::Trending { since } => Some(format!(
            "(SELECT COUNT(*) FROM image_likes t WHERE t.image_id = images.id \
             AND t.created_at >= {})",
            to_millis(since)
        )),
    }
}

/// The search predicate up to its bound value (closed by `)`), and that value.
fn search_sql(backend: Backend, terms: &SearchTerms) -> (&'static str, String) {
    match backend {
        // `'word':*` is a quoted prefix lexeme; `&` requires all. The exact lexeme beside it
        // changes nothing it matches, but gives the planner the word's frequency (it has none
        // for a prefix and assumes 2 %): with it, a frequent word walks the recency index
        // until a page is full instead of sorting every match; a rare one still uses the GIN.
        Backend::Postgres => (
            "images.search_vector @@ to_tsquery('simple', ",
            terms
                .words()
                .iter()
                .map(|word| {
                    let quoted = word.replace('\'', "''").replace('\\', "");
                    format!("('{quoted}' | '{quoted}':*)")
                })
                .collect::<Vec<_>>()
                .join(" & "),
        ),
        // `"word"*` is a quoted prefix string; juxtaposition requires all.
        Backend::Sqlite => (
            "images.rowid IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ",
            terms
                .words()
                .iter()
                .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" "),
        ),
    }
}

/// Builds the boxed query of `query` for whichever backend `$conn` is, and loads it.
macro_rules! load_feed {
    ($conn:ident, $query:expr, $search:expr, $score:expr) => {{
        let query: &FeedQuery = $query;
        let limit = i64::from(query.limit.clamp(1, 100));
        let offset = i64::from(query.page.max(1) - 1) * limit;
        // `images.is_public` as written in the partial index's predicate, so SQLite uses it.
        let mut select = images::table
            .into_boxed()
            .filter(sql::<Bool>("images.is_public"))
            .filter(images::archived_at.is_null());
        if let Some((predicate, text)) = $search {
            select = select.filter(
                sql::<Bool>(predicate)
                    .bind::<Text, _>(text.clone())
                    .sql(")"),
            );
        }
        if let Some(user) = &query.liked_by {
            select = select.filter(
                sql::<Bool>(
                    "EXISTS (SELECT 1 FROM image_likes f WHERE f.image_id = images.id \
                     AND f.user_id = ",
                )
                .bind::<Text, _>(user.as_str().to_owned())
                .sql(")"),
            );
        }
        let score: &Option<String> = $score;
        let mut offset = offset;
        if let Some(after) = &query.after {
            offset = 0;
            let at = to_millis(after.position.created_at);
            let id = after.position.id.to_string();
            match (score, after.score) {
                (Some(score), Some(last)) => {
                    let last = i64::try_from(last).unwrap_or(i64::MAX);
                    select = select.filter(
                        sql::<Bool>(&format!(
                            "({score} < {last} OR ({score} = {last} AND \
                             (images.created_at < {at} OR (images.created_at = {at} AND images.id < "
                        ))
                        .bind::<Text, _>(id)
                        .sql("))))"),
                    );
                }
                _ => {
                    // `created_at <= t` bounds the index range scan; the `or` only drops the
                    // images of that same millisecond already seen.
                    select = select.filter(
                        images::created_at
                            .le(at)
                            .and(images::created_at.lt(at).or(images::id.lt(id))),
                    );
                }
            }
        }
        let select = match score {
            Some(score) => select.order((
                sql::<BigInt>(score).desc(),
                images::created_at.desc(),
                images::id.desc(),
            )),
            None => select.order((images::created_at.desc(), images::id.desc())),
        };
        let score_column = score.as_deref().unwrap_or("CAST(0 AS BIGINT)");
        select
            .limit(limit)
            .offset(offset)
            .select((
                ImageRow::as_select(),
                sql::<BigInt>(LIKE_COUNT),
                sql::<BigInt>(score_column),
            ))
            .load::<(ImageRow, i64, i64)>($conn)
            .await
            .map_err(query_error)
    }};
}

#[async_trait]
impl ExploreRepository for DieselExploreRepository {
    async fn feed(&self, query: FeedQuery) -> Result<Vec<FeedImage>, RepositoryError> {
        let search = query
            .search
            .as_ref()
            .map(|terms| search_sql(self.database.backend(), terms));
        if search.as_ref().is_some_and(|(_, text)| text.is_empty()) {
            return Ok(Vec::new());
        }
        let score = score_sql(query.order);
        let rows = with_connection!(self.database, |conn| load_feed!(
            conn,
            &query,
            search.as_ref(),
            &score
        ))?;
        rows.into_iter()
            .map(|(row, likes, ranked)| {
                let like_count = u64::try_from(likes).map_err(|_| corrupt("like count", likes))?;
                let ranked = u64::try_from(ranked).map_err(|_| corrupt("score", ranked))?;
                Ok(FeedImage {
                    image: row.into_image()?,
                    like_count,
                    score: score.is_some().then_some(ranked),
                })
            })
            .collect()
    }
}
