//! Where the money model's results are stored: the `credit_accounts` row, the append-only
//! `credit_entries`, a completed generation's `credits_used` and its due `remote_charges` row.
//! These only read and write what [`picture_domain::money`] decided; the same statements run on
//! both backends.

use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use picture_domain::money::{
    AccountChange, ChargeState, CreditAccount, Entry, Hold, Inconsistent, Shortfall,
};
use picture_domain::ports::CreditBalance;
use picture_domain::{CreditAmount, RepositoryError};

use crate::cached_statement::CacheStatement;
use crate::database::SqliteAsync;
use crate::error::{TxError, corrupt};
use crate::schema::image_generations as generations;
use crate::schema::remote_charges as charges;
use crate::schema::{credit_accounts as accounts, credit_entries as entries};

/// A `credit_accounts` row's money columns.
#[derive(Debug, Clone, Copy, Queryable, Selectable)]
#[diesel(table_name = accounts)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct AccountRow {
    balance: i64,
    held: i64,
    total_earned: i64,
    total_spent: i64,
    free_generations_used: i32,
}

fn stored_amount(value: i64, what: &str) -> Result<CreditAmount, RepositoryError> {
    CreditAmount::new(value).map_err(|e| corrupt(what, format!("{value}: {e}")))
}

impl AccountRow {
    /// The account it stores.
    ///
    /// # Errors
    /// [`RepositoryError::Corrupt`] for a negative amount or free-generation count.
    pub(crate) fn into_account(self) -> Result<CreditAccount, RepositoryError> {
        Ok(CreditAccount {
            credits: CreditBalance {
                balance: stored_amount(self.balance, "balance")?,
                total_earned: stored_amount(self.total_earned, "total earned")?,
                total_spent: stored_amount(self.total_spent, "total spent")?,
            },
            held: stored_amount(self.held, "held")?,
            free_generations_used: u32::try_from(self.free_generations_used)
                .map_err(|_| corrupt("free generations used", self.free_generations_used))?,
        })
    }
}

/// The `credit_accounts` columns that store an account, written as a whole.
#[derive(Debug, Clone, Copy, AsChangeset)]
#[diesel(table_name = accounts)]
pub(crate) struct AccountValues {
    balance: i64,
    held: i64,
    total_earned: i64,
    total_spent: i64,
    free_generations_used: i32,
    updated_at: i64,
}

impl AccountValues {
    /// `account`'s columns, written at `now` (ms).
    ///
    /// # Errors
    /// [`RepositoryError::Corrupt`] when the free-generation count does not fit the column.
    pub(crate) fn new(account: &CreditAccount, now: i64) -> Result<Self, RepositoryError> {
        Ok(Self {
            balance: account.credits.balance.get(),
            held: account.held.get(),
            total_earned: account.credits.total_earned.get(),
            total_spent: account.credits.total_spent.get(),
            free_generations_used: i32::try_from(account.free_generations_used)
                .map_err(|_| corrupt("free generations used", account.free_generations_used))?,
            updated_at: now,
        })
    }
}

/// A `credit_entries` row to append.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = entries)]
// `None` is written as NULL (the columns' default anyway), so the insert's SQL is the same for
// every row and its prepared statement is cached (diesel refuses to cache an insert that may
// write DEFAULT).
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct EntryRow<'a> {
    id: String,
    user_id: &'a str,
    generation_id: Option<&'a str>,
    kind: &'static str,
    amount: i64,
    reason: Option<&'a str>,
    idempotency_key: String,
    created_at: i64,
}

impl<'a> EntryRow<'a> {
    /// `entry` of `user`'s generation `generation`, at `now` (ms).
    pub(crate) fn of_generation(
        user: &'a str,
        generation: &'a str,
        entry: Entry,
        now: i64,
    ) -> Self {
        Self::new(user, Some(generation), generation, entry, None, now)
    }

    /// `entry` of `user`, once per `subject` (a generation id or a grant's key).
    pub(crate) fn new(
        user: &'a str,
        generation: Option<&'a str>,
        subject: &str,
        entry: Entry,
        reason: Option<&'a str>,
        now: i64,
    ) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user,
            generation_id: generation,
            kind: entry.kind.as_str(),
            amount: entry.amount.get(),
            reason,
            idempotency_key: entry.kind.key(subject),
            created_at: now,
        }
    }
}

/// The statement that writes `$values` ([`AccountValues`]) to `$user`'s account.
macro_rules! update_account {
    ($user:expr, $values:expr) => {
        diesel::update(accounts::table.find($user))
            .set($values)
            .cached()
    };
}
pub(crate) use update_account;

/// Reading and writing the money rows inside a transaction, on either backend.
pub(crate) trait MoneyRows {
    /// `user`'s account, created empty at `now` (ms) when missing, and locked until the
    /// transaction ends (an upsert: it locks the row on PostgreSQL and takes the write lock on
    /// SQLite), so concurrent money moves of one user apply one after the other.
    async fn lock_account(&mut self, user: &str, now: i64) -> Result<CreditAccount, TxError>;

    /// Writes `account` to `user`'s (locked) account row at `now` (ms).
    async fn write_account(
        &mut self,
        user: &str,
        account: &CreditAccount,
        now: i64,
    ) -> Result<(), TxError>;

    /// Applies `change` to `user`'s account at `now` (ms) as one statement guarded by the
    /// ranges its delta [`admits`](picture_domain::money::AccountDelta::admits), without
    /// reading the account: `true` when applied. A change not admitted is
    /// [`Shortfall::Inconsistent`]'s error, or — for [`Shortfall::NoChange`] — `false` after
    /// the account is read to tell a rule that does not apply from a corrupt stored value.
    async fn apply_change(
        &mut self,
        user: &str,
        change: &AccountChange,
        now: i64,
    ) -> Result<bool, TxError>;

    /// Appends `row` unless an entry with its idempotency key exists: `true` when appended.
    async fn append_entry(&mut self, row: &EntryRow<'_>) -> QueryResult<bool>;

    /// The hold of generation `id`, from its ledger entries.
    async fn hold_of(&mut self, id: &str) -> Result<Hold, TxError>;

    /// Sets generation `id`'s `credits_used` at `now` (ms).
    async fn set_credits_used(
        &mut self,
        id: &str,
        amount: CreditAmount,
        now: i64,
    ) -> QueryResult<()>;

    /// Records the charge of `amount` owed by `user` for generation `id` as due.
    async fn add_due_charge(
        &mut self,
        id: &str,
        user: &str,
        amount: CreditAmount,
        now: i64,
    ) -> QueryResult<()>;
}

/// Implements [`MoneyRows`] for one backend's connection (the same statements on both).
macro_rules! money_rows {
    ($conn:ty) => {
        impl MoneyRows for $conn {
            async fn lock_account(
                &mut self,
                user: &str,
                now: i64,
            ) -> Result<CreditAccount, TxError> {
                let row: AccountRow = diesel::insert_into(accounts::table)
                    .values((
                        accounts::user_id.eq(user),
                        accounts::created_at.eq(now),
                        accounts::updated_at.eq(now),
                    ))
                    .on_conflict(accounts::user_id)
                    .do_update()
                    .set(accounts::updated_at.eq(now))
                    .returning(AccountRow::as_returning())
                    .cached()
                    .get_result(self)
                    .await?;
                Ok(row.into_account()?)
            }

            async fn write_account(
                &mut self,
                user: &str,
                account: &CreditAccount,
                now: i64,
            ) -> Result<(), TxError> {
                let values = AccountValues::new(account, now)?;
                update_account!(user, &values).execute(self).await?;
                Ok(())
            }

            async fn apply_change(
                &mut self,
                user: &str,
                change: &AccountChange,
                now: i64,
            ) -> Result<bool, TxError> {
                let delta = change.delta;
                let [balance, held, earned, spent, free] = delta.admits();
                let count = |bound: i64| {
                    i32::try_from(bound)
                        .map_err(|_| Inconsistent("free generation change out of range"))
                };
                let free = (count(free.0)?, count(free.1)?);
                let applied = diesel::update(
                    accounts::table
                        .find(user)
                        .filter(accounts::balance.between(balance.0, balance.1))
                        .filter(accounts::held.between(held.0, held.1))
                        .filter(accounts::total_earned.between(earned.0, earned.1))
                        .filter(accounts::total_spent.between(spent.0, spent.1))
                        .filter(accounts::free_generations_used.between(free.0, free.1)),
                )
                .set((
                    accounts::balance.eq(accounts::balance + delta.balance),
                    accounts::held.eq(accounts::held + delta.held),
                    accounts::total_earned.eq(accounts::total_earned + delta.total_earned),
                    accounts::total_spent.eq(accounts::total_spent + delta.total_spent),
                    accounts::free_generations_used
                        .eq(accounts::free_generations_used + delta.free_generations_used),
                    accounts::updated_at.eq(now),
                ))
                .cached()
                .execute(self)
                .await?;
                if applied == 1 {
                    return Ok(true);
                }
                match change.shortfall {
                    Shortfall::Inconsistent(error) => Err(error.into()),
                    Shortfall::NoChange => {
                        // Not admitted: a stored figure out of range. A corrupt one is an
                        // error; otherwise the rule does not apply (no slot to give back).
                        let row: Option<AccountRow> = accounts::table
                            .find(user)
                            .select(AccountRow::as_select())
                            .first(self)
                            .await
                            .optional()?;
                        if let Some(row) = row {
                            row.into_account()?;
                        }
                        Ok(false)
                    }
                }
            }

            async fn append_entry(&mut self, row: &EntryRow<'_>) -> QueryResult<bool> {
                let appended = diesel::insert_into(entries::table)
                    .values(row)
                    .on_conflict(entries::idempotency_key)
                    .do_nothing()
                    .cached()
                    .execute(self)
                    .await?;
                Ok(appended == 1)
            }

            async fn hold_of(&mut self, id: &str) -> Result<Hold, TxError> {
                let rows: Vec<(String, i64)> = entries::table
                    .filter(entries::generation_id.eq(id))
                    .select((entries::kind, entries::amount))
                    .load(self)
                    .await?;
                let found = rows
                    .into_iter()
                    .map(|(kind, amount)| {
                        Ok(Entry {
                            kind: kind.parse().map_err(|e| corrupt("ledger entry kind", e))?,
                            amount: stored_amount(amount, "ledger entry amount")?,
                        })
                    })
                    .collect::<Result<Vec<_>, RepositoryError>>()?;
                Ok(Hold::from_entries(found))
            }

            async fn set_credits_used(
                &mut self,
                id: &str,
                amount: CreditAmount,
                now: i64,
            ) -> QueryResult<()> {
                diesel::update(generations::table.find(id))
                    .set((
                        generations::credits_used.eq(amount.get()),
                        generations::updated_at.eq(now),
                    ))
                    .cached()
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn add_due_charge(
                &mut self,
                id: &str,
                user: &str,
                amount: CreditAmount,
                now: i64,
            ) -> QueryResult<()> {
                diesel::insert_into(charges::table)
                    .values((
                        charges::generation_id.eq(id),
                        charges::user_id.eq(user),
                        charges::amount.eq(amount.get()),
                        charges::state.eq(ChargeState::Due.as_str()),
                        charges::created_at.eq(now),
                        charges::updated_at.eq(now),
                    ))
                    .execute(self)
                    .await?;
                Ok(())
            }
        }
    };
}

money_rows!(AsyncPgConnection);
money_rows!(SqliteAsync);

#[cfg(test)]
mod tests {
    use picture_domain::RepositoryError;

    use super::AccountRow;

    fn row(balance: i64, held: i64, free: i32) -> AccountRow {
        AccountRow {
            balance,
            held,
            total_earned: 0,
            total_spent: 0,
            free_generations_used: free,
        }
    }

    #[test]
    fn a_negative_stored_amount_or_count_is_corrupt_never_zero() {
        for corrupt in [row(-1, 0, 0), row(0, -10, 0), row(0, 0, -1)] {
            assert!(matches!(
                corrupt.into_account(),
                Err(RepositoryError::Corrupt(_))
            ));
        }
        let account = row(5, 10, 2).into_account().unwrap();
        assert_eq!(account.credits.balance.get(), 5);
        assert_eq!(account.held.get(), 10);
        assert_eq!(account.free_generations_used, 2);
    }
}
