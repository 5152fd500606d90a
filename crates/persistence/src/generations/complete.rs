//! Completing a generation, in one transaction: the status compare-and-set as the lease's
//! holder (returning the row), its image row, and its hold captured ([`settle_money`] with
//! [`Outcome::Completed`]); it answers the generation as committed — the row the status update
//! returned, with the `credits_used` the capture set — so nobody reads it back.

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
        let generation_id = id;
        let id = id.to_string();
        let at = to_millis(at);
        let image_row = ImageRow::new(image)?;
        let stored: Option<(GenerationRow, ImageRow, Settled)> =
            with_connection!(self.database, |conn| conn
                .transaction::<_, TxError, _>(async |conn| {
                    let stored: Option<(GenerationRow, (String, String, String))> = diesel::update(
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
                        GenerationRow::as_returning(),
                        (
                            generations::user_id,
                            generations::billing,
                            generations::ledger,
                        ),
                    ))
                    .cached()
                    .get_result(conn)
                    .await
                    .optional()?;
                    let Some((completed, (user, billing, ledger))) = stored else {
                        return Ok(None);
                    };
                    let stored: ImageRow = diesel::insert_into(images::table)
                        .values(&image_row)
                        .returning(ImageRow::as_returning())
                        .get_result(conn)
                        .await?;
                    let payer = Payer {
                        user: &user,
                        billing: billing.parse().map_err(|e| corrupt("billing", e))?,
                        ledger: ledger.parse().map_err(|e| corrupt("ledger", e))?,
                    };
                    let settled = settle_money(conn, &id, payer, Outcome::Completed, at).await?;
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
                    generation_id,
                    user_id: UserId::parse(user).map_err(|e| corrupt("user id", e))?,
                    amount,
                })
            })
            .transpose()?;
        // The row as committed: the status update returned it, and the capture then set its
        // `credits_used`.
        let mut generation = completed.into_generation()?;
        if let Some(amount) = settled.credits_used {
            generation.credits_used = amount.get();
        }
        Ok(Some(Completion {
            generation,
            image: row.into_image()?,
            charge,
        }))
    }
}
