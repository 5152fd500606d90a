//! The task that feeds one stream: the first events (the current state, or a replay after the
//! client's last event), then the hub's events as they come, heartbeats when idle.

use std::sync::Arc;

use bytes::Bytes;
use picture_domain::{BatchId, EventSeq, GenerationId, LiveChange, LiveEvent};
use picture_live::{HubMessage, Subscription, sse};
use tokio::sync::mpsc;
use tokio::time::{Instant, interval_at};

use super::StreamRequest;
use crate::error::ApiError;
use crate::live::{LiveStreams, RECONNECT_MILLIS, REPLAY_PAGE, render};

/// Why a stream stopped early.
#[derive(Debug, thiserror::Error)]
enum Stop {
    /// The client went away.
    #[error("the client left")]
    Gone,
    /// Reading what to send failed (the client reconnects and replays).
    #[error("reading the stream's events failed: {0}")]
    Failed(#[from] ApiError),
}

/// Whether the stream is over after an event (its generation ended).
type Done = bool;

/// One stream's state.
pub(super) struct StreamTask {
    streams: Arc<LiveStreams>,
    request: StreamRequest,
    subscription: Subscription,
    writer: Writer,
}

/// The stream's output and the last event number it carried.
struct Writer {
    out: mpsc::Sender<Bytes>,
    last_sent: EventSeq,
}

impl Writer {
    async fn send(&mut self, frame: Bytes) -> Result<(), Stop> {
        self.out.send(frame).await.map_err(|_| Stop::Gone)
    }

    /// Sends an event numbered `seq`, which then is the client's last event.
    async fn send_event(&mut self, seq: EventSeq, frame: Bytes) -> Result<(), Stop> {
        self.send(frame).await?;
        self.last_sent = self.last_sent.max(seq);
        Ok(())
    }
}

impl StreamTask {
    pub(super) fn new(
        streams: Arc<LiveStreams>,
        request: StreamRequest,
        subscription: Subscription,
        out: mpsc::Sender<Bytes>,
    ) -> Self {
        let last_sent = request.after.unwrap_or(EventSeq::START);
        Self {
            streams,
            request,
            subscription,
            writer: Writer { out, last_sent },
        }
    }

    /// Runs the stream to its end.
    pub(super) async fn run(mut self) {
        match self.serve().await {
            Ok(()) | Err(Stop::Gone) => {}
            Err(Stop::Failed(error)) => {
                tracing::warn!(%error, "event stream ended early; the client replays on reconnect");
            }
        }
    }

    async fn serve(&mut self) -> Result<(), Stop> {
        self.writer.send(sse::retry(RECONNECT_MILLIS)).await?;
        if self.begin().await? {
            return Ok(());
        }
        let period = self.streams.heartbeat;
        let mut heartbeat = interval_at(Instant::now() + period, period);
        loop {
            tokio::select! {
                message = self.subscription.next() => {
                    let done = match message {
                        Some(HubMessage::Event(event)) => self.deliver(&event, false).await?,
                        Some(HubMessage::Resync) => self.replay().await?,
                        // Dropped as too slow, or the server is stopping.
                        None => true,
                    };
                    if done {
                        return Ok(());
                    }
                }
                _ = heartbeat.tick() => self.writer.send(sse::comment("heartbeat")).await?,
                () = self.writer.out.closed() => return Err(Stop::Gone),
            }
        }
    }

    /// The first events: a replay after the client's last event, or the current state.
    async fn begin(&mut self) -> Result<Done, Stop> {
        match (self.request.generation, self.request.after) {
            (Some(generation), Some(_)) => {
                if self.replay().await? {
                    return Ok(true);
                }
                // Its final event may be older than the replay window: the state says.
                self.snapshot(generation, true).await
            }
            (Some(generation), None) => self.snapshot(generation, false).await,
            (None, Some(after)) => {
                let horizon = self.streams.log.horizon().await.map_err(ApiError::from)?;
                if horizon.is_some_and(|oldest| oldest.get() > after.get() + 1) {
                    self.writer
                        .send(render::resync(
                            "events after lastEventId may have been pruned",
                        )?)
                        .await?;
                }
                self.replay().await
            }
            (None, None) => {
                let user = &self.request.user;
                let head = self
                    .streams
                    .log
                    .newest(user)
                    .await
                    .map_err(ApiError::from)?
                    .unwrap_or(EventSeq::START);
                self.writer.send_event(head, render::ready(head)?).await?;
                self.send_credits(None).await?;
                Ok(false)
            }
        }
    }

    /// The generation's current state as one event (numbered by its newest retained event
    /// when that is newer than what the client has). With `only_final`, sent only when the
    /// generation has ended. Done when it has.
    async fn snapshot(&mut self, generation: GenerationId, only_final: bool) -> Result<Done, Stop> {
        // The log first: a change committed between the two reads then shows in the state
        // (newer) and comes again from the hub, never the other way round.
        let latest = self
            .streams
            .log
            .latest(generation)
            .await
            .map_err(ApiError::from)?;
        let Some(view) = self
            .streams
            .read
            .status(&self.request.user, generation)
            .await
            .map_err(ApiError::from)?
        else {
            return Ok(true);
        };
        let status = view.generation.status;
        if only_final && !status.is_terminal() {
            return Ok(false);
        }
        let (seq, progress, batch) = match &latest {
            Some(event) => match &event.change {
                LiveChange::Generation {
                    status: logged,
                    progress,
                    batch,
                    ..
                } => (
                    Some(event.seq),
                    progress.filter(|_| *logged == status),
                    *batch,
                ),
                LiveChange::Credits => (None, None, None),
            },
            None => (None, None, None),
        };
        let seq = seq.filter(|seq| *seq > self.writer.last_sent);
        let frame = render::generation(seq, &view, status, progress, batch)?;
        self.writer
            .send_event(seq.unwrap_or(EventSeq::START), frame)
            .await?;
        Ok(status.is_terminal())
    }

    /// Every retained event after the last one sent, page by page. In a page, a credits event
    /// is sent only when no later one follows (each says the balance now).
    async fn replay(&mut self) -> Result<Done, Stop> {
        loop {
            let page = self
                .streams
                .log
                .replay(
                    &self.request.user,
                    self.writer.last_sent,
                    self.request.generation,
                    REPLAY_PAGE,
                )
                .await
                .map_err(ApiError::from)?;
            let last_credits = page
                .iter()
                .rposition(|event| matches!(event.change, LiveChange::Credits));
            for (index, event) in page.iter().enumerate() {
                let superseded =
                    matches!(event.change, LiveChange::Credits) && Some(index) != last_credits;
                if self.deliver(event, superseded).await? {
                    return Ok(true);
                }
            }
            if page.len() < REPLAY_PAGE as usize {
                return Ok(false);
            }
        }
    }

    /// Sends `event` unless the client has it (`skip` only moves the position past it). Done
    /// when it ends the watched generation.
    async fn deliver(&mut self, event: &LiveEvent, skip: bool) -> Result<Done, Stop> {
        if event.seq <= self.writer.last_sent {
            return Ok(false);
        }
        if skip {
            self.writer.last_sent = event.seq;
            return Ok(false);
        }
        match &event.change {
            LiveChange::Credits => {
                self.send_credits(Some(event.seq)).await?;
                Ok(false)
            }
            LiveChange::Generation {
                generation,
                status,
                batch,
                ..
            } if status.is_terminal() => self.deliver_final(event, *generation, *batch).await,
            LiveChange::Generation { .. } => {
                if let Some(frame) = render::change(event)? {
                    self.writer.send_event(event.seq, frame).await?;
                }
                Ok(false)
            }
        }
    }

    /// The user's credits now (numbered `seq`). The balance may be the remote credits
    /// service's: when it cannot be read, the event is skipped (the next change sends it
    /// again) rather than ending the stream.
    async fn send_credits(&mut self, seq: Option<EventSeq>) -> Result<(), Stop> {
        match render::credits(&self.streams, &self.request.user, seq).await {
            Ok(frame) => {
                self.writer
                    .send_event(seq.unwrap_or(EventSeq::START), frame)
                    .await
            }
            Err(error) => {
                tracing::warn!(%error, "credits event skipped: the balance could not be read");
                if let Some(seq) = seq {
                    self.writer.last_sent = self.writer.last_sent.max(seq);
                }
                Ok(())
            }
        }
    }

    /// A final event, with the generation as `GET /generate/:id/status` returns it.
    async fn deliver_final(
        &mut self,
        event: &LiveEvent,
        generation: GenerationId,
        batch: Option<BatchId>,
    ) -> Result<Done, Stop> {
        let LiveChange::Generation { status, .. } = event.change else {
            return Ok(false);
        };
        let view = self
            .streams
            .read
            .status(&self.request.user, generation)
            .await
            .map_err(ApiError::from)?;
        if let Some(view) = view {
            let frame = render::generation(Some(event.seq), &view, status, None, batch)?;
            self.writer.send_event(event.seq, frame).await?;
        }
        Ok(self.request.generation == Some(generation))
    }
}
