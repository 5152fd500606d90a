//! Creating a generation: the access decision, the free slot or the credit hold, and the row,
//! in one transaction serialised on the user's account.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::ports::{Created, Funds, Refusal};
use picture_domain::{
    AccessDecision, Billing, CreditAmount, FreemiumPolicy, NewGeneration, RepositoryError,
};

use super::record::{AccountWrite, RecordCreation, Writes};
use super::row::GenerationRow;
use super::{DieselGenerationRepository, money_event};
use crate::cached_statement::CacheStatement;
use crate::database::with_connection;
use crate::error::query_error;
use crate::money_events::{MoneyEvent, emit_all};
use crate::schema::credit_accounts as accounts;
use crate::time::to_millis;

/// A transaction's failure: the database's, or a refusal (which rolls back too).
enum TxError {
    Db(diesel::result::Error),
    Refused(Refusal),
}

impl From<diesel::result::Error> for TxError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Db(error)
    }
}

/// What the transaction decided, for the caller.
struct Decided {
    row: GenerationRow,
    decision: AccessDecision,
    free_used_after: u32,
    balance_after: Option<CreditAmount>,
    events: Vec<MoneyEvent>,
}

/// What the decision is made with: the account, the funds, and the policy.
fn decide(
    policy: &FreemiumPolicy,
    funds: Funds,
    free_used: u32,
    balance: CreditAmount,
    held: CreditAmount,
) -> Result<AccessDecision, Refusal> {
    let available = match funds {
        Funds::Local => balance,
        Funds::Remote(remote) => remote.checked_sub(held).unwrap_or(CreditAmount::ZERO),
        Funds::RemoteNotFetched | Funds::RemoteUnavailable => CreditAmount::ZERO,
    };
    if policy.needs_balance(free_used) {
        match funds {
            Funds::RemoteNotFetched => return Err(Refusal::BalanceNeeded),
            Funds::RemoteUnavailable => return Ok(AccessDecision::Unbilled),
            Funds::Local | Funds::Remote(_) => {}
        }
    }
    policy
        .decide(free_used, available)
        .map_err(Refusal::Insufficient)
}

impl DieselGenerationRepository {
    pub(super) async fn create_with(
        &self,
        generation: &NewGeneration,
        policy: &FreemiumPolicy,
        funds: Funds,
    ) -> Result<Result<Created, Refusal>, RepositoryError> {
        let user = generation.user_id.as_str().to_owned();
        let id = generation.id.to_string();
        let now = to_millis(generation.created_at);
        let policy = *policy;
        let ledger = match funds {
            Funds::Local => "local",
            Funds::Remote(_) | Funds::RemoteNotFetched | Funds::RemoteUnavailable => "remote",
        };
        let outcome = with_connection!(self.database, |conn| conn
            .transaction::<_, TxError, _>(async |conn| {
                // One upsert that creates or touches the account row and reads it back: a
                // write, so it locks the row on PostgreSQL and takes the database write lock
                // on SQLite, and concurrent requests of one user are decided one after the
                // other (one round trip instead of insert, update and select).
                let (free_used, balance, held): (i32, i64, i64) =
                    diesel::insert_into(accounts::table)
                        .values((
                            accounts::user_id.eq(&user),
                            accounts::created_at.eq(now),
                            accounts::updated_at.eq(now),
                        ))
                        .on_conflict(accounts::user_id)
                        .do_update()
                        .set(accounts::updated_at.eq(now))
                        .returning((
                            accounts::free_generations_used,
                            accounts::balance,
                            accounts::held,
                        ))
                        .cached()
                        .get_result(conn)
                        .await?;
                let free_used = u32::try_from(free_used).unwrap_or(0);
                let balance = CreditAmount::new(balance).unwrap_or(CreditAmount::ZERO);
                let held = CreditAmount::new(held).unwrap_or(CreditAmount::ZERO);
                let decision =
                    decide(&policy, funds, free_used, balance, held).map_err(TxError::Refused)?;
                let mut events = Vec::new();
                let event = |op, amount| money_event(op, ledger, &user, &id, amount);
                let mut balance_after = (ledger == "local").then_some(balance);
                let (billing, free_used_after, account) = match decision {
                    AccessDecision::Free { .. } => {
                        events.push(event("free_slot_taken", 0));
                        (Billing::Free, free_used + 1, AccountWrite::TakeFreeSlot)
                    }
                    AccessDecision::Paid { amount } => {
                        let price = amount.get();
                        events.push(event("reserve", price));
                        let from_balance = if ledger == "local" {
                            balance_after = balance.checked_sub(amount);
                            price
                        } else {
                            0
                        };
                        let account = AccountWrite::Hold {
                            price,
                            from_balance,
                        };
                        (Billing::Paid, free_used, account)
                    }
                    AccessDecision::Unbilled => {
                        events.push(event("unbilled", 0));
                        (Billing::Unbilled, free_used, AccountWrite::Nothing)
                    }
                };
                let row = GenerationRow::new(generation, billing, ledger).map_err(|e| {
                    TxError::Db(diesel::result::Error::SerializationError(Box::new(e)))
                })?;
                let writes = Writes {
                    user: &user,
                    id: &id,
                    now,
                    account,
                    row: &row,
                };
                if conn.record(&writes).await? != 1 {
                    return Err(TxError::Db(diesel::result::Error::RollbackTransaction));
                }
                Ok(Decided {
                    row,
                    decision,
                    free_used_after,
                    balance_after,
                    events,
                })
            })
            .await
            .map_or_else(
                |e| match e {
                    TxError::Refused(refusal) => Ok(Err(refusal)),
                    TxError::Db(e) => Err(query_error(e)),
                },
                |ok| Ok(Ok(ok))
            ))?;
        match outcome {
            Err(refusal) => Ok(Err(refusal)),
            Ok(decided) => {
                emit_all(&decided.events);
                Ok(Ok(Created {
                    generation: decided.row.into_generation()?,
                    decision: decided.decision,
                    free_generations_remaining: policy.free_remaining(decided.free_used_after),
                    balance_after: decided.balance_after,
                }))
            }
        }
    }
}
