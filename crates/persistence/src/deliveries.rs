//! Applied webhook deliveries on diesel (`webhook_deliveries`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::RepositoryError;
use picture_domain::ports::DeliveryLog;

use crate::database::{Database, with_connection};
use crate::error::query_error;
use crate::schema::webhook_deliveries as deliveries;
use crate::time::to_millis;

/// [`DeliveryLog`] in the `webhook_deliveries` table.
#[derive(Clone)]
pub struct DieselDeliveryLog {
    database: Database,
}

impl DieselDeliveryLog {
    /// The log in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl DeliveryLog for DieselDeliveryLog {
    async fn seen(&self, id: &str, since: DateTime<Utc>) -> Result<bool, RepositoryError> {
        let since = to_millis(since);
        let found: i64 = with_connection!(self.database, |conn| deliveries::table
            .filter(deliveries::webhook_id.eq(id))
            .filter(deliveries::received_at.ge(since))
            .count()
            .get_result(conn)
            .await
            .map_err(query_error))?;
        Ok(found > 0)
    }

    async fn record(
        &self,
        id: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        let (at, before) = (to_millis(at), to_millis(forget_before));
        with_connection!(self.database, |conn| {
            diesel::delete(deliveries::table.filter(deliveries::received_at.lt(before)))
                .execute(conn)
                .await
                .map_err(query_error)?;
            diesel::insert_into(deliveries::table)
                .values((
                    deliveries::webhook_id.eq(id),
                    deliveries::received_at.eq(at),
                ))
                .on_conflict(deliveries::webhook_id)
                .do_nothing()
                .execute(conn)
                .await
                .map_err(query_error)
        })?;
        Ok(())
    }
}
