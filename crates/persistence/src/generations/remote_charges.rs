//! Charges owed to the remote credits service (`remote_charges`, [`RemoteChargeQueue`]): read
//! the due ones, and record each one's outcome once, as [`money::record_charge`] says.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::money::{self, ChargeOutcome, ChargeState, Ledger};
use picture_domain::ports::{DueCharge, RemoteChargeQueue};
use picture_domain::{CreditAmount, GenerationId, RepositoryError, UserId};

use super::DieselGenerationRepository;
use crate::cached_statement::CacheStatement;
use crate::database::with_connection;
use crate::error::{TxError, corrupt, query_error};
use crate::money_events::MoneyEvent;
use crate::money_rows::MoneyRows;
use crate::schema::remote_charges as charges;
use crate::time::to_millis;

#[async_trait]
impl RemoteChargeQueue for DieselGenerationRepository {
    async fn due_charges(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueCharge>, RepositoryError> {
        let older_than = to_millis(older_than);
        let rows: Vec<(String, String, i64)> = with_connection!(self.database, |conn| {
            charges::table
                .filter(charges::state.eq(ChargeState::Due.as_str()))
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

    async fn settle_charge(
        &self,
        id: GenerationId,
        outcome: &ChargeOutcome,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let id = id.to_string();
        let at = to_millis(at);
        let reason = match outcome {
            ChargeOutcome::Charged => None,
            ChargeOutcome::Refused { reason } => Some(reason.as_str()),
        };
        let recorded: Option<MoneyEvent> = with_connection!(self.database, |conn| conn
            .transaction::<_, TxError, _>(async |conn| {
                let due: Option<(String, i64)> = diesel::update(
                    charges::table
                        .filter(charges::generation_id.eq(&id))
                        .filter(charges::state.eq(ChargeState::Due.as_str())),
                )
                .set((
                    charges::state.eq(outcome.state().as_str()),
                    charges::reason.eq(reason),
                    charges::updated_at.eq(at),
                ))
                .returning((charges::user_id, charges::amount))
                .cached()
                .get_result(conn)
                .await
                .optional()?;
                let Some((user, amount)) = due else {
                    return Ok(None);
                };
                let amount = CreditAmount::new(amount).map_err(|e| corrupt("amount", e))?;
                let record = money::record_charge(outcome, amount);
                if let Some(used) = record.credits_used {
                    conn.set_credits_used(&id, used, at).await?;
                }
                Ok(Some(MoneyEvent::new(
                    record.movement,
                    Ledger::Remote,
                    &user,
                    Some(&id),
                )))
            })
            .await
            .map_err(TxError::into_error))?;
        let Some(event) = recorded else {
            return Ok(false);
        };
        event.emit();
        Ok(true)
    }
}
