//! Reading generations ([`GenerationReads`]).

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::ports::GenerationReads;
use picture_domain::{
    Generation, GenerationId, GenerationStatus, PredictionId, RepositoryError, UserId,
};

use super::DieselGenerationRepository;
use super::row::GenerationRow;
use crate::database::with_connection;
use crate::error::query_error;
use crate::schema::image_generations as generations;

/// How a single generation is looked up.
enum Lookup<'a> {
    Id(String),
    IdOfUser(String, &'a str),
    Prediction(&'a str),
}

impl DieselGenerationRepository {
    async fn find_one(&self, lookup: Lookup<'_>) -> Result<Option<Generation>, RepositoryError> {
        let row: Option<GenerationRow> = with_connection!(self.database, |conn| {
            let query = generations::table.into_boxed();
            let query = match &lookup {
                Lookup::Id(id) => query.filter(generations::id.eq(id)),
                Lookup::IdOfUser(id, user) => query
                    .filter(generations::id.eq(id))
                    .filter(generations::user_id.eq(*user)),
                Lookup::Prediction(prediction) => {
                    query.filter(generations::replicate_prediction_id.eq(*prediction))
                }
            };
            query
                .select(GenerationRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(query_error)
        })?;
        row.map(GenerationRow::into_generation).transpose()
    }
}

#[async_trait]
impl GenerationReads for DieselGenerationRepository {
    async fn find(&self, id: GenerationId) -> Result<Option<Generation>, RepositoryError> {
        self.find_one(Lookup::Id(id.to_string())).await
    }

    async fn find_for_user(
        &self,
        user: &UserId,
        id: GenerationId,
    ) -> Result<Option<Generation>, RepositoryError> {
        self.find_one(Lookup::IdOfUser(id.to_string(), user.as_str()))
            .await
    }

    async fn find_by_prediction(
        &self,
        prediction_id: &PredictionId,
    ) -> Result<Option<Generation>, RepositoryError> {
        self.find_one(Lookup::Prediction(prediction_id.as_str()))
            .await
    }

    async fn history(
        &self,
        user: &UserId,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Generation>, u64), RepositoryError> {
        let user = user.as_str();
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (rows, total): (Vec<GenerationRow>, i64) = with_connection!(self.database, |conn| {
            let total: i64 = generations::table
                .filter(generations::user_id.eq(user))
                .count()
                .get_result(conn)
                .await
                .map_err(query_error)?;
            let rows = generations::table
                .filter(generations::user_id.eq(user))
                .order((generations::created_at.desc(), generations::id.desc()))
                .offset(offset)
                .limit(i64::from(limit))
                .select(GenerationRow::as_select())
                .load(conn)
                .await
                .map_err(query_error)?;
            Ok::<_, RepositoryError>((rows, total))
        })?;
        let generations = rows
            .into_iter()
            .map(GenerationRow::into_generation)
            .collect::<Result<_, _>>()?;
        Ok((generations, u64::try_from(total).unwrap_or(0)))
    }

    async fn active(&self, user: &UserId, limit: u32) -> Result<Vec<Generation>, RepositoryError> {
        let user = user.as_str();
        let unfinished = [
            GenerationStatus::Pending.as_str(),
            GenerationStatus::Queued.as_str(),
            GenerationStatus::Processing.as_str(),
        ];
        let rows: Vec<GenerationRow> = with_connection!(self.database, |conn| generations::table
            .filter(generations::user_id.eq(user))
            .filter(generations::status.eq_any(unfinished))
            .order((
                generations::created_at.asc(),
                generations::priority.asc(),
                generations::id.asc()
            ))
            .limit(i64::from(limit))
            .select(GenerationRow::as_select())
            .load(conn)
            .await
            .map_err(query_error))?;
        rows.into_iter()
            .map(GenerationRow::into_generation)
            .collect()
    }
}
