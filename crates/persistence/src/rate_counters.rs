//! Sliding-window rate limits on diesel: a log of admitted events per scope
//! (`rate_limit_events`), with the attempts of one scope serialised on its row in
//! `rate_limit_scopes`.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::RepositoryError;
use picture_domain::ports::{Admission, RateCounter, SlidingWindow, WindowUsage};

use crate::cached_statement::CacheStatement;
use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::schema::{rate_limit_events as events, rate_limit_scopes as scopes};
use crate::time::{from_millis, to_millis};

/// [`RateCounter`] in the `rate_limit_scopes` and `rate_limit_events` tables.
#[derive(Clone)]
pub struct DieselRateCounter {
    database: Database,
}

impl DieselRateCounter {
    /// Counters in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

/// A window's length in milliseconds.
fn millis(length: Duration) -> i64 {
    i64::try_from(length.as_millis()).unwrap_or(i64::MAX / 4)
}

#[async_trait]
impl RateCounter for DieselRateCounter {
    async fn admit(
        &self,
        scope: &str,
        windows: &[SlidingWindow],
        at: DateTime<Utc>,
    ) -> Result<Admission, RepositoryError> {
        let now = to_millis(at);
        let longest = windows.iter().map(|w| millis(w.length)).max().unwrap_or(0);
        let refused_until: Option<i64> = with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                // Written first: the scope's row lock (PostgreSQL) or the database's write lock
                // (SQLite) serialises the attempts on this scope until the commit, so each one
                // counts every event admitted before it.
                let attempt: i64 = diesel::insert_into(scopes::table)
                    .values((scopes::scope.eq(scope), scopes::attempts.eq(1_i64)))
                    .on_conflict(scopes::scope)
                    .do_update()
                    .set(scopes::attempts.eq(scopes::attempts + 1_i64))
                    .returning(scopes::attempts)
                    .cached()
                    .get_result(conn)
                    .await?;
                diesel::delete(
                    events::table
                        .filter(events::scope.eq(scope))
                        .filter(events::at.le(now.saturating_sub(longest))),
                )
                .execute(conn)
                .await?;
                let mut until: Option<i64> = None;
                for window in windows {
                    let length = millis(window.length);
                    // The `limit`-th newest event within the window, if there are that many:
                    // the window is full until it leaves.
                    let leaving: Option<i64> = events::table
                        .filter(events::scope.eq(scope))
                        .filter(events::at.gt(now.saturating_sub(length)))
                        .order(events::at.desc())
                        .offset(i64::from(window.limit.max(1)) - 1)
                        .select(events::at)
                        .first(conn)
                        .await
                        .optional()?;
                    if let Some(leaving) = leaving {
                        let free = leaving.saturating_add(length);
                        until = Some(until.map_or(free, |until| until.max(free)));
                    }
                }
                if until.is_none() {
                    diesel::insert_into(events::table)
                        .values((
                            events::scope.eq(scope),
                            events::attempt.eq(attempt),
                            events::at.eq(now),
                        ))
                        .execute(conn)
                        .await?;
                }
                Ok(until)
            })
            .await
            .map_err(query_error))?;
        match refused_until {
            None => Ok(Admission::Admitted),
            Some(until) => Ok(Admission::Refused {
                until: from_millis(until)?,
            }),
        }
    }

    async fn usage(
        &self,
        scope: &str,
        length: Duration,
        at: DateTime<Utc>,
    ) -> Result<WindowUsage, RepositoryError> {
        let since = to_millis(at).saturating_sub(millis(length));
        let (used, oldest): (i64, Option<i64>) = with_connection!(self.database, |conn| {
            events::table
                .filter(events::scope.eq(scope))
                .filter(events::at.gt(since))
                .select((diesel::dsl::count_star(), diesel::dsl::min(events::at)))
                .get_result(conn)
                .await
                .map_err(query_error)
        })?;
        Ok(WindowUsage {
            used: u32::try_from(used).map_err(|e| corrupt("rate window count", e))?,
            oldest: oldest.map(from_millis).transpose()?,
        })
    }
}
