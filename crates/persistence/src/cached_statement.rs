//! Prepared-statement caching for statements diesel refuses to cache.
//!
//! diesel marks every `UPDATE` and every `ON CONFLICT … DO UPDATE` as unsafe to cache, because
//! a changeset with optional fields can produce a different SQL text on every call. It then
//! prepares such a statement anew on each execution: on PostgreSQL that is one more round trip
//! (Parse/Describe) and a parse and plan per call. The statements wrapped here have a SQL text
//! fixed by the code, so caching them by that text is bounded; the cache key is the SQL text
//! and the bind types, so a statement whose text does differ gets its own entry, never a wrong
//! one.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;

/// A statement that the connection's prepared-statement cache keeps, keyed by its SQL text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cached<Q>(Q);

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    // Not static: the cache keys the statement by its SQL text, not by its Rust type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> QueryFragment<DB> for Cached<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

/// Marks a statement with a SQL text fixed by the code as cacheable.
pub(crate) trait CacheStatement: Sized {
    /// This statement, prepared once per connection and reused.
    fn cached(self) -> Cached<Self> {
        Cached(self)
    }
}

impl<Q> CacheStatement for Q {}

#[cfg(test)]
mod tests {
    use diesel::debug_query;
    use diesel::pg::Pg;
    use diesel::prelude::*;
    use diesel::query_builder::QueryFragment;

    use super::CacheStatement;
    use crate::schema::credit_accounts as accounts;

    #[test]
    fn an_update_becomes_cacheable_with_the_same_sql() {
        let update = diesel::update(accounts::table.find("u1"))
            .set(accounts::balance.eq(accounts::balance - 10_i64));
        let plain = debug_query::<Pg, _>(&update).to_string();
        assert!(!update.is_safe_to_cache_prepared(&Pg).unwrap());

        let cached = update.cached();
        assert!(cached.is_safe_to_cache_prepared(&Pg).unwrap());
        assert_eq!(debug_query::<Pg, _>(&cached).to_string(), plain);
    }
}
