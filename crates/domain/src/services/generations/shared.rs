//! What the generation services share: ending a generation (and counting it), and a
//! generation's view with its image.

use crate::error::RepositoryError;
use crate::generation::{Generation, GenerationStatus, NewGeneration};
use crate::ports::{GenerationLifecycle, ImageRepository, Transition};

use super::GenerationView;

/// Applies a terminal `transition` (failed or cancelled) to the generation `record` describes
/// and counts it when this call moved it. `true` when it did.
pub(super) async fn end(
    lifecycle: &dyn GenerationLifecycle,
    record: &NewGeneration,
    transition: &Transition,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, RepositoryError> {
    let moved = lifecycle.transition(record.id, transition, at).await?;
    if moved {
        count_finished(record, transition.target());
    }
    Ok(moved)
}

/// Counts a generation that became final, by model and status
/// (`picture_generations_finished_total`).
pub(super) fn count_finished(record: &NewGeneration, status: GenerationStatus) {
    metrics::counter!(
        "picture_generations_finished_total",
        "model" => record.model_name.clone().unwrap_or_default(),
        "status" => status.as_str()
    )
    .increment(1);
}

/// `generation` with its image when it is completed.
pub(super) async fn view_of(
    images: &dyn ImageRepository,
    generation: Generation,
) -> Result<GenerationView, RepositoryError> {
    let image = if generation.status == GenerationStatus::Completed {
        images.find_for_generation(generation.record.id).await?
    } else {
        None
    };
    Ok(GenerationView { generation, image })
}
