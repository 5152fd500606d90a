//! The writes of a decided creation — the account change, the `reserve` ledger entry and the
//! generation row — run inside the creation's transaction: pipelined on PostgreSQL (sent
//! together, executed in order, one round trip instead of three), one after the other on SQLite.

use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::entry_key;
use super::row::GenerationRow;
use crate::cached_statement::CacheStatement;
use crate::database::SqliteAsync;
use crate::schema::image_generations as generations;
use crate::schema::{credit_accounts as accounts, credit_entries as entries};

/// What a decision changes on the user's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AccountWrite {
    /// Nothing (an unbilled generation).
    Nothing,
    /// One free slot taken.
    TakeFreeSlot,
    /// `price` held, `from_balance` of it taken out of the local balance (all of it on the
    /// local ledger, none for a hold against the remote service); only while the balance
    /// covers `from_balance`.
    Hold { price: i64, from_balance: i64 },
}

/// Everything a decided creation writes.
pub(super) struct Writes<'a> {
    pub(super) user: &'a str,
    pub(super) id: &'a str,
    pub(super) now: i64,
    pub(super) account: AccountWrite,
    pub(super) row: &'a GenerationRow,
}

/// Runs the writes of a decided creation on one backend's connection.
pub(super) trait RecordCreation {
    /// Runs `writes` in the current transaction and answers how many account rows the account
    /// write changed (`Nothing` counts as 1). The caller rolls back when it is not 1.
    async fn record(&mut self, writes: &Writes<'_>) -> QueryResult<usize>;
}

macro_rules! take_free_slot {
    ($w:expr) => {
        diesel::update(accounts::table.find($w.user))
            .set(accounts::free_generations_used.eq(accounts::free_generations_used + 1))
            .cached()
    };
}

macro_rules! hold {
    ($w:expr, $price:expr, $from_balance:expr) => {
        diesel::update(
            accounts::table
                .find($w.user)
                .filter(accounts::balance.ge($from_balance)),
        )
        .set((
            accounts::balance.eq(accounts::balance - $from_balance),
            accounts::held.eq(accounts::held + $price),
        ))
        .cached()
    };
}

macro_rules! reserve_entry {
    ($w:expr, $price:expr) => {
        diesel::insert_into(entries::table).values((
            entries::id.eq(uuid::Uuid::new_v4().to_string()),
            entries::user_id.eq($w.user),
            entries::generation_id.eq(Some($w.id)),
            entries::kind.eq("reserve"),
            entries::amount.eq($price),
            entries::idempotency_key.eq(entry_key("reserve", $w.id)),
            entries::created_at.eq($w.now),
        ))
    };
}

macro_rules! insert_generation {
    ($w:expr) => {
        diesel::insert_into(generations::table).values($w.row)
    };
}

impl RecordCreation for AsyncPgConnection {
    async fn record(&mut self, w: &Writes<'_>) -> QueryResult<usize> {
        // Futures on a shared reference are pipelined by diesel-async; `join!` polls them in
        // order, so they are sent in this order and PostgreSQL runs them in it. No statement
        // depends on another's result: the account row is locked by the transaction already,
        // and a write that did not apply rolls the whole transaction back.
        let mut conn: &AsyncPgConnection = self;
        match w.account {
            AccountWrite::Nothing => insert_generation!(w).execute(&mut conn).await.map(|_| 1),
            AccountWrite::TakeFreeSlot => {
                let (slot, row) = tokio::join!(
                    take_free_slot!(w).execute(&mut conn),
                    insert_generation!(w).execute(&mut conn)
                );
                let slot = slot?;
                row?;
                Ok(slot)
            }
            AccountWrite::Hold {
                price,
                from_balance,
            } => {
                let (held, entry, row) = tokio::join!(
                    hold!(w, price, from_balance).execute(&mut conn),
                    reserve_entry!(w, price).execute(&mut conn),
                    insert_generation!(w).execute(&mut conn)
                );
                let held = held?;
                entry?;
                row?;
                Ok(held)
            }
        }
    }
}

impl RecordCreation for SqliteAsync {
    async fn record(&mut self, w: &Writes<'_>) -> QueryResult<usize> {
        let changed = match w.account {
            AccountWrite::Nothing => 1,
            AccountWrite::TakeFreeSlot => take_free_slot!(w).execute(self).await?,
            AccountWrite::Hold {
                price,
                from_balance,
            } => {
                let held = hold!(w, price, from_balance).execute(self).await?;
                reserve_entry!(w, price).execute(self).await?;
                held
            }
        };
        insert_generation!(w).execute(self).await?;
        Ok(changed)
    }
}
