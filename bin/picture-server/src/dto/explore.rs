//! An image of the explore feed: the gallery's `Image`, plus its like count.

use picture_domain::ports::FeedImage;
use serde::Serialize;

use super::ImageDto;

/// An image of the explore feed as the clients read it: every field of the gallery's
/// [`ImageDto`], plus `likeCount`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExploreImageDto<'a> {
    /// The image, field for field as in the gallery.
    #[serde(flatten)]
    pub image: ImageDto<'a>,
    /// How many users like it.
    pub like_count: u64,
}

impl<'a> From<&'a FeedImage> for ExploreImageDto<'a> {
    fn from(found: &'a FeedImage) -> Self {
        Self {
            image: ImageDto::from(&found.image),
            like_count: found.like_count,
        }
    }
}
