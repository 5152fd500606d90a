//! Secrets every server instance shares (`server_secrets`), such as the key that signs
//! short-lived stream tokens when none is configured.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::RepositoryError;

use crate::database::{Database, with_connection};
use crate::error::query_error;
use crate::schema::server_secrets as secrets;

impl Database {
    /// The secret `name`: stored as `fresh` by the first caller on any instance, and from then
    /// on the stored value for every caller (a later `fresh` is ignored), so all instances use
    /// the same one. `fresh` should be a newly generated random value.
    ///
    /// # Errors
    /// [`RepositoryError`] when the database fails.
    pub async fn shared_secret(&self, name: &str, fresh: &str) -> Result<String, RepositoryError> {
        with_connection!(self, |conn| {
            diesel::insert_into(secrets::table)
                .values((secrets::name.eq(name), secrets::value.eq(fresh)))
                .on_conflict(secrets::name)
                .do_nothing()
                .execute(conn)
                .await
                .map_err(query_error)?;
            secrets::table
                .find(name)
                .select(secrets::value)
                .first(conn)
                .await
                .map_err(query_error)
        })
    }
}
