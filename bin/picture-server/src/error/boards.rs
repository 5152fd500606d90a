//! Board errors as HTTP answers: a missing (or someone else's) board is a 404 naming the id as
//! the client sent it; a refused thumbnail a 4xx; a dependency's failure a 503.

use picture_domain::InspectError;
use picture_domain::services::BoardError;

use super::uploads::UNSUPPORTED_TYPE;
use super::{ApiError, Cause};

impl ApiError {
    /// The answer to a failed board use case on board `id` (as the client wrote it).
    pub fn from_board(error: BoardError, id: &str) -> Self {
        match error {
            BoardError::NotFound => Self::NotFound(format!("Board with id {id} not found")),
            BoardError::Invalid(errors) => errors.into(),
            BoardError::Thumbnail(InspectError::Empty) => {
                Self::Validation(vec!["The thumbnail is empty".into()])
            }
            BoardError::Thumbnail(InspectError::Unsupported) => {
                Self::UnsupportedMediaType(UNSUPPORTED_TYPE.into())
            }
            BoardError::Thumbnail(InspectError::Malformed(why)) => {
                Self::InvalidImage(format!("The thumbnail is damaged: {why}"))
            }
            BoardError::ThumbnailTooLarge => Self::PayloadTooLarge,
            too_many @ BoardError::ThumbnailTooManyPixels { .. } => {
                Self::ImageTooLarge(too_many.to_string())
            }
            BoardError::Store(error) => Self::Storage(Cause(Box::new(error))),
            BoardError::Repository(error) => error.into(),
        }
    }
}
