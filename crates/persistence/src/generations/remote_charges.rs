//! Charges owed to the remote credits service (`remote_charges`): read the due ones, and
//! record each one's outcome once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::ports::{ChargeOutcome, DueCharge};
use picture_domain::{CreditAmount, GenerationId, RepositoryError, UserId};

use super::{DieselGenerationRepository, money_event};
use crate::cached_statement::CacheStatement;
use crate::database::with_connection;
use crate::error::{corrupt, query_error};
use crate::money_events::emit_all;
use crate::schema::image_generations as generations;
use crate::schema::remote_charges as charges;
use crate::time::to_millis;

impl DieselGenerationRepository {
    pub(super) async fn due_charges_before(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueCharge>, RepositoryError> {
        let older_than = to_millis(older_than);
        let rows: Vec<(String, String, i64)> = with_connection!(self.database, |conn| {
            charges::table
                .filter(charges::state.eq("due"))
                .filter(charges::created_at.lt(older_than))
                .order(charges::created_at.asc())
                .limit(i64::from(limit))
                .select((charges::generation_id, charges::user_id, charges::amount))
                .load(conn)
                .await
                .map_err(query_error)
        })?;
        rows.into_iter()
            .map(|(generation, user, amount)| {
                Ok(DueCharge {
                    generation_id: generation
                        .parse()
                        .map_err(|_| corrupt("generation id", &generation))?,
                    user_id: UserId::parse(user).map_err(|e| corrupt("user id", e))?,
                    amount: CreditAmount::new(amount).map_err(|e| corrupt("amount", e))?,
                })
            })
            .collect()
    }

    pub(super) async fn record_charge(
        &self,
        id: GenerationId,
        outcome: &ChargeOutcome,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let id = id.to_string();
        let at = to_millis(at);
        let (state, reason) = match outcome {
            ChargeOutcome::Charged => ("charged", None),
            ChargeOutcome::Refused { reason } => ("refused", Some(reason.as_str())),
        };
        let recorded: Option<(String, i64)> = with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let updated = diesel::update(
                    charges::table
                        .filter(charges::generation_id.eq(&id))
                        .filter(charges::state.eq("due")),
                )
                .set((
                    charges::state.eq(state),
                    charges::reason.eq(reason),
                    charges::updated_at.eq(at),
                ))
                .cached()
                .execute(conn)
                .await?;
                if updated != 1 {
                    return Ok(None);
                }
                let (user, amount): (String, i64) = charges::table
                    .find(&id)
                    .select((charges::user_id, charges::amount))
                    .first(conn)
                    .await?;
                if matches!(outcome, ChargeOutcome::Charged) {
                    diesel::update(generations::table.find(&id))
                        .set((
                            generations::credits_used.eq(amount),
                            generations::updated_at.eq(at),
                        ))
                        .cached()
                        .execute(conn)
                        .await?;
                }
                Ok(Some((user, amount)))
            })
            .await
            .map_err(query_error))?;
        let Some((user, amount)) = recorded else {
            return Ok(false);
        };
        let op = match outcome {
            ChargeOutcome::Charged => "charge",
            ChargeOutcome::Refused { .. } => "charge_refused",
        };
        emit_all(&[money_event(op, "remote", &user, &id, amount)]);
        Ok(true)
    }
}
