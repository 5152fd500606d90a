//! What the explore feed asks the database for one page: one query for recency and popularity
//! (each walks an index of `images`), two for trending (the images liked in the window, ranked
//! from `image_likes_window_idx`, then the rest by recency). The SQL built here interpolates
//! numbers only; the cursor's image id is bound by the caller.

use picture_domain::ports::{FeedOrder, FeedQuery};

use crate::time::to_millis;

/// An image's stored like count (kept by triggers on `image_likes`, see the migration
/// `like_counts`).
pub(super) const LIKE_COUNT: &str = "images.like_count";

/// How many more candidates each retry of the trending window's ranking reads when filters
/// (search, favourites, private or archived images) dropped too many.
const WIDEN: i64 = 16;

/// A position of a scored order: score, creation time in milliseconds, image id.
pub(super) type After = (i64, i64, String);

/// Which images of the public feed a query reads, beyond the page's own filters.
#[derive(Debug, Clone)]
pub(super) enum Filter {
    /// Every one.
    All,
    /// Those liked at or after `since`, after `after` in the window's order: the `top` first
    /// of that order (by likes in the window, then recency, from the likes alone), or all.
    InWindow {
        /// The window's start, in milliseconds.
        since: i64,
        /// Start after this position.
        after: Option<After>,
        /// Read only this many candidates; `None`: all.
        top: Option<i64>,
    },
    /// Those not liked at or after `since` (milliseconds).
    OutsideWindow {
        /// The window's start, in milliseconds.
        since: i64,
    },
}

impl Filter {
    /// The condition on `images` up to the cursor's bound id, the id, and the rest of it;
    /// `None` for [`Filter::All`].
    pub(super) fn sql(&self) -> Option<(String, Option<String>, String)> {
        Some(match self {
            Self::All => return None,
            Self::OutsideWindow { since } => (
                format!(
                    "NOT EXISTS (SELECT 1 FROM image_likes w WHERE w.image_id = images.id \
                     AND w.created_at >= {since})"
                ),
                None,
                String::new(),
            ),
            Self::InWindow { since, after, top } => {
                let head = format!(
                    "images.id IN (SELECT w.image_id FROM image_likes w \
                     WHERE w.created_at >= {since} GROUP BY w.image_id, w.image_created_at"
                );
                let tail = match top {
                    Some(top) => format!(
                        " ORDER BY COUNT(*) DESC, w.image_created_at DESC, w.image_id DESC \
                         LIMIT {top})"
                    ),
                    None => ")".to_owned(),
                };
                match after {
                    Some((last, at, id)) => (
                        format!(
                            "{head} HAVING (COUNT(*), w.image_created_at, w.image_id) < \
                             ({last}, {at}, "
                        ),
                        Some(id.clone()),
                        format!("){tail}"),
                    ),
                    None => (head, None, tail),
                }
            }
        })
    }
}

/// One query of a feed page: which images, in what order, from where.
#[derive(Debug, Clone)]
pub(super) struct Part {
    /// Which images.
    pub(super) filter: Filter,
    /// The score sorted by before recency, as SQL; `None` sorts by recency only.
    pub(super) score: Option<String>,
    /// The score reported for every row when `score` is `None` (`Some(0)`: the unscored rest
    /// of the trending order; `None`: recency, unscored).
    pub(super) flat: Option<u64>,
    /// Start after this position (the score ignored without one). The trending window's
    /// cursor is in its [`Filter::InWindow`] instead.
    pub(super) after: Option<After>,
    /// Page size.
    pub(super) limit: i64,
    /// Rows skipped (page mode).
    pub(super) offset: i64,
}

impl Part {
    /// Whether this part's rows report their score (every order but recency).
    pub(super) fn reported(&self) -> bool {
        self.score.is_some() || self.flat.is_some()
    }

    /// This part reading more candidates, when it reads only the first of the trending window;
    /// `None` once it reads them all.
    pub(super) fn widened(&self) -> Option<Self> {
        let Filter::InWindow { since, after, top } = &self.filter else {
            return None;
        };
        let top = (*top)?;
        let top = (top < self.limit.saturating_add(self.offset).saturating_mul(WIDEN))
            .then(|| top.saturating_mul(WIDEN));
        Some(Self {
            filter: Filter::InWindow {
                since: *since,
                after: after.clone(),
                top,
            },
            ..self.clone()
        })
    }

    /// This part without its cursor, limit or candidate bound: everything it pages through.
    pub(super) fn whole(&self) -> Self {
        let filter = match &self.filter {
            Filter::InWindow { since, .. } => Filter::InWindow {
                since: *since,
                after: None,
                top: None,
            },
            other => other.clone(),
        };
        Self {
            filter,
            after: None,
            ..self.clone()
        }
    }
}

/// The queries of `query`'s page: the first, and for trending the unscored rest that follows
/// the images liked in the window (read from its start when the first leaves room).
pub(super) fn plan(query: &FeedQuery) -> (Part, Option<Part>) {
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
    let part = |filter, score, flat, after| Part {
        filter,
        score,
        flat,
        after,
        limit,
        offset,
    };
    match query.order {
        FeedOrder::Recent => (part(Filter::All, None, None, after), None),
        FeedOrder::Popular => (
            part(Filter::All, Some(LIKE_COUNT.to_owned()), None, after),
            None,
        ),
        FeedOrder::Trending { since } => {
            let since = to_millis(since);
            let rest = |after| part(Filter::OutsideWindow { since }, None, Some(0), after);
            match after {
                // A score of 0: past the liked images already, in the rest by recency.
                Some((0, at, id)) => (rest(Some((0, at, id))), None),
                after => (
                    part(
                        Filter::InWindow {
                            since,
                            after,
                            top: Some(limit + offset),
                        },
                        Some(format!(
                            "(SELECT COUNT(*) FROM image_likes t WHERE t.image_id = images.id \
                             AND t.created_at >= {since})"
                        )),
                        None,
                        None,
                    ),
                    Some(rest(None)),
                ),
            }
        }
    }
}
