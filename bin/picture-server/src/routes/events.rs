//! Live progress over Server-Sent Events: `GET /generate/:id/events` (one generation, ends with
//! it), `GET /generate/events` (every change of the caller: generations, batch items, credits),
//! `POST /generate/events/token` (a short-lived token for `?access_token=`), and
//! `GET /generate/active` (the caller's unfinished generations, for a queue's first paint).

mod stream_user;

pub use stream_user::StreamUser;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use picture_domain::{EventSeq, GenerationId};
use serde::Deserialize;

use super::responses::{NotFound, Unauthorized};
use crate::auth::AuthenticatedUser;
use crate::dto::{
    ActiveDto, ErrorDto, GenerationStatusDto, PathId, SseEventDto, StreamTokenDto, timestamp,
};
use crate::error::ApiError;
use crate::live::{self, LiveStreams, StreamRequest};

/// Most generations `GET /generate/active` lists.
const MAX_ACTIVE: u32 = 200;

/// The query of a stream's URL (`access_token` is read by [`StreamUser`]).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamQuery {
    /// The last event the client has, when it cannot send `Last-Event-ID` (a new
    /// `EventSource`); the header wins.
    last_event_id: Option<String>,
}

/// The client's last event: the `Last-Event-ID` header, else `lastEventId`; 400 when present
/// but not an event number.
fn last_event(request: &HttpRequest, query: &StreamQuery) -> Result<Option<EventSeq>, ApiError> {
    let header = request
        .headers()
        .get("last-event-id")
        .map(|value| value.to_str().unwrap_or("?").to_owned());
    let Some(raw) = header.or_else(|| query.last_event_id.clone()) else {
        return Ok(None);
    };
    EventSeq::parse(&raw).map(Some).ok_or_else(|| {
        ApiError::Validation(vec![
            "Last-Event-ID (or lastEventId) must be an event number".into(),
        ])
    })
}

/// What a stream request asks to watch: `user`'s events (only `generation`'s, if given) after
/// the client's last event.
fn watch(
    user: StreamUser,
    generation: Option<GenerationId>,
    request: &HttpRequest,
    query: &StreamQuery,
) -> Result<StreamRequest, ApiError> {
    Ok(StreamRequest {
        user: user.0,
        generation,
        after: last_event(request, query)?,
    })
}

/// Events of one generation: first its current state (or, with `Last-Event-ID`, what came
/// after that event), then each change as it commits on any instance — `pending`,
/// `processing` (with `progress` 0–1 when the provider reports steps), and the final
/// `completed`/`failed`/`cancelled` carrying `result` (what `GET /generate/:id/status`
/// returns), after which the stream ends. A generation already ended: its final event at once.
/// A reconnect whose `Last-Event-ID` is the final event: 204 (EventSource stops).
#[utoipa::path(tag = "events", security(("bearer" = []), ("stream_token" = [])),
    params(("id" = String, Path, description = "The generation (a UUID)"),
        ("access_token" = Option<String>, Query, description = "A stream token from `POST /generate/events/token`, for clients that cannot send `Authorization` (browsers' EventSource)"),
        ("lastEventId" = Option<String>, Query, description = "The last event received, when the `Last-Event-ID` header cannot be sent"),
        ("Last-Event-ID" = Option<String>, Header, description = "The last event received: replay what came after it (events are kept EVENT_REPLAY_WINDOW_SECS, default 600)")),
    responses(
        (status = 200, description = "`text/event-stream`: `event: generation` frames (`data`: a GenerationEventDto), each with `id:`; a `: heartbeat` comment every EVENT_HEARTBEAT_SECS (15) when idle", content_type = "text/event-stream", body = SseEventDto),
        (status = 204, description = "The client already has the final event: stop reconnecting"),
        (status = 400, description = "Last-Event-ID is not an event number", body = ErrorDto),
        Unauthorized, NotFound,
        (status = 429, description = "too_many_streams: EVENT_STREAMS_PER_USER or EVENT_STREAMS_PER_INSTANCE reached", body = ErrorDto)))]
#[get("/generate/{id}/events")]
pub async fn generation_events(
    user: StreamUser,
    id: PathId<GenerationId>,
    request: HttpRequest,
    query: web::Query<StreamQuery>,
    streams: web::Data<LiveStreams>,
) -> Result<HttpResponse, ApiError> {
    live::open(&streams, watch(user, Some(id.get()), &request, &query)?).await
}

/// Every change of the caller as it commits on any instance: `event: generation` for each of
/// their generations and batch items (as on `/generate/:id/events`), `event: credits` when
/// their balance or free generations change (what `GET /credits/balance` returns). Opens with
/// `event: ready` (its `id:` is where the stream starts) and the current credits; with
/// `Last-Event-ID`, replays what came after it instead (`event: resync` first when that is
/// older than the replay window). Never ends by itself.
#[utoipa::path(tag = "events", security(("bearer" = []), ("stream_token" = [])),
    params(
        ("access_token" = Option<String>, Query, description = "A stream token from `POST /generate/events/token`"),
        ("lastEventId" = Option<String>, Query, description = "The last event received (e.g. `lastEventId` of `GET /generate/active`), when the header cannot be sent"),
        ("Last-Event-ID" = Option<String>, Header, description = "The last event received: replay what came after it")),
    responses(
        (status = 200, description = "`text/event-stream` of `ready` (ReadyEventDto), `generation` (GenerationEventDto), `credits` (CreditBalanceDto) and `resync` (ResyncEventDto) events; `ready` and every event caused by a change carry `id:` (the opening credits event, the balance as of `ready`, and `resync` do not); `: heartbeat` comments when idle", content_type = "text/event-stream", body = SseEventDto),
        (status = 400, description = "Last-Event-ID is not an event number", body = ErrorDto),
        Unauthorized,
        (status = 429, description = "too_many_streams", body = ErrorDto)))]
#[get("/generate/events")]
pub async fn user_events(
    user: StreamUser,
    request: HttpRequest,
    query: web::Query<StreamQuery>,
    streams: web::Data<LiveStreams>,
) -> Result<HttpResponse, ApiError> {
    live::open(&streams, watch(user, None, &request, &query)?).await
}

/// A short-lived token that opens the caller's event streams as `?access_token=` (valid
/// EVENT_TOKEN_TTL_SECS, default 60 s, checked when a stream opens; accepted by the event
/// streams only). For browsers, whose `EventSource` cannot send `Authorization`.
#[utoipa::path(tag = "events", security(("bearer" = [])),
    responses((status = 200, description = "The token and its expiry", body = StreamTokenDto), Unauthorized))]
#[post("/generate/events/token")]
pub async fn stream_token(
    user: AuthenticatedUser,
    streams: web::Data<LiveStreams>,
) -> Result<HttpResponse, ApiError> {
    let now = streams.auth.clock.now();
    let minted = streams.auth.tokens.mint(&user.id, now);
    let expires_in = (minted.expires_at - now).num_seconds().max(0);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(StreamTokenDto {
            token: minted.token,
            expires_at: timestamp(minted.expires_at),
            expires_in: u64::try_from(expires_in).unwrap_or(0),
        }))
}

/// The caller's pending, queued and processing generations (batch items included), oldest
/// first, at most 200, and the event number to open `GET /generate/events?lastEventId=` with
/// so that no change after this read is missed.
#[utoipa::path(tag = "events", security(("bearer" = [])),
    responses((status = 200, description = "The unfinished generations", body = ActiveDto), Unauthorized))]
#[get("/generate/active")]
pub async fn active(
    user: AuthenticatedUser,
    streams: web::Data<LiveStreams>,
) -> Result<HttpResponse, ApiError> {
    // The position first: a change committed meanwhile shows in the list and comes again on
    // the stream, never the other way round.
    let head = streams
        .log
        .newest(&user.id)
        .await?
        .unwrap_or(EventSeq::START);
    let views = streams.read.active(&user.id, MAX_ACTIVE).await?;
    Ok(HttpResponse::Ok().json(ActiveDto {
        data: views.iter().map(GenerationStatusDto::from).collect(),
        last_event_id: head.get(),
    }))
}
