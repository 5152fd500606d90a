//! Completing a generation, in one transaction: the status compare-and-set as the lease's
//! holder, its image row, and its hold captured ([`settle_money`] with
//! [`Outcome::Completed`]); it answers the generation as committed, so nobody reads it back.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::money::Outcome;
use picture_domain::ports::{Completion, DueCharge, LeaseToken};
use picture_domain::{GenerationId, GenerationStatus, NewImage, RepositoryError, UserId};

use super::row::GenerationRow;
use super::settle::{Payer, Settled, settle_money};
use super::{DieselGenerationRepository, predecessors};
use crate::cached_statement::CacheStatement;
use crate::database::with_connection;
use crate::error::{TxError, corrupt};
use crate::images::ImageRow;
use crate::money_events::emit_all;
use crate::schema::image_generations as generations;
use crate::schema::images;
use crate::time::to_millis;

impl DieselGenerationRepository {
    pub(super) async fn complete_with(
        &self,
        id: GenerationId,
        token: &LeaseToken,
        image: &NewImage,
        generation_time_seconds: Option<i32>,
        at: DateTime<Utc>,
    ) -> Result<Option<Completion>, RepositoryError> {
        let from = predecessors(GenerationStatus::Completed);
        let generation = id;
        let id = id.to_string();
        let at = to_millis(at);
        let image_row = ImageRow::new(image)?;
        let stored: Option<(GenerationRow, ImageRow, Settled)> =
            with_connection!(self.database, |conn| conn
                .transaction::<_, TxError, _>(async |conn| {
                    let payer: Option<Payer> = diesel::update(
                        generations::table
                            .filter(generations::id.eq(&id))
                            .filter(generations::status.eq_any(&from))
                            .filter(generations::finalize_lease_owner.eq(token.as_str())),
                    )
                    .set((
                        generations::status.eq(GenerationStatus::Completed.as_str()),
                        generations::generation_time_seconds.eq(generation_time_seconds),
                        generations::completed_at.eq(Some(at)),
                        generations::updated_at.eq(at),
                        generations::finalize_lease_until.eq(None::<i64>),
                        generations::finalize_lease_owner.eq(None::<&str>),
                    ))
                    .returning((
                        generations::user_id,
                        generations::billing,
                        generations::ledger,
                    ))
                    .cached()
                    .get_result(conn)
                    .await
                    .optional()?;
                    let Some(payer) = payer else {
                        return Ok(None);
                    };
                    let stored: ImageRow = diesel::insert_into(images::table)
                        .values(&image_row)
                        .returning(ImageRow::as_returning())
                        .get_result(conn)
                        .await?;
                    let settled = settle_money(conn, &id, payer, Outcome::Completed, at).await?;
                    // The row as committed (with `credits_used` once captured), for the caller.
                    let completed: GenerationRow = generations::table
                        .find(&id)
                        .select(GenerationRow::as_select())
                        .first(conn)
                        .await?;
                    Ok(Some((completed, stored, settled)))
                })
                .await
                .map_err(TxError::into_error))?;
        let Some((completed, row, settled)) = stored else {
            return Ok(None);
        };
        emit_all(&settled.events);
        let charge = settled
            .due
            .map(|(user, amount)| {
                Ok::<_, RepositoryError>(DueCharge {
                    generation_id: generation,
                    user_id: UserId::parse(user).map_err(|e| corrupt("user id", e))?,
                    amount,
                })
            })
            .transpose()?;
        Ok(Some(Completion {
            generation: completed.into_generation()?,
            image: row.into_image()?,
            charge,
        }))
    }
}
