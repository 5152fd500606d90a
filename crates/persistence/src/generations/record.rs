//! The writes of a decided creation — the account as [`decide_access`] left it, the `reserve`
//! ledger entry and the generation row — run inside the creation's transaction: pipelined on
//! PostgreSQL (sent together, executed in order, one round trip instead of three), one after
//! the other on SQLite.
//!
//! [`decide_access`]: picture_domain::money::decide_access

use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::row::GenerationRow;
use crate::cached_statement::CacheStatement;
use crate::database::SqliteAsync;
use crate::money_rows::{AccountValues, EntryRow, update_account};
use crate::schema::image_generations as generations;
use crate::schema::{credit_accounts as accounts, credit_entries as entries};

/// Everything a decided creation writes.
pub(super) struct Writes<'a> {
    /// The user's account after the decision, when it changed.
    pub(super) account: Option<AccountValues>,
    /// The user.
    pub(super) user: &'a str,
    /// The `reserve` entry, for a paid generation.
    pub(super) entry: Option<EntryRow<'a>>,
    /// The generation.
    pub(super) row: &'a GenerationRow,
}

/// Runs the writes of a decided creation on one backend's connection.
pub(super) trait RecordCreation {
    /// Runs `writes` in the current transaction and answers how many account rows the account
    /// write changed (no account write counts as 1). The caller rolls back when it is not 1.
    async fn record(&mut self, writes: &Writes<'_>) -> QueryResult<usize>;
}

impl RecordCreation for AsyncPgConnection {
    async fn record(&mut self, w: &Writes<'_>) -> QueryResult<usize> {
        // Futures on a shared reference are pipelined by diesel-async; `join!` polls them in
        // order, so they are sent in this order and PostgreSQL runs them in it. No statement
        // depends on another's result: the account row is locked by the transaction already,
        // and a write that did not apply rolls the whole transaction back.
        let mut conn: &AsyncPgConnection = self;
        let insert = diesel::insert_into(generations::table).values(w.row);
        match (&w.account, &w.entry) {
            (None, _) => insert.execute(&mut conn).await.map(|_| 1),
            (Some(account), None) => {
                let (changed, row) = tokio::join!(
                    update_account!(w.user, account).execute(&mut conn),
                    insert.execute(&mut conn)
                );
                row?;
                changed
            }
            (Some(account), Some(entry)) => {
                let (changed, entry, row) = tokio::join!(
                    update_account!(w.user, account).execute(&mut conn),
                    diesel::insert_into(entries::table)
                        .values(entry)
                        .execute(&mut conn),
                    insert.execute(&mut conn)
                );
                entry?;
                row?;
                changed
            }
        }
    }
}

impl RecordCreation for SqliteAsync {
    async fn record(&mut self, w: &Writes<'_>) -> QueryResult<usize> {
        let changed = match &w.account {
            Some(account) => update_account!(w.user, account).execute(self).await?,
            None => 1,
        };
        if let Some(entry) = &w.entry {
            diesel::insert_into(entries::table)
                .values(entry)
                .execute(self)
                .await?;
        }
        diesel::insert_into(generations::table)
            .values(w.row)
            .execute(self)
            .await?;
        Ok(changed)
    }
}
