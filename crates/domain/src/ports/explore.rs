//! The explore feed: everyone's public images, sorted, searched and paged.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::explore::{ExploreCursor, SearchTerms};
use crate::ids::UserId;
use crate::image::Image;

/// The order of a feed page, as the repository runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedOrder {
    /// Newest first (`created_at` desc, then `id` desc).
    Recent,
    /// Most likes first, then newest.
    Popular,
    /// Most likes given at or after `since` first, then newest.
    Trending {
        /// The start of the window whose likes count.
        since: DateTime<Utc>,
    },
}

/// Which page of the feed to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery {
    /// The order.
    pub order: FeedOrder,
    /// Only prompts matching every word (each as a prefix of a prompt word); `None`: all.
    /// Terms without words match nothing.
    pub search: Option<SearchTerms>,
    /// Only images this user likes; `None`: all.
    pub liked_by: Option<UserId>,
    /// Page, from 1 (`OFFSET`). Ignored when `after` is set.
    pub page: u32,
    /// Start just after this position (keyset: as cheap deep in the feed as on its first page).
    /// Its `score` is `None` for [`FeedOrder::Recent`] and `Some` for the others.
    pub after: Option<ExploreCursor>,
    /// Page size, 1 to 100.
    pub limit: u32,
}

/// One image of the feed with its likes.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedImage {
    /// The image (public, not archived).
    pub image: Image,
    /// How many users like it.
    pub like_count: u64,
    /// What the order sorted it by: all likes for `Popular`, likes in the window for
    /// `Trending`, `None` for `Recent`.
    pub score: Option<u64>,
}

impl FeedImage {
    /// The position just after this image, for the next page's `after`.
    pub fn cursor(&self) -> ExploreCursor {
        ExploreCursor::after(
            self.score,
            self.image.record.created_at,
            self.image.record.id,
        )
    }
}

/// Everyone's public images.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ExploreRepository: Send + Sync {
    /// A page of images that are public and not archived, in `query.order`, filtered by
    /// `query.search` and `query.liked_by`, starting after `query.after` when set, else at
    /// `query.page`. It MUST read the current state (no cache): an image unpublished or
    /// archived is absent from the next call. User text reaches the database only as bound
    /// values: no input MAY fail with anything but [`RepositoryError::Unavailable`] when the
    /// database is down.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn feed(&self, query: FeedQuery) -> Result<Vec<FeedImage>, RepositoryError>;
}
