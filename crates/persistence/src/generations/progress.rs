//! Progress a provider reports for a processing generation: an event in the live event log.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::RunQueryDsl;
use picture_domain::{GenerationId, GenerationStatus, Progress, RepositoryError};

use super::DieselGenerationRepository;
use crate::database::with_connection;
use crate::error::query_error;
use crate::schema::{image_generations as generations, live_events as events};
use crate::time::to_millis;

/// `kind` of a generation's events.
const GENERATION_EVENT: &str = "generation";

impl DieselGenerationRepository {
    /// `INSERT INTO live_events … SELECT … FROM image_generations WHERE id = :id AND status =
    /// 'processing' AND NOT EXISTS (an event of it at least this far along)`: `true` when it
    /// wrote the event.
    pub(super) async fn insert_progress(
        &self,
        id: GenerationId,
        progress: Progress,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let id = id.to_string();
        let fraction = progress.fraction();
        let now = to_millis(at);
        let written: usize = with_connection!(self.database, |conn| {
            let further = diesel::dsl::not(diesel::dsl::exists(
                events::table
                    .filter(events::generation_id.eq(&id))
                    .filter(events::progress.ge(fraction)),
            ));
            let source = generations::table
                .filter(generations::id.eq(&id))
                .filter(generations::status.eq(GenerationStatus::Processing.as_str()))
                .filter(further)
                .select((
                    generations::user_id,
                    GENERATION_EVENT.into_sql::<Text>(),
                    generations::id.nullable(),
                    generations::batch_id,
                    generations::status.nullable(),
                    Some(fraction).into_sql::<Nullable<Double>>(),
                    now.into_sql::<BigInt>(),
                ));
            diesel::insert_into(events::table)
                .values(source)
                .into_columns((
                    events::user_id,
                    events::kind,
                    events::generation_id,
                    events::batch_id,
                    events::status,
                    events::progress,
                    events::created_at,
                ))
                .execute(conn)
                .await
                .map_err(query_error)
        })?;
        Ok(written == 1)
    }
}
