//! The explore feed: everyone's public images, for any signed-in user.

use std::sync::Arc;

use crate::error::RepositoryError;
use crate::explore::{ExploreCursor, ExploreSort, SearchTerms, TRENDING_WINDOW};
use crate::ids::UserId;
use crate::ports::{Clock, ExploreRepository, FeedImage, FeedOrder, FeedQuery};

/// What a caller asks of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExploreRequest {
    /// The order.
    pub sort: ExploreSort,
    /// The search, if any.
    pub search: Option<SearchTerms>,
    /// Only the images the caller likes.
    pub favorites_only: bool,
    /// Page, from 1.
    pub page: u32,
    /// Start after this position instead of at `page`.
    pub after: Option<ExploreCursor>,
    /// Page size.
    pub limit: u32,
}

/// Reads the explore feed.
#[derive(Clone)]
pub struct ExploreService {
    feed: Arc<dyn ExploreRepository>,
    clock: Arc<dyn Clock>,
}

impl ExploreService {
    /// A service over `feed`; `clock` places the trending window.
    pub fn new(feed: Arc<dyn ExploreRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { feed, clock }
    }

    /// A page of the feed as `viewer` asks for it.
    ///
    /// # Errors
    /// As [`ExploreRepository::feed`].
    pub async fn page(
        &self,
        viewer: &UserId,
        request: ExploreRequest,
    ) -> Result<Vec<FeedImage>, RepositoryError> {
        let order = match request.sort {
            ExploreSort::Recent => FeedOrder::Recent,
            ExploreSort::Popular => FeedOrder::Popular,
            ExploreSort::Trending => FeedOrder::Trending {
                since: self.clock.now() - TRENDING_WINDOW,
            },
        };
        self.feed
            .feed(FeedQuery {
                order,
                search: request.search,
                liked_by: request.favorites_only.then(|| viewer.clone()),
                page: request.page.max(1),
                after: request.after,
                limit: request.limit.clamp(1, 100),
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::ports::{MockClock, MockExploreRepository};

    fn request(sort: ExploreSort, favorites_only: bool) -> ExploreRequest {
        ExploreRequest {
            sort,
            search: SearchTerms::parse("cat").unwrap(),
            favorites_only,
            page: 0,
            after: None,
            limit: 500,
        }
    }

    #[tokio::test]
    async fn trending_counts_the_last_seven_days_and_favourites_are_the_callers_likes() {
        let now = DateTime::from_timestamp_millis(1_764_000_000_000).unwrap();
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now);
        let viewer = UserId::parse("viewer").unwrap();
        let expected_viewer = viewer.clone();
        let mut feed = MockExploreRepository::new();
        feed.expect_feed()
            .withf(move |query| {
                query.order
                    == FeedOrder::Trending {
                        since: now - chrono::TimeDelta::days(7),
                    }
                    && query.liked_by.as_ref() == Some(&expected_viewer)
                    && query.search.as_ref().map(SearchTerms::words)
                        == Some(&["cat".to_owned()][..])
                    && query.page == 1
                    && query.limit == 100
            })
            .times(1)
            .returning(|_| Ok(Vec::new()));
        let service = ExploreService::new(Arc::new(feed), Arc::new(clock));
        let page = service
            .page(&viewer, request(ExploreSort::Trending, true))
            .await
            .unwrap();
        assert!(page.is_empty());
    }

    #[tokio::test]
    async fn recent_without_favourites_filters_no_user() {
        let mut feed = MockExploreRepository::new();
        feed.expect_feed()
            .withf(|query| query.order == FeedOrder::Recent && query.liked_by.is_none())
            .times(1)
            .returning(|_| Ok(Vec::new()));
        let service = ExploreService::new(Arc::new(feed), Arc::new(MockClock::new()));
        let viewer = UserId::parse("viewer").unwrap();
        service
            .page(&viewer, request(ExploreSort::Recent, false))
            .await
            .unwrap();
    }
}
