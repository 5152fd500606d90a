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

/// An image's stored like count (kept by triggers on `image_likes`, see the migration
/// `like_counts`).
const LIKE_COUNT: &str = "images.like_count";

/// One query of a feed page: which images, in what order, from where.
struct Part {
    /// A further condition on `images`, as SQL of numbers only.
    only: Option<String>,
    /// The score sorted by before recency, as SQL; `None` sorts by recency only.
    score: Option<String>,
    /// Whether `score` is a plain column of an index, so the cursor is a row-value comparison
    /// the index range scan starts at (a computed score uses the equivalent `OR` form).
    indexed: bool,
    /// The score reported for every row when `score` is `None` (`Some(0)`: the unscored rest
    /// of the trending order; `None`: recency).
    flat: Option<u64>,
    /// Start after this (score, created_at millis, id).
    after: Option<(i64, i64, String)>,
    limit: i64,
    offset: i64,
}

/// The likes given at or after `since`, per image, as a correlated count.
fn window_count(since: i64) -> String {
    format!(
        "(SELECT COUNT(*) FROM image_likes t WHERE t.image_id = images.id \
         AND t.created_at >= {since})"
    )
}

/// The images liked at or after `since` (a range of `image_likes_window_idx`).
fn in_window(since: i64) -> String {
    format!("images.id IN (SELECT w.image_id FROM image_likes w WHERE w.created_at >= {since})")
}

/// The images not liked at or after `since`.
fn outside_window(since: i64) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM image_likes w WHERE w.image_id = images.id \
         AND w.created_at >= {since})"
    )
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

/// The public, unarchived images `$query` and `$part` select, boxed for whichever backend
/// `$conn` is (the connection only fixes the backend's type).
macro_rules! filtered {
    ($conn:ident, $query:expr, $search:expr, $part:expr) => {{
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
        if let Some(only) = &part.only {
            select = select.filter(sql::<Bool>(only));
        }
        select
    }};
}

/// Loads the rows of `$part` (image, like count, score) for whichever backend `$conn` is.
macro_rules! load_part {
    ($conn:ident, $query:expr, $search:expr, $part:expr) => {{
        let part: &Part = $part;
        let mut select = filtered!($conn, $query, $search, part);
        if let Some((last, at, id)) = &part.after {
            select = match (&part.score, part.indexed) {
                (Some(score), true) => select.filter(
                    sql::<Bool>(&format!(
                        "({score}, images.created_at, images.id) < ({last}, {at}, "
                    ))
                    .bind::<Text, _>(id.clone())
                    .sql(")"),
                ),
                (Some(score), false) => select.filter(
                    sql::<Bool>(&format!(
                        "({score} < {last} OR ({score} = {last} AND \
                         (images.created_at < {at} OR (images.created_at = {at} AND images.id < "
                    ))
                    .bind::<Text, _>(id.clone())
                    .sql("))))"),
                ),
                // `created_at <= t` bounds the index range scan; the `or` only drops the
                // images of that same millisecond already seen.
                (None, _) => select.filter(
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

/// Counts the rows of `$part` (without its cursor, limit and offset).
macro_rules! count_part {
    ($conn:ident, $query:expr, $search:expr, $part:expr) => {{
        filtered!($conn, $query, $search, $part)
            .count()
            .get_result::<i64>($conn)
            .await
    }};
}

/// Loads `$first`, then, while the page is not full, `$rest` from its start (at the offset
/// `$first`'s images leave for it), for whichever backend `$conn` is.
macro_rules! load_feed {
    ($conn:ident, $query:expr, $search:expr, $first:expr, $rest:expr) => {
        async {
            let first: &Part = $first;
            let rest: &Option<Part> = $rest;
            let rows = load_part!($conn, $query, $search, first)?;
            let mut pages = vec![(first.reported(), rows)];
            if let Some(rest) = rest {
                let found = i64::try_from(pages[0].1.len()).unwrap_or(i64::MAX);
                if found < first.limit {
                    let mut offset = 0;
                    if found == 0 && first.offset > 0 {
                        let before = count_part!($conn, $query, $search, first)?;
                        offset = (first.offset - before).max(0);
                    }
                    let rest = Part {
                        limit: first.limit - found,
                        offset,
                        after: None,
                        only: rest.only.clone(),
                        score: rest.score.clone(),
                        indexed: rest.indexed,
                        flat: rest.flat,
                    };
                    let rows = load_part!($conn, $query, $search, &rest)?;
                    pages.push((rest.reported(), rows));
                }
            }
            Ok::<_, diesel::result::Error>(pages)
        }
        .await
    };
}

impl Part {
    /// Whether this part's rows report their score (every order but recency).
    fn reported(&self) -> bool {
        self.score.is_some() || self.flat.is_some()
    }
}

/// The query (or two) of `query`'s page: the first, and for trending the unscored rest that
/// follows the images liked in the window.
fn plan(query: &FeedQuery) -> (Part, Option<Part>) {
    let limit = i64::from(query.limit.clamp(1, 100));
    let offset = if query.after.is_some() {
        0
    } else {
        i64::from(query.page.max(1) - 1) * limit
    };
    let after = query.after.map(|after| {
        (
            after
                .score
                .map_or(0, |last| i64::try_from(last).unwrap_or(i64::MAX)),
            to_millis(after.position.created_at),
            after.position.id.to_string(),
        )
    });
    let part = |only, score, indexed, flat, after| Part {
        only,
        score,
        indexed,
        flat,
        after,
        limit,
        offset,
    };
    match query.order {
        FeedOrder::Recent => (part(None, None, false, None, after), None),
        FeedOrder::Popular => (
            part(None, Some(LIKE_COUNT.to_owned()), true, None, after),
            None,
        ),
        FeedOrder::Trending { since } => {
            let since = to_millis(since);
            let rest = part(Some(outside_window(since)), None, false, Some(0), None);
            match after {
                // Past the liked images already: the rest, by recency.
                Some((0, at, id)) => (
                    Part {
                        after: Some((0, at, id)),
                        ..rest
                    },
                    None,
                ),
                after => (
                    part(
                        Some(in_window(since)),
                        Some(window_count(since)),
                        false,
                        None,
                        after,
                    ),
                    Some(rest),
                ),
            }
        }
    }
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
            &first,
            &rest
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
