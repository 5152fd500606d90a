//! Batch errors as HTTP answers: a missing (or someone else's) batch is a 404 naming the id as
//! the client sent it; a batch that cannot be paid in full a 402 with what it needs.

use picture_domain::services::batches::BatchError;

use super::ApiError;

impl ApiError {
    /// The answer to a failed batch use case on batch `id` (as the client wrote it).
    pub fn from_batch(error: BatchError, id: &str) -> Self {
        match error {
            BatchError::NotFound => Self::NotFound(format!("Batch with id {id} not found")),
            BatchError::ModelNotFound => Self::NotFound("Model not found".into()),
            BatchError::Insufficient(shortfall) => Self::BatchInsufficient(shortfall),
            BatchError::CreditsUnavailable => Self::CreditsUnavailable,
            BatchError::Generate(error) => error.into(),
            BatchError::Repository(error) => error.into(),
        }
    }
}
