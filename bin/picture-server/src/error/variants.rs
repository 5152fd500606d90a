//! Variant errors as HTTP answers: the image's fault is a 4xx, a busy renderer or a failing
//! store a 503, a renderer fault a 500.

use picture_domain::ports::RenderError;
use picture_domain::services::VariantError;

use super::ApiError;

impl From<VariantError> for ApiError {
    fn from(error: VariantError) -> Self {
        match error {
            VariantError::NotFound => Self::NotFound("No such image".into()),
            VariantError::Render(RenderError::NotAnImage) => {
                Self::InvalidImage("The stored object is not an image that can be resized".into())
            }
            VariantError::Render(too_many @ RenderError::TooManyPixels { .. }) => {
                Self::ImageTooLarge(too_many.to_string())
            }
            VariantError::Render(RenderError::Busy | RenderError::TimedOut) => Self::RendererBusy,
            VariantError::Render(failed @ RenderError::Failed(_)) => {
                Self::internal_while("rendering a variant", failed)
            }
            VariantError::Store(error) => Self::unavailable(error),
        }
    }
}
