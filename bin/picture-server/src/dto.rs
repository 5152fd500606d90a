//! JSON shapes of the HTTP contract, camelCase, field for field as the original backend.

mod batch;
mod board;
mod board_item;
mod explore;
mod generation;
mod image;
mod live;
mod model;
mod path_id;
mod profile;
mod profile_edit;
mod responses;
mod tag;

pub use batch::{BatchDto, BatchItemDto, BatchProgressDto, BatchWithItemsDto};
pub use board::{BoardDto, BoardWithCountDto};
pub use board_item::{BoardItemDto, BoardItemImageDto, ImageOnBoardDto, IsOnBoardDto};
pub use explore::ExploreImageDto;
pub use generation::{GenerateBody, GenerateResponseDto, GenerationDto, GenerationStatusDto};
pub use image::ImageDto;
pub use live::{
    ActiveDto, GenerationEventDto, ReadyEventDto, ResyncEventDto, SseEventDto, StreamTokenDto,
};
pub use model::ModelDto;
pub use path_id::{PathId, PathResource};
pub use profile::ProfileDto;
pub use profile_edit::{ProfileChangeBody, ProfileStatsDto, RateLimitsDto};
pub use responses::{
    AffectedDto, CountDto, CreditBalanceDto, ErrorDto, ErrorMessage, GenerateCreditsDto,
    GenerationParamsDto, GrantDto, GrantedDto, HealthDto, HistoryDto, InsufficientDetails,
    LikesDto, ReadyChecks, ReadyDto, WebhookAckDto,
};
pub use tag::TagDto;

use chrono::{DateTime, SecondsFormat, Utc};

/// ISO-8601 UTC with milliseconds, e.g. `2025-12-10T10:11:12.345Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_a_z() {
        let at = DateTime::from_timestamp_millis(1_765_361_472_345).unwrap();
        assert_eq!(timestamp(at), "2025-12-10T10:11:12.345Z");
        let whole = DateTime::from_timestamp_millis(0).unwrap();
        assert_eq!(timestamp(whole), "1970-01-01T00:00:00.000Z");
    }
}
