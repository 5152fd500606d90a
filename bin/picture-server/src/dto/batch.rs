//! `BatchGeneration`, `BatchWithItems` and the progress of a batch.

use picture_domain::{BatchDetail, BatchItem, BatchSummary};
use serde::Serialize;

use super::timestamp;

/// A batch as the mobile client reads it (`BatchGeneration`), field for field as the original;
/// the counts are derived from its items on every read. Additive: `cancelledCount`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct BatchDto {
    pub id: String,
    pub user_id: String,
    pub name: Option<String>,
    /// Its items counted by status, and its status.
    #[serde(flatten)]
    pub progress: BatchProgressDto,
    pub model_id: Option<String>,
    /// The provider model version asked for, or null (the catalogue's).
    pub model_version: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub steps: Option<u32>,
    /// A float (the original's integer column refused 7.5).
    pub guidance_scale: Option<f64>,
    pub created_at: String,
    /// When the last item ended, once every item has.
    pub completed_at: Option<String>,
}

impl From<&BatchSummary> for BatchDto {
    fn from(summary: &BatchSummary) -> Self {
        let batch = &summary.batch;
        Self {
            id: batch.id.to_string(),
            user_id: batch.user_id.as_str().to_owned(),
            name: Some(batch.name.clone()),
            progress: BatchProgressDto::from(summary),
            model_id: Some(batch.model_id.to_string()),
            model_version: batch.model_version.clone(),
            width: Some(batch.width),
            height: Some(batch.height),
            steps: Some(batch.steps),
            guidance_scale: Some(batch.guidance_scale),
            created_at: timestamp(batch.created_at),
            completed_at: summary.completed_at.map(timestamp),
        }
    }
}

/// One item of a batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct BatchItemDto {
    /// The item's generation id (`GET /generate/:id/status` answers for it).
    pub id: String,
    /// Its position in the batch (0-based).
    pub index: u32,
    pub prompt: String,
    /// `queued` | `processing` | `completed` | `failed` | `cancelled`.
    pub status: String,
    pub error_message: Option<String>,
    /// How often the item was retried.
    pub retry_count: u32,
    /// The image, once completed.
    pub image_url: Option<String>,
}

impl From<&BatchItem> for BatchItemDto {
    fn from(item: &BatchItem) -> Self {
        let generation = &item.generation;
        Self {
            id: generation.record.id.to_string(),
            index: item.index,
            prompt: generation.record.prompt.clone(),
            status: generation.status.as_str().to_owned(),
            error_message: generation.error_message.clone(),
            retry_count: item.retry_count,
            image_url: item.image_url.clone(),
        }
    }
}

/// A batch with its items in order (`BatchWithItems`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchWithItemsDto {
    /// The batch's fields.
    #[serde(flatten)]
    pub batch: BatchDto,
    /// Its items by index.
    pub items: Vec<BatchItemDto>,
}

impl From<&BatchDetail> for BatchWithItemsDto {
    fn from(detail: &BatchDetail) -> Self {
        Self {
            batch: BatchDto::from(&detail.summary),
            items: detail.items.iter().map(BatchItemDto::from).collect(),
        }
    }
}

/// What the progress tracker polls (`GET /batch/:id/progress`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct BatchProgressDto {
    pub total_count: u32,
    pub completed_count: u32,
    pub failed_count: u32,
    pub processing_count: u32,
    /// Items waiting in the queue.
    pub pending_count: u32,
    /// Additive: items cancelled.
    pub cancelled_count: u32,
    /// `pending` | `processing` | `completed` | `partial` | `failed`.
    pub status: String,
}

impl From<&BatchSummary> for BatchProgressDto {
    fn from(summary: &BatchSummary) -> Self {
        let counts = &summary.counts;
        Self {
            total_count: counts.total,
            completed_count: counts.completed,
            failed_count: counts.failed,
            processing_count: counts.processing,
            pending_count: counts.pending,
            cancelled_count: counts.cancelled,
            status: counts.status().as_str().to_owned(),
        }
    }
}
