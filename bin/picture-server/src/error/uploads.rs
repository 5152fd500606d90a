//! Upload errors as HTTP answers: the file's fault is a 4xx, a dependency's a 503.

use picture_domain::InspectError;
use picture_domain::services::UploadError;

use super::{ApiError, Cause};

/// The original's answer to a file that is not an accepted image.
pub const UNSUPPORTED_TYPE: &str = "Invalid file type. Only JPEG, PNG, and WebP are allowed.";

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::Inspect(InspectError::Empty) => {
                Self::Validation(vec!["The file is empty".into()])
            }
            UploadError::Inspect(InspectError::Unsupported) => {
                Self::UnsupportedMediaType(UNSUPPORTED_TYPE.into())
            }
            UploadError::Inspect(InspectError::Malformed(why)) => {
                Self::InvalidImage(format!("The image is damaged: {why}"))
            }
            UploadError::TooLarge { .. } => Self::PayloadTooLarge,
            UploadError::TooManyPixels {
                width,
                height,
                max_pixels,
            } => Self::ImageTooLarge(format!(
                "The image has {width}×{height} pixels; at most {max_pixels} are accepted"
            )),
            UploadError::Store(error) => Self::Storage(Cause(Box::new(error))),
            UploadError::Repository(error) => error.into(),
        }
    }
}
