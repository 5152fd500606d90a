//! Creating a generation: the account read and locked, [`money::decide_access`] applied, and
//! the row, in one transaction serialised on the user's account.

use diesel_async::AsyncConnection;
use picture_domain::money::{self, Access};
use picture_domain::ports::{Created, Funds, Refusal};
use picture_domain::{FreemiumPolicy, NewGeneration, RepositoryError};

use super::DieselGenerationRepository;
use super::record::{RecordCreation, Writes};
use super::row::GenerationRow;
use crate::database::with_connection;
use crate::error::TxError;
use crate::money_events::MoneyEvent;
use crate::money_rows::{AccountValues, EntryRow, MoneyRows};
use crate::time::to_millis;

impl DieselGenerationRepository {
    pub(super) async fn create_with(
        &self,
        generation: &NewGeneration,
        policy: &FreemiumPolicy,
        funds: Funds,
    ) -> Result<Result<Created, Refusal>, RepositoryError> {
        let user = generation.user_id.as_str();
        let id = generation.id.to_string();
        let now = to_millis(generation.created_at);
        let outcome = with_connection!(self.database, |conn| conn
            .transaction::<_, TxError, _>(async |conn| {
                // One upsert that creates or touches the account row and reads it back: a
                // write, so it locks the row on PostgreSQL and takes the database write lock
                // on SQLite, and concurrent requests of one user are decided one after the
                // other.
                let account = conn.lock_account(user, now).await?;
                let access: Access =
                    money::decide_access(policy, &account, funds)?.map_err(TxError::Refused)?;
                let row = GenerationRow::new(generation, access.billing, access.ledger)?;
                let writes = Writes {
                    account: (access.account != account)
                        .then(|| AccountValues::new(&access.account, now))
                        .transpose()?,
                    user,
                    entry: access
                        .entry
                        .map(|entry| EntryRow::of_generation(user, &id, entry, now)),
                    row: &row,
                };
                if conn.record(&writes).await? != 1 {
                    return Err(TxError::Db(diesel::result::Error::RollbackTransaction));
                }
                Ok((row, access))
            })
            .await
            .map_or_else(TxError::into_result, |ok| Ok(Ok(ok))))?;
        let (row, access) = match outcome {
            Ok(created) => created,
            Err(refusal) => return Ok(Err(refusal)),
        };
        MoneyEvent::new(access.movement, access.ledger, user, Some(&id)).emit();
        Ok(Ok(Created {
            generation: row.into_generation()?,
            decision: access.decision,
            free_generations_remaining: access.free_generations_remaining,
            balance_after: access.balance_after,
        }))
    }
}
