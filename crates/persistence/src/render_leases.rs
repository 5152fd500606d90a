//! [`RenderLeases`] in the `render_leases` table: one row per lease held (or left to expire by
//! a crashed holder).
//!
//! Taking a lease is one statement on both backends (an upsert whose update only happens when
//! the stored lease has expired or is the caller's own), so two instances can never both get
//! it: PostgreSQL re-checks the condition against the row a concurrent taker committed, and
//! SQLite runs one writer at a time. Expired rows are not swept: [`release`] deletes every
//! lease its holder gives back, so only the leases of crashed holders stay, and the next
//! `try_take` of their name reuses the row.
//!
//! [`release`]: RenderLeases::release

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use picture_domain::RepositoryError;
use picture_domain::ports::RenderLeases;

use crate::database::{Database, with_connection};
use crate::error::query_error;
use crate::schema::render_leases as leases;
use crate::time::{later, to_millis};

/// [`RenderLeases`] in the `render_leases` table.
#[derive(Clone)]
pub struct DieselRenderLeases {
    database: Database,
}

impl DieselRenderLeases {
    /// The leases in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl RenderLeases for DieselRenderLeases {
    async fn try_take(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let now = to_millis(now);
        let until = later(now, ttl);
        // INSERT … ON CONFLICT (name) DO UPDATE SET holder, until_ms WHERE the stored lease
        // has expired or is the caller's RETURNING holder: a row comes back when the caller
        // holds the lease now.
        let taken: Option<String> = with_connection!(self.database, |conn| {
            let upsert = diesel::insert_into(leases::table)
                .values((
                    leases::name.eq(name),
                    leases::holder.eq(holder),
                    leases::until_ms.eq(until),
                ))
                .on_conflict(leases::name)
                .do_update()
                .set((
                    leases::holder.eq(excluded(leases::holder)),
                    leases::until_ms.eq(excluded(leases::until_ms)),
                ));
            // The `WHERE` of `DO UPDATE`: diesel's `FilterDsl` on an upsert (named by its path,
            // as `QueryDsl::filter` would be ambiguous with it in scope).
            diesel::query_dsl::methods::FilterDsl::filter(
                upsert,
                leases::until_ms
                    .le(now)
                    .or(leases::holder.eq(excluded(leases::holder))),
            )
            .returning(leases::holder)
            .get_result(conn)
            .await
            .optional()
            .map_err(query_error)
        })?;
        Ok(taken.is_some())
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), RepositoryError> {
        with_connection!(self.database, |conn| {
            diesel::delete(
                leases::table
                    .filter(leases::name.eq(name))
                    .filter(leases::holder.eq(holder)),
            )
            .execute(conn)
            .await
            .map_err(query_error)
        })?;
        Ok(())
    }
}
