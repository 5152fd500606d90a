//! The local credit ledger's accounts and grants. Holds, captures and releases happen inside
//! the generation repository's transactions (see `generations/settle.rs`), so a generation's
//! status and its money always move together; the rules are [`picture_domain::money`]'s.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::money::{self, Ledger};
use picture_domain::ports::{CreditAccount, CreditAccounts, Grant, Granted};
use picture_domain::{RepositoryError, UserId};

use crate::database::{Database, with_connection};
use crate::error::{TxError, query_error};
use crate::money_events::MoneyEvent;
use crate::money_rows::{AccountRow, EntryRow, MoneyRows};
use crate::schema::credit_accounts as accounts;
use crate::time::to_millis;

/// Users' credit accounts in our database ([`CreditAccounts`]).
#[derive(Clone)]
pub struct DieselLedger {
    database: Database,
}

impl DieselLedger {
    /// The ledger in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl CreditAccounts for DieselLedger {
    async fn account(&self, user: &UserId) -> Result<CreditAccount, RepositoryError> {
        let row: Option<AccountRow> = with_connection!(self.database, |conn| {
            accounts::table
                .find(user.as_str())
                .select(AccountRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(query_error)
        })?;
        row.map_or(Ok(CreditAccount::default()), AccountRow::into_account)
    }

    async fn grant(&self, grant: &Grant, at: DateTime<Utc>) -> Result<Granted, RepositoryError> {
        let now = to_millis(at);
        let user = grant.user.as_str();
        let reason = grant.reason.as_str();
        let entry = money::grant_entry(grant.amount);
        let row = EntryRow::new(user, None, &grant.idempotency_key, entry, Some(reason), now);
        let applied = with_connection!(self.database, |conn| conn
            .transaction::<_, TxError, _>(async |conn| {
                if !conn.append_entry(&row).await? {
                    return Ok(None);
                }
                let account = conn.lock_account(user, now).await?;
                let granting = money::grant(&account, grant.amount)?;
                conn.write_account(user, &granting.account, now).await?;
                Ok(Some(granting.movement))
            })
            .await
            .map_err(TxError::into_error))?;
        if let Some(movement) = applied {
            MoneyEvent::new(movement, Ledger::Local, user, None).emit();
        }
        Ok(Granted {
            applied: applied.is_some(),
            account: self.account(&grant.user).await?,
        })
    }
}
