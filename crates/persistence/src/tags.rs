//! Tags and their links to images, on diesel.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::ports::{LinkOutcome, TagRepository};
use picture_domain::{ImageId, NewTag, RepositoryError, Tag, TagChange, TagId, UserId};

use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::schema::{image_tags, images, tags};
use crate::time::{from_millis, to_millis};

/// [`TagRepository`] stored in the `tags` and `image_tags` tables.
#[derive(Clone)]
pub struct DieselTagRepository {
    database: Database,
}

impl DieselTagRepository {
    /// Tags in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = tags)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
struct TagRow {
    id: String,
    user_id: String,
    name: String,
    name_key: String,
    color: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TagRow {
    fn new(tag: &NewTag) -> Self {
        let at = to_millis(tag.created_at);
        Self {
            id: tag.id.to_string(),
            user_id: tag.user_id.as_str().to_owned(),
            name: tag.name.as_str().to_owned(),
            name_key: tag.name.key(),
            color: tag.color.as_ref().map(|c| c.as_str().to_owned()),
            created_at: at,
            updated_at: at,
        }
    }

    fn into_tag(self) -> Result<Tag, RepositoryError> {
        Ok(Tag {
            id: self.id.parse().map_err(|_| corrupt("tag id", &self.id))?,
            user_id: UserId::parse(self.user_id).map_err(|e| corrupt("user id", e))?,
            name: self.name,
            color: self.color,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

/// The columns a [`TagChange`] sets; `None` leaves a column alone (`updated_at` always changes,
/// so the change set is never empty).
#[derive(AsChangeset)]
#[diesel(table_name = tags)]
struct TagChangeRow {
    name: Option<String>,
    name_key: Option<String>,
    color: Option<Option<String>>,
    updated_at: i64,
}

fn rows_into_tags(rows: Vec<TagRow>) -> Result<Vec<Tag>, RepositoryError> {
    rows.into_iter().map(TagRow::into_tag).collect()
}

/// Which of `image` and `tag` are `user`'s: (image is, tag is).
async fn owned(
    database: &Database,
    user: &str,
    image: &str,
    tag: &str,
) -> Result<(bool, bool), RepositoryError> {
    with_connection!(database, |conn| {
        let image: Option<String> = images::table
            .filter(images::id.eq(image))
            .filter(images::user_id.eq(user))
            .select(images::id)
            .first(conn)
            .await
            .optional()
            .map_err(query_error)?;
        let tag: Option<String> = tags::table
            .filter(tags::id.eq(tag))
            .filter(tags::user_id.eq(user))
            .select(tags::id)
            .first(conn)
            .await
            .optional()
            .map_err(query_error)?;
        Ok((image.is_some(), tag.is_some()))
    })
}

/// The not-found outcome for the ownership `(image, tag)`, if either is missing.
fn missing((image, tag): (bool, bool)) -> Option<LinkOutcome> {
    if !image {
        Some(LinkOutcome::ImageNotFound)
    } else if !tag {
        Some(LinkOutcome::TagNotFound)
    } else {
        None
    }
}

#[async_trait]
impl TagRepository for DieselTagRepository {
    async fn list(&self, user: &UserId) -> Result<Vec<Tag>, RepositoryError> {
        let rows: Vec<TagRow> = with_connection!(self.database, |conn| tags::table
            .filter(tags::user_id.eq(user.as_str()))
            .order((tags::name_key.asc(), tags::name.asc(), tags::id.asc()))
            .select(TagRow::as_select())
            .load(conn)
            .await
            .map_err(query_error))?;
        rows_into_tags(rows)
    }

    async fn create(&self, tag: &NewTag) -> Result<Tag, RepositoryError> {
        let row = TagRow::new(tag);
        let stored: TagRow =
            with_connection!(self.database, |conn| diesel::insert_into(tags::table)
                .values(&row)
                .returning(TagRow::as_returning())
                .get_result(conn)
                .await
                .map_err(query_error))?;
        stored.into_tag()
    }

    async fn update(
        &self,
        user: &UserId,
        id: TagId,
        change: &TagChange,
        at: DateTime<Utc>,
    ) -> Result<Option<Tag>, RepositoryError> {
        let id = id.to_string();
        let set = TagChangeRow {
            name: change.name.as_ref().map(|n| n.as_str().to_owned()),
            name_key: change.name.as_ref().map(picture_domain::TagName::key),
            color: change
                .color
                .as_ref()
                .map(|c| c.as_ref().map(|c| c.as_str().to_owned())),
            updated_at: to_millis(at),
        };
        let row: Option<TagRow> = with_connection!(self.database, |conn| diesel::update(
            tags::table
                .filter(tags::id.eq(&id))
                .filter(tags::user_id.eq(user.as_str()))
        )
        .set(&set)
        .returning(TagRow::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(query_error))?;
        row.map(TagRow::into_tag).transpose()
    }

    async fn delete(&self, user: &UserId, id: TagId) -> Result<bool, RepositoryError> {
        let id = id.to_string();
        // The links go with it (`ON DELETE CASCADE`).
        let deleted = with_connection!(self.database, |conn| diesel::delete(
            tags::table
                .filter(tags::id.eq(&id))
                .filter(tags::user_id.eq(user.as_str()))
        )
        .execute(conn)
        .await
        .map_err(query_error))?;
        Ok(deleted > 0)
    }

    async fn of_image(
        &self,
        user: &UserId,
        image: ImageId,
    ) -> Result<Option<Vec<Tag>>, RepositoryError> {
        let image = image.to_string();
        let rows: Option<Vec<TagRow>> = with_connection!(self.database, |conn| {
            let mine: Option<String> = images::table
                .filter(images::id.eq(&image))
                .filter(images::user_id.eq(user.as_str()))
                .select(images::id)
                .first(conn)
                .await
                .optional()
                .map_err(query_error)?;
            match mine {
                None => Ok(None),
                Some(_) => tags::table
                    .inner_join(image_tags::table)
                    .filter(image_tags::image_id.eq(&image))
                    .filter(tags::user_id.eq(user.as_str()))
                    .order((tags::name_key.asc(), tags::name.asc(), tags::id.asc()))
                    .select(TagRow::as_select())
                    .load(conn)
                    .await
                    .map(Some)
                    .map_err(query_error),
            }
        })?;
        rows.map(rows_into_tags).transpose()
    }

    async fn link(
        &self,
        user: &UserId,
        image: ImageId,
        tag: TagId,
    ) -> Result<LinkOutcome, RepositoryError> {
        let (image, tag) = (image.to_string(), tag.to_string());
        if let Some(outcome) = missing(owned(&self.database, user.as_str(), &image, &tag).await?) {
            return Ok(outcome);
        }
        let inserted =
            with_connection!(self.database, |conn| diesel::insert_into(image_tags::table)
                .values((image_tags::image_id.eq(&image), image_tags::tag_id.eq(&tag),))
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(query_error));
        match inserted {
            Ok(0) => Ok(LinkOutcome::Unchanged),
            Ok(_) => Ok(LinkOutcome::Changed),
            // The link already there is no conflict (`DO NOTHING`): this is a foreign key, the
            // image or the tag deleted since the check.
            Err(RepositoryError::Conflict(_)) => {
                let now = owned(&self.database, user.as_str(), &image, &tag).await?;
                Ok(missing(now).unwrap_or(LinkOutcome::ImageNotFound))
            }
            Err(other) => Err(other),
        }
    }

    async fn unlink(
        &self,
        user: &UserId,
        image: ImageId,
        tag: TagId,
    ) -> Result<LinkOutcome, RepositoryError> {
        let (image, tag) = (image.to_string(), tag.to_string());
        if let Some(outcome) = missing(owned(&self.database, user.as_str(), &image, &tag).await?) {
            return Ok(outcome);
        }
        let deleted = with_connection!(self.database, |conn| diesel::delete(
            image_tags::table
                .filter(image_tags::image_id.eq(&image))
                .filter(image_tags::tag_id.eq(&tag))
        )
        .execute(conn)
        .await
        .map_err(query_error))?;
        Ok(if deleted > 0 {
            LinkOutcome::Changed
        } else {
            LinkOutcome::Unchanged
        })
    }
}
