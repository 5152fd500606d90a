//! The `batch_generations` row, and a batch's items counted from `image_generations`.

use std::collections::HashMap;

use diesel::prelude::*;
use picture_domain::batch::{BatchCounts, BatchSummary, NewBatch};
use picture_domain::{GenerationStatus, RepositoryError, UserId};

use crate::error::corrupt;
use crate::schema::batch_generations as batches;
use crate::time::{from_millis, to_millis};

/// A `batch_generations` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = batches)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(super) struct BatchRow {
    pub(super) id: String,
    user_id: String,
    name: String,
    model_id: Option<String>,
    pub(super) model_version: Option<String>,
    width: i32,
    height: i32,
    steps: i32,
    guidance_scale: f64,
    created_at: i64,
}

fn stored(value: u32, what: &str) -> Result<i32, RepositoryError> {
    i32::try_from(value).map_err(|_| corrupt(what, value))
}

fn loaded(value: i32, what: &str) -> Result<u32, RepositoryError> {
    u32::try_from(value).map_err(|_| corrupt(what, value))
}

impl BatchRow {
    /// The row of `batch`.
    pub(super) fn new(batch: &NewBatch) -> Result<Self, RepositoryError> {
        Ok(Self {
            id: batch.id.to_string(),
            user_id: batch.user_id.as_str().to_owned(),
            name: batch.name.clone(),
            model_id: Some(batch.model_id.to_string()),
            model_version: batch.model_version.clone(),
            width: stored(batch.width, "width")?,
            height: stored(batch.height, "height")?,
            steps: stored(batch.steps, "steps")?,
            guidance_scale: batch.guidance_scale,
            created_at: to_millis(batch.created_at),
        })
    }

    /// The batch this row records, with `counts` of its items, the last of which changed at
    /// `last_change` (ms).
    pub(super) fn into_summary(
        self,
        counts: BatchCounts,
        last_change: Option<i64>,
    ) -> Result<BatchSummary, RepositoryError> {
        let model_id = self
            .model_id
            .as_deref()
            .ok_or_else(|| corrupt("batch model id", "null"))?
            .parse()
            .map_err(|_| corrupt("batch model id", format!("{:?}", self.model_id)))?;
        let completed_at = match last_change {
            Some(at) if counts.status().is_final() => Some(from_millis(at)?),
            _ => None,
        };
        Ok(BatchSummary {
            batch: NewBatch {
                id: self.id.parse().map_err(|_| corrupt("batch id", &self.id))?,
                user_id: UserId::parse(self.user_id).map_err(|e| corrupt("user id", e))?,
                name: self.name,
                model_id,
                model_version: self.model_version,
                width: loaded(self.width, "width")?,
                height: loaded(self.height, "height")?,
                steps: loaded(self.steps, "steps")?,
                guidance_scale: self.guidance_scale,
                created_at: from_millis(self.created_at)?,
            },
            counts,
            completed_at,
        })
    }
}

/// Per batch: its items counted by status, and when the last of them changed.
#[derive(Debug, Default)]
pub(super) struct Tally(HashMap<String, (BatchCounts, Option<i64>)>);

impl Tally {
    /// Tallies rows of `(batch id, status, how many, last change)`.
    pub(super) fn of(
        rows: Vec<(Option<String>, String, i64, Option<i64>)>,
    ) -> Result<Self, RepositoryError> {
        let mut tally = Self::default();
        for (batch, status, count, last) in rows {
            let Some(batch) = batch else { continue };
            let status: GenerationStatus = status.parse().map_err(|e| corrupt("status", e))?;
            let count = u32::try_from(count).map_err(|_| corrupt("item count", count))?;
            let entry = tally.0.entry(batch).or_default();
            entry.0.add(status, count);
            entry.1 = entry.1.max(last);
        }
        Ok(tally)
    }

    /// The counts of batch `id` (none counted: an empty batch).
    pub(super) fn take(&mut self, id: &str) -> (BatchCounts, Option<i64>) {
        self.0.remove(id).unwrap_or_default()
    }
}
