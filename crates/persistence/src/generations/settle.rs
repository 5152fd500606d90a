//! Ending a generation (failed, cancelled) and settling its money, in one transaction: the
//! status compare-and-set, then [`money::settle`] applied to the account and ledger rows.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::money::{self, Billing, Hold, Ledger, Outcome};
use picture_domain::{CreditAmount, RepositoryError};

use super::DieselGenerationRepository;
use crate::cached_statement::CacheStatement;
use crate::database::with_connection;
use crate::error::{TxError, corrupt};
use crate::money_events::{MoneyEvent, emit_all};
use crate::money_rows::{EntryRow, MoneyRows};
use crate::schema::image_generations as generations;

/// A generation's owner and how it is paid (returned by its status update).
#[derive(Debug, Clone, Copy)]
pub(super) struct Payer<'a> {
    /// The owner.
    pub(super) user: &'a str,
    /// How it is paid for.
    pub(super) billing: Billing,
    /// Where its credits are kept.
    pub(super) ledger: Ledger,
}

/// What settling wrote: the generation's `credits_used` when it changed, the charge now due to
/// the remote service, and the events to emit after the commit.
#[derive(Debug, Default)]
pub(super) struct Settled {
    pub(super) credits_used: Option<CreditAmount>,
    pub(super) due: Option<(String, CreditAmount)>,
    pub(super) events: Vec<MoneyEvent>,
}

/// Settles the money of generation `id`, paid by `payer`, that ended with `outcome` at `at`
/// (ms), inside the transaction that moved its status: reads its ledger entries only when the
/// rule needs its hold, and applies the account change as one guarded statement.
pub(super) async fn settle_money<C: MoneyRows>(
    conn: &mut C,
    id: &str,
    payer: Payer<'_>,
    outcome: Outcome,
    at: i64,
) -> Result<Settled, TxError> {
    let Payer {
        user,
        billing,
        ledger,
    } = payer;
    let hold = if money::needs_hold(billing) {
        conn.hold_of(id).await?
    } else {
        Hold::default()
    };
    let settlement = money::settle(billing, ledger, outcome, hold);
    if let Some(entry) = settlement.entry
        && !conn
            .append_entry(&EntryRow::of_generation(user, id, entry, at))
            .await?
    {
        // Settled by a concurrent transaction after `hold_of` read the entries: the status
        // compare-and-set makes this unreachable, and then this one changes nothing.
        return Ok(Settled::default());
    }
    if let Some(change) = settlement.change
        && !conn.apply_change(user, &change, at).await?
    {
        // The rule does not apply to the account as it is (no free slot to give back).
        return Ok(Settled::default());
    }
    if let Some(amount) = settlement.credits_used {
        conn.set_credits_used(id, amount, at).await?;
    }
    if let Some(amount) = settlement.due_charge {
        conn.add_due_charge(id, user, amount, at).await?;
    }
    let events = settlement
        .movement
        .map(|movement| MoneyEvent::new(movement, ledger, user, Some(id)))
        .into_iter()
        .collect();
    Ok(Settled {
        credits_used: settlement.credits_used,
        due: settlement
            .due_charge
            .map(|amount| (user.to_owned(), amount)),
        events,
    })
}

impl DieselGenerationRepository {
    /// Moves generation `id` from a status in `from` to the terminal `status` with `message`
    /// at `at` (ms), giving its free slot or hold back, in one transaction. Refused while a
    /// finalisation lease is live at `at`, unless `holder` is its token.
    pub(super) async fn end_as(
        &self,
        id: &str,
        status: &str,
        from: &[&str],
        message: &str,
        at: i64,
        holder: Option<&str>,
    ) -> Result<bool, RepositoryError> {
        let moved: Option<Vec<MoneyEvent>> = with_connection!(self.database, |conn| conn
            .transaction::<_, TxError, _>(async |conn| {
                // Only the lease's holder ends a generation while its lease is live.
                let guarded = generations::table
                    .filter(generations::id.eq(id))
                    .filter(generations::status.eq_any(from))
                    .filter(
                        generations::finalize_lease_owner
                            .eq(holder)
                            .or(generations::finalize_lease_until.is_null())
                            .or(generations::finalize_lease_until.lt(at)),
                    );
                let stored: Option<(String, String, String)> = diesel::update(guarded)
                    .set((
                        generations::status.eq(status),
                        generations::error_message.eq(Some(message)),
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
                let Some((user, billing, ledger)) = stored else {
                    return Ok(None);
                };
                let payer = Payer {
                    user: &user,
                    billing: billing.parse().map_err(|e| corrupt("billing", e))?,
                    ledger: ledger.parse().map_err(|e| corrupt("ledger", e))?,
                };
                let settled = settle_money(conn, id, payer, Outcome::Ended, at).await?;
                Ok(Some(settled.events))
            })
            .await
            .map_err(TxError::into_error))?;
        Ok(moved.map(|events| emit_all(&events)).is_some())
    }
}
