//! Batches: several prompts generated with shared settings. Each prompt is an ordinary
//! generation carrying the batch's id and its place in it, queued until a worker runs it
//! through the same pipeline as `POST /generate`. A batch's counts and status are derived from
//! its generations when read, so nothing has to keep them in step.

use chrono::{DateTime, Utc};

use crate::generation::{Generation, GenerationStatus};
use crate::ids::{BatchId, ModelId, UserId};

mod request;

pub use request::{BatchPrompt, BatchRequest, RawBatchPrompt, RawBatchRequest};

/// Most prompts one batch may hold.
pub const MAX_BATCH_PROMPTS: usize = 50;

/// How often one item may be retried after failing (`POST /batch/:id/retry`); an item that
/// failed this often is left failed.
pub const MAX_ITEM_RETRIES: u32 = 3;

/// A batch to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBatch {
    /// Its id.
    pub id: BatchId,
    /// Whose it is.
    pub user_id: UserId,
    /// Its name (the client's, or one made from the creation time).
    pub name: String,
    /// The shared model.
    pub model_id: ModelId,
    /// The shared provider model version, if one was asked for.
    pub model_version: Option<String>,
    /// The shared width.
    pub width: u32,
    /// The shared height.
    pub height: u32,
    /// The shared steps.
    pub steps: u32,
    /// The shared guidance scale.
    pub guidance_scale: f64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A batch's items counted by where they stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    /// Every item.
    pub total: u32,
    /// Items with their image.
    pub completed: u32,
    /// Items that failed.
    pub failed: u32,
    /// Items cancelled (by the user, or with their batch).
    pub cancelled: u32,
    /// Items at the provider.
    pub processing: u32,
    /// Items waiting in the queue.
    pub pending: u32,
}

impl BatchCounts {
    /// Counts one item of status `status`.
    pub fn add(&mut self, status: GenerationStatus, how_many: u32) {
        self.total += how_many;
        let slot = match status {
            GenerationStatus::Pending | GenerationStatus::Queued => &mut self.pending,
            GenerationStatus::Processing => &mut self.processing,
            GenerationStatus::Completed => &mut self.completed,
            GenerationStatus::Failed => &mut self.failed,
            GenerationStatus::Cancelled => &mut self.cancelled,
        };
        *slot += how_many;
    }

    /// The batch's status, as the original backend's progress route spelled it: `completed`
    /// when every item completed; `processing` while any item is queued or running (`pending`
    /// before any item has started); once every item ended, `failed` when none completed and
    /// `partial` when some did.
    pub fn status(&self) -> BatchStatus {
        let unfinished = self.pending + self.processing;
        if self.total > 0 && self.completed == self.total {
            BatchStatus::Completed
        } else if unfinished > 0 {
            if unfinished == self.total && self.processing == 0 {
                BatchStatus::Pending
            } else {
                BatchStatus::Processing
            }
        } else if self.completed == 0 {
            BatchStatus::Failed
        } else {
            BatchStatus::Partial
        }
    }
}

/// Where a batch stands as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchStatus {
    /// Nothing has started yet.
    Pending,
    /// Items are queued or running.
    Processing,
    /// Every item completed.
    Completed,
    /// Every item ended, some completed.
    Partial,
    /// Every item ended, none completed.
    Failed,
}

impl BatchStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Partial => "partial",
            Self::Failed => "failed",
        }
    }

    /// Whether every item has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Partial | Self::Failed)
    }
}

/// A recorded batch with its items counted.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSummary {
    /// What was recorded.
    pub batch: NewBatch,
    /// Its items by status.
    pub counts: BatchCounts,
    /// When its last item ended, once every item has.
    pub completed_at: Option<DateTime<Utc>>,
}

/// One item of a batch: its generation and where it sits.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    /// The generation.
    pub generation: Generation,
    /// Its position in the batch (0-based, the prompt's index).
    pub index: u32,
    /// How often it was retried.
    pub retry_count: u32,
    /// Its image's public URL, once completed.
    pub image_url: Option<String>,
}

/// A batch with its items in order.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchDetail {
    /// The batch and its counts.
    pub summary: BatchSummary,
    /// Its items by index.
    pub items: Vec<BatchItem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(statuses: &[(GenerationStatus, u32)]) -> BatchCounts {
        let mut counts = BatchCounts::default();
        for &(status, n) in statuses {
            counts.add(status, n);
        }
        counts
    }

    #[test]
    fn the_status_follows_the_items() {
        use GenerationStatus as G;
        let cases = [
            (vec![(G::Queued, 3)], BatchStatus::Pending),
            (
                vec![(G::Queued, 2), (G::Processing, 1)],
                BatchStatus::Processing,
            ),
            (
                vec![(G::Queued, 2), (G::Completed, 1)],
                BatchStatus::Processing,
            ),
            (vec![(G::Completed, 3)], BatchStatus::Completed),
            (
                vec![(G::Completed, 2), (G::Failed, 1)],
                BatchStatus::Partial,
            ),
            (
                vec![(G::Completed, 2), (G::Cancelled, 1)],
                BatchStatus::Partial,
            ),
            (vec![(G::Failed, 2), (G::Cancelled, 1)], BatchStatus::Failed),
        ];
        for (statuses, expected) in cases {
            assert_eq!(counts(&statuses).status(), expected, "{statuses:?}");
        }
    }

    #[test]
    fn queued_and_pending_both_count_as_pending() {
        let c = counts(&[
            (GenerationStatus::Queued, 2),
            (GenerationStatus::Pending, 1),
            (GenerationStatus::Cancelled, 1),
        ]);
        assert_eq!((c.total, c.pending, c.cancelled), (4, 3, 1));
    }
}
