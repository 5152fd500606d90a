//! Rendering events as SSE frames.

use bytes::Bytes;
use picture_domain::services::GenerationView;
use picture_domain::{BatchId, EventSeq, GenerationStatus, LiveChange, LiveEvent, UserId};
use picture_live::sse;

use super::LiveStreams;
use crate::dto::{
    CreditBalanceDto, GenerationEventDto, GenerationStatusDto, ReadyEventDto, ResyncEventDto,
};
use crate::error::ApiError;

/// The SSE event names.
pub(super) const GENERATION: &str = "generation";
const CREDITS: &str = "credits";
const READY: &str = "ready";
const RESYNC: &str = "resync";

fn json(value: &impl serde::Serialize) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

fn id_of(seq: Option<EventSeq>) -> Option<i64> {
    seq.map(EventSeq::get).filter(|n| *n > 0)
}

/// A generation's event: `status` and `progress` as given; the final one carries `view`.
pub(super) fn generation(
    seq: Option<EventSeq>,
    view: &GenerationView,
    status: GenerationStatus,
    progress: Option<f64>,
    batch: Option<BatchId>,
) -> Result<Bytes, ApiError> {
    let generation = &view.generation;
    let progress = match status {
        GenerationStatus::Completed => Some(1.0),
        GenerationStatus::Processing => progress,
        _ => None,
    };
    let body = GenerationEventDto {
        generation_id: generation.record.id.to_string(),
        status: status.as_str(),
        progress,
        batch_id: batch.map(|b| b.to_string()),
        result: status
            .is_terminal()
            .then(|| GenerationStatusDto::from(view)),
    };
    Ok(sse::event(GENERATION, id_of(seq), &json(&body)?))
}

/// A non-final generation event straight from the log (no database read).
pub(super) fn change(event: &LiveEvent) -> Result<Option<Bytes>, ApiError> {
    let LiveChange::Generation {
        generation,
        status,
        progress,
        batch,
    } = &event.change
    else {
        return Ok(None);
    };
    let body = GenerationEventDto {
        generation_id: generation.to_string(),
        status: status.as_str(),
        progress: progress.filter(|_| *status == GenerationStatus::Processing),
        batch_id: batch.map(|b| b.to_string()),
        result: None,
    };
    Ok(Some(sse::event(
        GENERATION,
        id_of(Some(event.seq)),
        &json(&body)?,
    )))
}

/// The user's credits now, as `GET /credits/balance` answers.
pub(super) async fn credits(
    streams: &LiveStreams,
    user: &UserId,
    seq: Option<EventSeq>,
) -> Result<Bytes, ApiError> {
    let overview = streams.credits.overview(user).await?;
    let body = CreditBalanceDto::new(&overview, streams.credits.policy());
    Ok(sse::event(CREDITS, id_of(seq), &json(&body)?))
}

/// The first event of a user stream.
pub(super) fn ready(after: EventSeq) -> Result<Bytes, ApiError> {
    let body = ReadyEventDto {
        last_event_id: after.get(),
    };
    Ok(sse::event(READY, Some(after.get()), &json(&body)?))
}

/// Events may have been missed: the client should reload.
pub(super) fn resync(reason: &'static str) -> Result<Bytes, ApiError> {
    Ok(sse::event(RESYNC, None, &json(&ResyncEventDto { reason })?))
}
