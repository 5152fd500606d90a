//! Starting a generation at most once per `Idempotency-Key`, and answering every retry with the
//! first answer, byte for byte (as Stripe does).
//!
//! Only an answer to a request that started a generation is kept. A request refused before
//! anything started (402 insufficient credits, 404 unknown model, 5xx provider or credits
//! outages, a failed submit) releases its key: it changed nothing, so running it again is safe,
//! and a retry after the cause is fixed (credits bought, provider back) can succeed instead of
//! replaying the refusal for a day.

use chrono::{DateTime, Utc};

use super::{GenerateError, StartGeneration, Started};
use crate::error::ErrorChain;
use crate::ids::{GenerationId, UserId};
use crate::params::GenerationRequest;
use crate::ports::{IdempotencyClaim, RecordedResponse};

/// A client's `Idempotency-Key` and the hash of the request body it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key.
    pub key: String,
    /// A hash of the request body (canonical JSON).
    pub request_hash: String,
}

/// What a start with an `Idempotency-Key` comes to.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyedStart {
    /// The key was new and this request started a generation: answer it, and record that
    /// answer with [`StartGeneration::record_answer`] so every retry gets the same bytes.
    First(Box<Started>),
    /// The key was used before with the same body: answer its first answer again, unchanged.
    Replay(RecordedResponse),
}

/// The earliest creation time of a key still alive at `now`.
pub(super) fn expiry_horizon(now: DateTime<Utc>, ttl: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(ttl)
        .ok()
        .and_then(|ttl| now.checked_sub_signed(ttl))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl StartGeneration {
    /// Like [`start`](Self::start), at most once per `key` and its time to live: a retry with
    /// the same key and body gets [`KeyedStart::Replay`] of the first answer and starts
    /// nothing; a request that fails releases its key, so a retry may try again (no error
    /// answer is kept).
    ///
    /// # Errors
    /// As [`start`](Self::start); [`GenerateError::IdempotencyMismatch`] for the same key with
    /// another body; [`GenerateError::IdempotencyInProgress`] until the first answer is
    /// recorded.
    pub async fn start_once(
        &self,
        user: &UserId,
        request: GenerationRequest,
        key: &IdempotencyKey,
    ) -> Result<KeyedStart, GenerateError> {
        let id = GenerationId::new_random();
        let now = self.ports.clock.now();
        let claim = self
            .ports
            .idempotency
            .claim(
                user,
                &key.key,
                &key.request_hash,
                id,
                now,
                expiry_horizon(now, self.settings.idempotency_ttl),
            )
            .await?;
        match claim {
            IdempotencyClaim::New => match self.start_as(user, request, id).await {
                Ok(started) => Ok(KeyedStart::First(Box::new(started))),
                Err(error) => {
                    if let Err(forgotten) = self.ports.idempotency.forget(user, &key.key).await {
                        tracing::warn!(%forgotten, "idempotency key not released");
                    }
                    Err(error)
                }
            },
            IdempotencyClaim::Existing { request_hash, .. } if request_hash != key.request_hash => {
                Err(GenerateError::IdempotencyMismatch)
            }
            IdempotencyClaim::Existing {
                response: Some(response),
                ..
            } => Ok(KeyedStart::Replay(response)),
            IdempotencyClaim::Existing { response: None, .. } => {
                Err(GenerateError::IdempotencyInProgress)
            }
        }
    }

    /// Records `response`, the answer sent for [`KeyedStart::First`], as the answer of `key`.
    /// A failure is logged, not returned: the generation has started and its answer goes out
    /// all the same; retries then get [`GenerateError::IdempotencyInProgress`] until the key
    /// expires, never a second generation.
    pub async fn record_answer(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
        response: &RecordedResponse,
    ) {
        if let Err(error) = self
            .ports
            .idempotency
            .record(user, &key.key, response)
            .await
        {
            tracing::error!(error = %ErrorChain(&error), user_id = %user, "the first answer of an idempotency key was not recorded");
        }
    }
}

#[cfg(test)]
mod tests;
