//! Opening an event stream and the task that feeds it.

mod body;
mod task;

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_ENCODING};
use picture_domain::{EventSeq, GenerationId, UserId};
use picture_live::{SubscribeError, sse};
use tokio::sync::mpsc;

use self::body::BodyStream;
use self::task::StreamTask;
use super::{BODY_BUFFER, LiveStreams};
use crate::error::ApiError;

/// What a client asked to watch.
#[derive(Debug, Clone)]
pub struct StreamRequest {
    /// Whose events.
    pub user: UserId,
    /// Only this generation's (the stream ends with it), or every event of the user.
    pub generation: Option<GenerationId>,
    /// The last event the client has (`Last-Event-ID` or `lastEventId`): replay after it.
    pub after: Option<EventSeq>,
}

/// Opens a stream: 404 for a generation that is not the caller's, 204 (the standard's "stop
/// reconnecting") when the client already has the final event of its generation, 429 at a
/// cap; otherwise a `text/event-stream` fed by a task of its own.
///
/// # Errors
/// As above; [`ApiError::Unavailable`] when the database fails or the server is stopping.
pub async fn open(streams: &LiveStreams, request: StreamRequest) -> Result<HttpResponse, ApiError> {
    if let Some(generation) = request.generation {
        // As stored: the stream's first event reads the state (and asks the provider) itself.
        let found = streams
            .read
            .find(&request.user, generation)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("Generation {generation} not found")))?;
        if let Some(after) = request.after
            && found.status.is_terminal()
            && streams
                .log
                .latest(generation)
                .await?
                .is_some_and(|latest| latest.is_final() && latest.seq <= after)
        {
            return Ok(HttpResponse::NoContent().finish());
        }
    }
    let subscription = streams
        .hub
        .subscribe(&request.user, request.generation)
        .map_err(|error| match error {
            SubscribeError::InstanceFull => {
                ApiError::TooManyStreams("This server holds its maximum of event streams")
            }
            SubscribeError::ShuttingDown => ApiError::unavailable("the server is stopping"),
        })?;
    let lease = streams
        .leases
        .open(
            &request.user,
            &streams.instance,
            streams.per_user,
            streams.clock.now(),
        )
        .await?
        .ok_or(ApiError::TooManyStreams(
            "Too many open event streams for this user",
        ))?;
    let (out, body) = mpsc::channel(BODY_BUFFER);
    let task = StreamTask::new(Arc::new(streams.clone()), request, subscription, out);
    let leases = Arc::clone(&streams.leases);
    actix_web::rt::spawn(async move {
        task.run().await;
        if let Err(error) = leases.close(lease).await {
            tracing::warn!(%error, lease, "event stream lease not closed; it lapses with the instance");
        }
    });
    Ok(HttpResponse::Ok()
        .content_type(sse::CONTENT_TYPE)
        .insert_header((CACHE_CONTROL, "no-cache, no-transform"))
        .insert_header(("X-Accel-Buffering", "no"))
        .insert_header((CONTENT_ENCODING, "identity"))
        .streaming(BodyStream::new(body)))
}
