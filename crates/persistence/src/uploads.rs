//! Uploaded images on diesel: rows of the `images` table without a generation.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::ports::UploadRepository;
use picture_domain::{Image, NewImage, RepositoryError};

use crate::database::{Database, with_connection};
use crate::error::query_error;
use crate::images::ImageRow;
use crate::schema::images;

/// [`UploadRepository`] stored in the `images` table.
#[derive(Clone)]
pub struct DieselUploadRepository {
    database: Database,
}

impl DieselUploadRepository {
    /// Uploads in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl UploadRepository for DieselUploadRepository {
    async fn insert(&self, image: &NewImage) -> Result<Image, RepositoryError> {
        let row = ImageRow::new(image)?;
        let stored: ImageRow = with_connection!(self.database, |conn| {
            diesel::insert_into(images::table)
                .values(&row)
                .returning(ImageRow::as_returning())
                .get_result(conn)
                .await
                .map_err(query_error)
        })?;
        stored.into_image()
    }
}
