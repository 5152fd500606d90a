//! The `image_generations` row and its conversion to and from the domain.

use diesel::prelude::*;
use picture_domain::money::{Billing, Ledger};
use picture_domain::{
    Generation, GenerationParams, GenerationStatus, NewGeneration, PredictionId, ProviderName,
    RepositoryError, UserId,
};

use crate::error::corrupt;
use crate::schema::image_generations as generations;
use crate::time::{from_millis, to_millis};

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = generations)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
// `None` is written as NULL (every such column defaults to NULL anyway), so the insert's SQL
// is the same for every row and its prepared statement is cached.
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct GenerationRow {
    pub(crate) id: String,
    user_id: String,
    model_id: Option<String>,
    prompt: String,
    negative_prompt: Option<String>,
    model: Option<String>,
    style: Option<String>,
    source_image_url: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
    steps: Option<i32>,
    guidance_scale: Option<f64>,
    seed: Option<i64>,
    generation_strength: Option<f64>,
    status: String,
    billing: String,
    replicate_prediction_id: Option<String>,
    error_message: Option<String>,
    generation_time_seconds: Option<i32>,
    credits_used: i64,
    ledger: String,
    provider: String,
    created_at: i64,
    updated_at: i64,
    completed_at: Option<i64>,
    batch_id: Option<String>,
    priority: i32,
    retry_count: i32,
}

fn stored(value: u32, what: &str) -> Result<i32, RepositoryError> {
    i32::try_from(value).map_err(|_| corrupt(what, value))
}

fn loaded(value: Option<i32>, what: &str) -> Result<u32, RepositoryError> {
    value
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| corrupt(what, format!("{value:?}")))
}

impl GenerationRow {
    /// When it was created (ms).
    pub(super) fn created_at(&self) -> i64 {
        self.created_at
    }

    pub(crate) fn new(
        generation: &NewGeneration,
        billing: Billing,
        ledger: Ledger,
    ) -> Result<Self, RepositoryError> {
        let at = to_millis(generation.created_at);
        let params = &generation.params;
        Ok(Self {
            id: generation.id.to_string(),
            user_id: generation.user_id.as_str().to_owned(),
            model_id: generation.model_id.map(|id| id.to_string()),
            prompt: generation.prompt.clone(),
            negative_prompt: generation.negative_prompt.clone(),
            model: generation.model_name.clone(),
            style: generation.style.clone(),
            source_image_url: generation.source_image_url.clone(),
            width: Some(stored(params.width, "width")?),
            height: Some(stored(params.height, "height")?),
            steps: Some(stored(params.steps, "steps")?),
            guidance_scale: Some(params.guidance_scale),
            seed: params.seed,
            generation_strength: params.generation_strength,
            status: GenerationStatus::Pending.as_str().to_owned(),
            billing: billing.as_str().to_owned(),
            replicate_prediction_id: None,
            error_message: None,
            generation_time_seconds: None,
            credits_used: 0,
            ledger: ledger.as_str().to_owned(),
            provider: generation.provider.as_str().to_owned(),
            created_at: at,
            updated_at: at,
            completed_at: None,
            batch_id: None,
            priority: 0,
            retry_count: 0,
        })
    }

    /// This row as item `index` of batch `batch`, retried `retry_count` times before: `queued`
    /// until a batch worker claims it.
    pub(crate) fn queued_in(
        mut self,
        batch: &str,
        index: u32,
        retry_count: u32,
    ) -> Result<Self, RepositoryError> {
        self.status = GenerationStatus::Queued.as_str().to_owned();
        self.batch_id = Some(batch.to_owned());
        self.priority = stored(index, "batch index")?;
        self.retry_count = stored(retry_count, "retry count")?;
        Ok(self)
    }

    /// Its place in its batch: the index and how often it was retried.
    pub(crate) fn batch_position(&self) -> Result<(u32, u32), RepositoryError> {
        Ok((
            loaded(Some(self.priority), "batch index")?,
            loaded(Some(self.retry_count), "retry count")?,
        ))
    }

    pub(crate) fn into_generation(self) -> Result<Generation, RepositoryError> {
        if self.credits_used < 0 {
            return Err(corrupt("credits used", self.credits_used));
        }
        Ok(Generation {
            record: NewGeneration {
                id: self
                    .id
                    .parse()
                    .map_err(|_| corrupt("generation id", &self.id))?,
                user_id: UserId::parse(self.user_id).map_err(|e| corrupt("user id", e))?,
                model_id: self
                    .model_id
                    .map(|id| id.parse().map_err(|_| corrupt("model id", id)))
                    .transpose()?,
                model_name: self.model,
                provider: ProviderName::parse(self.provider).map_err(|e| corrupt("provider", e))?,
                prompt: self.prompt,
                negative_prompt: self.negative_prompt,
                style: self.style,
                source_image_url: self.source_image_url,
                params: GenerationParams {
                    width: loaded(self.width, "width")?,
                    height: loaded(self.height, "height")?,
                    steps: loaded(self.steps, "steps")?,
                    guidance_scale: self
                        .guidance_scale
                        .ok_or_else(|| corrupt("guidance_scale", "null"))?,
                    seed: self.seed,
                    generation_strength: self.generation_strength,
                },
                created_at: from_millis(self.created_at)?,
            },
            status: self.status.parse().map_err(|e| corrupt("status", e))?,
            prediction_id: self
                .replicate_prediction_id
                .map(|id| PredictionId::parse(id).map_err(|e| corrupt("prediction id", e)))
                .transpose()?,
            error_message: self.error_message,
            generation_time_seconds: self.generation_time_seconds,
            billing: self.billing.parse().map_err(|e| corrupt("billing", e))?,
            ledger: self.ledger.parse().map_err(|e| corrupt("ledger", e))?,
            credits_used: self.credits_used,
            completed_at: self.completed_at.map(from_millis).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use picture_domain::money::{Billing, Ledger};
    use picture_domain::{GenerationId, GenerationParams, NewGeneration, RepositoryError, UserId};

    use super::GenerationRow;

    fn stored() -> GenerationRow {
        let new = NewGeneration {
            id: GenerationId::new_random(),
            user_id: UserId::parse("u").unwrap(),
            model_id: None,
            model_name: None,
            provider: picture_domain::ProviderName::REPLICATE,
            prompt: "p".into(),
            negative_prompt: None,
            style: None,
            source_image_url: None,
            params: GenerationParams {
                width: 512,
                height: 512,
                steps: 4,
                guidance_scale: 3.5,
                seed: None,
                generation_strength: None,
            },
            created_at: DateTime::UNIX_EPOCH,
        };
        GenerationRow::new(&new, Billing::Paid, Ledger::Remote).unwrap()
    }

    #[test]
    fn a_stored_generation_keeps_its_ledger() {
        let generation = stored().into_generation().unwrap();
        assert_eq!(generation.ledger, Ledger::Remote);
        assert_eq!(generation.billing, Billing::Paid);
    }

    #[test]
    fn unknown_money_text_or_a_negative_charge_is_corrupt() {
        let corruptions: [fn(&mut GenerationRow); 3] = [
            |row| row.ledger = "elsewhere".into(),
            |row| row.billing = "maybe".into(),
            |row| row.credits_used = -10,
        ];
        for corrupt in corruptions {
            let mut row = stored();
            corrupt(&mut row);
            assert!(matches!(
                row.into_generation(),
                Err(RepositoryError::Corrupt(_))
            ));
        }
    }
}
