//! The local credit ledger's accounts and grants. Holds, captures and releases happen inside
//! the generation repository's transactions (see `generations.rs`), so a generation's status and
//! its money always move together.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::ports::{CreditAccount, CreditAccounts, CreditBalance, Grant, Granted};
use picture_domain::{CreditAmount, RepositoryError, UserId};

use crate::cached_statement::CacheStatement;
use crate::database::{Database, ensure_account, with_connection};
use crate::error::query_error;
use crate::money_events::MoneyEvent;
use crate::schema::{credit_accounts as accounts, credit_entries as entries};
use crate::time::to_millis;

/// Users' credit accounts in our database ([`CreditAccounts`]).
#[derive(Clone)]
pub struct DieselLedger {
    database: Database,
}

fn amount(value: i64) -> CreditAmount {
    CreditAmount::new(value).unwrap_or(CreditAmount::ZERO)
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
        Ok(CreditAccount {
            credits: CreditBalance {
                balance: amount(balance),
                total_earned: amount(earned),
                total_spent: amount(spent),
            },
            held: amount(held),
            free_generations_used: u32::try_from(free).unwrap_or(0),
        })
    }

    async fn grant(&self, grant: &Grant, at: DateTime<Utc>) -> Result<Granted, RepositoryError> {
        let now = to_millis(at);
        let user = grant.user.as_str().to_owned();
        let key = format!("grant:{}", grant.idempotency_key);
        let credits = grant.amount.get();
        let reason = grant.reason.as_str();
        let applied = with_connection!(self.database, |conn| conn
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
                ensure_account!(conn, &user, now);
                diesel::update(accounts::table.find(&user))
                    .set((
                        accounts::balance.eq(accounts::balance + credits),
                        accounts::total_earned.eq(accounts::total_earned + credits),
                        accounts::updated_at.eq(now),
                    ))
                    .cached()
                    .execute(conn)
                    .await?;
                Ok(true)
            })
            .await
            .map_err(query_error))?;
        if applied {
            MoneyEvent {
                op: "grant",
                ledger: "local",
                user: user.clone(),
                generation: None,
                amount: credits,
            }
            .emit();
        }
        Ok(Granted {
            applied,
            account: self.account(&grant.user).await?,
        })
    }
}
