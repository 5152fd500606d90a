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
use picture_domain::ports::{ExploreRepository, FeedImage, FeedQuery};
use picture_domain::{RepositoryError, SearchTerms};

use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::images::ImageRow;
use crate::schema::images;
use crate::url::Backend;

mod plan;

use plan::{LIKE_COUNT, Part, plan};

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

/// The public, unarchived images `$query` and `$part` select, boxed (the backend is the one
/// of the connection it is loaded on).
macro_rules! filtered {
    ($query:expr, $search:expr, $part:expr) => {{
        let query: &FeedQuery = $query;
        let part: &Part = $part;
        // `images.is_public` as written in the partial indexes' predicates, so SQLite uses them.
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
        select = match part.filter.sql() {
            None => select,
            Some((head, None, tail)) => select.filter(sql::<Bool>(&format!("{head}{tail}"))),
            Some((head, Some(id), tail)) => {
                select.filter(sql::<Bool>(&head).bind::<Text, _>(id).sql(&tail))
            }
        };
        select
    }};
}

/// Loads the rows of `$part` (image, like count, score) on `$conn`.
macro_rules! load_part {
    ($conn:ident, $query:expr, $search:expr, $part:expr) => {{
        let part: &Part = $part;
        let mut select = filtered!($query, $search, part);
        if let Some((last, at, id)) = &part.after {
            select = match &part.score {
                // A stored score: a row value, where the index range scan starts.
                Some(score) => select.filter(
                    sql::<Bool>(&format!(
                        "({score}, images.created_at, images.id) < ({last}, {at}, "
                    ))
                    .bind::<Text, _>(id.clone())
                    .sql(")"),
                ),
                // `created_at <= t` bounds the index range scan; the `or` only drops the
                // images of that same millisecond already seen.
                None => select.filter(
                    images::created_at
                        .le(*at)
                        .and(images::created_at.lt(*at).or(images::id.lt(id.clone()))),
                ),
            };
        }
        let select = match &part.score {
            Some(score) => select.order((
                sql::<BigInt>(score).desc(),
                images::created_at.desc(),
                images::id.desc(),
            )),
            None => select.order((images::created_at.desc(), images::id.desc())),
        };
        let score_column = part.score.as_deref().unwrap_or("CAST(0 AS BIGINT)");
        select
            .limit(part.limit)
            .offset(part.offset)
            .select((
                ImageRow::as_select(),
                sql::<BigInt>(LIKE_COUNT),
                sql::<BigInt>(score_column),
            ))
            .load::<(ImageRow, i64, i64)>($conn)
            .await
    }};
}

/// Loads `$first` (read again more widely while the trending window's candidates ran short),
/// then, while the page is not full, `$rest` from where `$first` ends, on `$conn`.
macro_rules! load_feed {
    ($conn:ident, $query:expr, $search:expr, $first:expr, $rest:expr) => {
        async {
            let mut first: Part = $first;
            let rest: Option<Part> = $rest;
            let mut rows = load_part!($conn, $query, $search, &first)?;
            while i64::try_from(rows.len()).unwrap_or(i64::MAX) < first.limit {
                let Some(wider) = first.widened() else { break };
                first = wider;
                rows = load_part!($conn, $query, $search, &first)?;
            }
            let found = i64::try_from(rows.len()).unwrap_or(i64::MAX);
            let mut pages = vec![(first.reported(), rows)];
            if let Some(rest) = rest
                && found < first.limit
            {
                let mut offset = 0;
                if found == 0 && first.offset > 0 {
                    let before: i64 = filtered!($query, $search, &first.whole())
                        .count()
                        .get_result($conn)
                        .await?;
                    offset = (first.offset - before).max(0);
                }
                let rest = Part {
                    limit: first.limit - found,
                    offset,
                    ..rest
                };
                let rows = load_part!($conn, $query, $search, &rest)?;
                pages.push((rest.reported(), rows));
            }
            Ok::<_, diesel::result::Error>(pages)
        }
        .await
    };
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
        let (first, rest) = plan(&query);
        let pages = with_connection!(self.database, |conn| load_feed!(
            conn,
            &query,
            search.as_ref(),
            first.clone(),
            rest.clone()
        )
        .map_err(query_error))?;
        pages
            .into_iter()
            .flat_map(|(reported, rows)| rows.into_iter().map(move |row| (reported, row)))
            .map(|(reported, (row, likes, ranked))| {
                let like_count = u64::try_from(likes).map_err(|_| corrupt("like count", likes))?;
                let ranked = u64::try_from(ranked).map_err(|_| corrupt("score", ranked))?;
                Ok(FeedImage {
                    image: row.into_image()?,
                    like_count,
                    score: reported.then_some(ranked),
                })
            })
            .collect()
    }
}
