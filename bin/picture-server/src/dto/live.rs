//! The event streams' shapes: what each `data:` line carries, the stream token and the active
//! generations.

use serde::Serialize;
use utoipa::ToSchema;

use super::GenerationStatusDto;

/// `event: generation` — a generation (or batch item) changed: its status, and progress while
/// processing when the provider reports it. The final event (`completed`, `failed`,
/// `cancelled`) carries `result`, what `GET /generate/:id/status` returns.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerationEventDto<'a> {
    /// The generation's id.
    pub generation_id: String,
    /// `pending`, `queued` (a batch item waiting), `processing`, `completed`, `failed` or
    /// `cancelled`.
    pub status: &'static str,
    /// 0–1 while processing when the provider reports steps; 1 when completed; else null.
    pub progress: Option<f64>,
    /// The batch it is an item of, if any.
    pub batch_id: Option<String>,
    /// On the final event only: the generation as `GET /generate/:id/status` returns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<GenerationStatusDto<'a>>,
}

/// One event of a stream as Server-Sent Events frame it (`event:`, `id:`, `data:`); `data` is
/// a JSON document whose shape the event's name gives: `generation` → `GenerationEventDto`,
/// `credits` → `CreditBalanceDto` (as `GET /credits/balance`), `ready` → `ReadyEventDto`,
/// `resync` → `ResyncEventDto`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SseEventDto {
    /// `generation`, `credits`, `ready` or `resync`.
    pub event: String,
    /// The event's number, for `Last-Event-ID` (absent on events not caused by a change).
    pub id: Option<String>,
    /// The event's JSON document.
    #[schema(content_media_type = "application/json")]
    pub data: String,
}

/// `event: ready` — the first event of a user stream: the number it starts after (also its
/// `id:`), for `Last-Event-ID` or `lastEventId` on a later stream.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadyEventDto {
    /// The stream continues after this event number.
    pub last_event_id: i64,
}

/// `event: resync` — events older than the replay window (`EVENT_REPLAY_WINDOW_SECS`) may have
/// been missed: reload `GET /generate/active` (and the balance) before trusting the stream.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResyncEventDto {
    /// Why.
    pub reason: &'static str,
}

/// `POST /generate/events/token`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamTokenDto {
    /// Put it in an event stream's URL as `?access_token=`; opens streams of the caller only.
    pub token: String,
    /// When it stops opening streams (ISO-8601); a stream opened before goes on.
    pub expires_at: String,
    /// Seconds from now until then.
    pub expires_in: u64,
}

/// `GET /generate/active`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActiveDto<'a> {
    /// The caller's pending, queued and processing generations, oldest first.
    pub data: Vec<GenerationStatusDto<'a>>,
    /// Open `GET /generate/events?lastEventId=` with this to get every change after this
    /// list was read.
    pub last_event_id: i64,
}
