//! `PATCH /profiles/me` body, `GET /profiles/stats` and `GET /profiles/rate-limits` answers.

use picture_domain::services::{LimitStatus, WindowStatus};
use picture_domain::{ProfileStats, RawProfileChange};
use serde::{Deserialize, Deserializer, Serialize};

use super::timestamp;

/// A field that tells `null` (`Some(None)`) from absent (`None`, through `#[serde(default)]`).
fn present<'de, D: Deserializer<'de>>(raw: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(raw).map(Some)
}

/// A profile change: each field optional; `null` clears it. Unknown fields are refused.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileChangeBody {
    /// 3 to 30 of `[A-Za-z0-9_.-]`, unique among users regardless of case; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, min_length = 3, max_length = 30,
        pattern = "^[A-Za-z0-9_.-]{3,30}$", example = "lighthouse_fan")]
    pub username: Option<Option<String>>,
    /// An `https://` URL of at most 500 characters; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 500,
        example = "https://cdn.example.com/avatar.png")]
    pub avatar_url: Option<Option<String>>,
}

impl From<ProfileChangeBody> for RawProfileChange {
    fn from(body: ProfileChangeBody) -> Self {
        Self {
            username: body.username,
            avatar_url: body.avatar_url,
        }
    }
}

/// The profile tab's counts: the original's four fields, plus generations and likes received.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileStatsDto {
    /// Images not archived.
    pub total_images: u64,
    /// Favourites not archived.
    pub favorite_images: u64,
    /// Archived images.
    pub archived_images: u64,
    /// Public images not archived.
    pub public_images: u64,
    /// Generations ever started (every status).
    pub total_generations: u64,
    /// Likes on the caller's images, by anyone (the caller too).
    pub likes_received: u64,
}

impl From<ProfileStats> for ProfileStatsDto {
    fn from(stats: ProfileStats) -> Self {
        Self {
            total_images: stats.total_images,
            favorite_images: stats.favorite_images,
            archived_images: stats.archived_images,
            public_images: stats.public_images,
            total_generations: stats.total_generations,
            likes_received: stats.likes_received,
        }
    }
}

/// The generation limits this server enforces and what is left of them, in the original's
/// snake_case shape. Both limits are sliding windows (any 24 h, any 60 s), not calendar days
/// or hours; a limit of 0 means the window is switched off.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RateLimitsDto {
    /// Starts counted in the last 24 hours (`RATE_LIMIT_GENERATIONS_PER_DAY`'s window).
    pub daily_used: u32,
    /// `RATE_LIMIT_GENERATIONS_PER_DAY` (0: no limit).
    pub daily_limit: u32,
    /// Starts still allowed in the 24-hour window now.
    pub daily_remaining: u32,
    /// When the oldest start counted leaves the 24-hour window (a slot frees); now when none.
    pub daily_reset_at: String,
    /// The daily window's length: 86400.
    pub daily_window_seconds: u64,
    /// Starts counted in the last 60 seconds: the original called its short window hourly,
    /// this server's short window is `RATE_LIMIT_GENERATIONS_PER_MINUTE`'s.
    pub hourly_used: u32,
    /// `RATE_LIMIT_GENERATIONS_PER_MINUTE` (0: no limit).
    pub hourly_limit: u32,
    /// Starts still allowed in the 60-second window now.
    pub hourly_remaining: u32,
    /// When the oldest start counted leaves the 60-second window; now when none.
    pub hourly_reset_at: String,
    /// The short window's length: 60.
    pub hourly_window_seconds: u64,
    /// The caller's generations pending, queued or processing.
    pub active_generations: u64,
    /// 0: this server limits starts per window, not how many run at once.
    pub max_concurrent: u32,
    /// The caller's generations ever started.
    pub total_all_time: u64,
}

/// One window as `(used, limit, remaining, reset_at, window_seconds)`; zeros and `now` when off.
fn window(status: Option<WindowStatus>, now: &str, length: u64) -> (u32, u32, u32, String, u64) {
    match status {
        Some(w) => (
            w.used,
            w.limit,
            w.remaining(),
            timestamp(w.frees_at),
            w.length.as_secs(),
        ),
        None => (0, 0, 0, now.to_owned(), length),
    }
}

impl RateLimitsDto {
    /// The answer from the limits' `status` and the caller's `stats`.
    pub fn new(status: &LimitStatus, stats: &ProfileStats) -> Self {
        let now = timestamp(status.now);
        let day = window(status.per_day, &now, 86_400);
        let minute = window(status.per_minute, &now, 60);
        Self {
            daily_used: day.0,
            daily_limit: day.1,
            daily_remaining: day.2,
            daily_reset_at: day.3,
            daily_window_seconds: day.4,
            hourly_used: minute.0,
            hourly_limit: minute.1,
            hourly_remaining: minute.2,
            hourly_reset_at: minute.3,
            hourly_window_seconds: minute.4,
            active_generations: stats.active_generations,
            max_concurrent: 0,
            total_all_time: stats.total_generations,
        }
    }
}
