//! The local credit ledger's balance and grants. Holds, captures and releases happen inside the
//! generation repository's transactions (see `generations.rs`), so a generation's status and its
//! money always move together.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::ports::CreditBalance;
use picture_domain::{CreditAmount, RepositoryError, UserId};

use crate::database::{Database, with_connection};
use crate::error::query_error;
use crate::schema::{credit_accounts as accounts, credit_entries as entries};
use crate::time::to_millis;

/// A user's credit account in our database.
#[derive(Clone)]
pub struct DieselLedger {
    database: Database,
}

/// A user's account as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    /// Spendable, earned and spent credits.
    pub credits: CreditBalance,
    /// Credits held for generations in flight.
    pub held: CreditAmount,
    /// Free generations taken.
    pub free_generations_used: u32,
}

fn amount(value: i64) -> CreditAmount {
    CreditAmount::new(value).unwrap_or(CreditAmount::ZERO)
}

impl DieselLedger {
    /// The ledger in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    /// The account of `user`; a user never seen has an empty one.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    pub async fn account(&self, user: &UserId) -> Result<Account, RepositoryError> {
        let row: Option<(i64, i64, i64, i64, i32)> = with_connection!(self.database, |conn| {
            accounts::table
                .find(user.as_str())
                .select((
                    accounts::balance,
                    accounts::held,
                    accounts::total_earned,
                    accounts::total_spent,
                    accounts::free_generations_used,
                ))
                .first(conn)
                .await
                .optional()
                .map_err(query_error)
        })?;
        let (balance, held, earned, spent, free) = row.unwrap_or_default();
        Ok(Account {
            credits: CreditBalance {
                balance: amount(balance),
                total_earned: amount(earned),
                total_spent: amount(spent),
            },
            held: amount(held),
            free_generations_used: u32::try_from(free).unwrap_or(0),
        })
    }

    /// Adds `credits` to `user`'s balance, once per `idempotency_key`: a repeated key changes
    /// nothing and returns `false`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    pub async fn grant(
        &self,
        user: &UserId,
        credits: CreditAmount,
        reason: &str,
        idempotency_key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let now = to_millis(at);
        let user = user.as_str().to_owned();
        let key = format!("grant:{idempotency_key}");
        let credits = credits.get();
        with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let inserted = diesel::insert_into(entries::table)
                    .values((
                        entries::id.eq(uuid::Uuid::new_v4().to_string()),
                        entries::user_id.eq(&user),
                        entries::kind.eq("grant"),
                        entries::amount.eq(credits),
                        entries::reason.eq(Some(reason)),
                        entries::idempotency_key.eq(&key),
                        entries::created_at.eq(now),
                    ))
                    .on_conflict(entries::idempotency_key)
                    .do_nothing()
                    .execute(conn)
                    .await?;
                if inserted == 0 {
                    return Ok(false);
                }
                diesel::insert_into(accounts::table)
                    .values((
                        accounts::user_id.eq(&user),
                        accounts::created_at.eq(now),
                        accounts::updated_at.eq(now),
                    ))
                    .on_conflict(accounts::user_id)
                    .do_nothing()
                    .execute(conn)
                    .await?;
                diesel::update(accounts::table.find(&user))
                    .set((
                        accounts::balance.eq(accounts::balance + credits),
                        accounts::total_earned.eq(accounts::total_earned + credits),
                        accounts::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
                Ok(true)
            })
            .await
            .map_err(query_error))
    }
}
