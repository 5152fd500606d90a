//! Images on diesel: the row type shared with the generation repository, and the gallery.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::ports::{
    BatchAction, ImageChange, ImageQuery, ImageRepository, Likes, ObjectKey,
};
use picture_domain::{GenerationId, Image, ImageId, NewImage, RepositoryError, UserId};

use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::schema::{image_likes as likes, image_tags, images};
use crate::time::{from_millis, to_millis};

/// [`ImageRepository`] stored in the `images` table.
#[derive(Clone)]
pub struct DieselImageRepository {
    database: Database,
}

impl DieselImageRepository {
    /// Images in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = images)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
// `None` is written as NULL (every such column defaults to NULL), so the insert's prepared
// statement is cached.
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct ImageRow {
    id: String,
    user_id: String,
    generation_id: Option<String>,
    source_image_id: Option<String>,
    prompt: String,
    negative_prompt: Option<String>,
    model: Option<String>,
    style: Option<String>,
    public_url: Option<String>,
    storage_path: String,
    filename: String,
    format: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
    file_size: Option<i64>,
    blurhash: Option<String>,
    is_public: bool,
    is_favorite: bool,
    download_count: i32,
    rating: Option<i32>,
    archived_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

fn uuid<T: std::str::FromStr>(raw: String, what: &str) -> Result<T, RepositoryError> {
    raw.parse().map_err(|_| corrupt(what, raw))
}

fn to_i32(value: Option<u32>, what: &str) -> Result<Option<i32>, RepositoryError> {
    value
        .map(|v| i32::try_from(v).map_err(|_| corrupt(what, v)))
        .transpose()
}

fn to_u32(value: Option<i32>, what: &str) -> Result<Option<u32>, RepositoryError> {
    value
        .map(|v| u32::try_from(v).map_err(|_| corrupt(what, v)))
        .transpose()
}

impl ImageRow {
    pub(crate) fn new(image: &NewImage) -> Result<Self, RepositoryError> {
        let at = to_millis(image.created_at);
        Ok(Self {
            id: image.id.to_string(),
            user_id: image.user_id.as_str().to_owned(),
            generation_id: image.generation_id.map(|id| id.to_string()),
            source_image_id: None,
            prompt: image.prompt.clone(),
            negative_prompt: image.negative_prompt.clone(),
            model: image.model.clone(),
            style: image.style.clone(),
            public_url: image.public_url.clone(),
            storage_path: image.storage_path.clone(),
            filename: image.filename.clone(),
            format: image.format.clone(),
            width: to_i32(image.width, "width")?,
            height: to_i32(image.height, "height")?,
            file_size: image
                .file_size
                .map(|v| i64::try_from(v).map_err(|_| corrupt("file_size", v)))
                .transpose()?,
            blurhash: image.blurhash.clone(),
            is_public: false,
            is_favorite: false,
            download_count: 0,
            rating: None,
            archived_at: None,
            created_at: at,
            updated_at: at,
        })
    }

    pub(crate) fn into_image(self) -> Result<Image, RepositoryError> {
        Ok(Image {
            record: NewImage {
                id: uuid(self.id, "image id")?,
                user_id: UserId::parse(self.user_id).map_err(|e| corrupt("user id", e))?,
                generation_id: self
                    .generation_id
                    .map(|id| uuid(id, "generation id"))
                    .transpose()?,
                prompt: self.prompt,
                negative_prompt: self.negative_prompt,
                model: self.model,
                style: self.style,
                public_url: self.public_url,
                storage_path: self.storage_path,
                filename: self.filename,
                format: self.format,
                width: to_u32(self.width, "width")?,
                height: to_u32(self.height, "height")?,
                file_size: self
                    .file_size
                    .map(|v| u64::try_from(v).map_err(|_| corrupt("file_size", v)))
                    .transpose()?,
                blurhash: self.blurhash,
                created_at: from_millis(self.created_at)?,
            },
            source_image_id: self
                .source_image_id
                .map(|id| uuid(id, "source image id"))
                .transpose()?,
            is_public: self.is_public,
            is_favorite: self.is_favorite,
            download_count: self.download_count,
            rating: self.rating,
            archived_at: self.archived_at.map(from_millis).transpose()?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

#[async_trait]
impl ImageRepository for DieselImageRepository {
    async fn find_for_generation(
        &self,
        generation: GenerationId,
    ) -> Result<Option<Image>, RepositoryError> {
        let id = generation.to_string();
        let row: Option<ImageRow> = with_connection!(self.database, |conn| images::table
            .filter(images::generation_id.eq(&id))
            .select(ImageRow::as_select())
            .first(conn)
            .await
            .optional()
            .map_err(query_error))?;
        row.map(ImageRow::into_image).transpose()
    }

    async fn find_for_generations(
        &self,
        ids: &[GenerationId],
    ) -> Result<Vec<Image>, RepositoryError> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let rows: Vec<ImageRow> = with_connection!(self.database, |conn| images::table
            .filter(images::generation_id.eq_any(&ids))
            .select(ImageRow::as_select())
            .load(conn)
            .await
            .map_err(query_error))?;
        rows.into_iter().map(ImageRow::into_image).collect()
    }

    async fn keys_with_rows(&self, keys: &[ObjectKey]) -> Result<Vec<ObjectKey>, RepositoryError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<&str> = keys.iter().map(ObjectKey::as_str).collect();
        let held: Vec<String> = with_connection!(self.database, |conn| images::table
            .filter(images::storage_path.eq_any(&keys))
            .select(images::storage_path)
            .distinct()
            .load(conn)
            .await
            .map_err(query_error))?;
        Ok(held.into_iter().map(ObjectKey::from_stored).collect())
    }

    async fn find_visible(
        &self,
        viewer: &UserId,
        id: ImageId,
    ) -> Result<Option<Image>, RepositoryError> {
        let id = id.to_string();
        let row: Option<ImageRow> = with_connection!(self.database, |conn| images::table
            .filter(images::id.eq(&id))
            .filter(
                images::user_id
                    .eq(viewer.as_str())
                    .or(images::is_public.eq(true)),
            )
            .select(ImageRow::as_select())
            .first(conn)
            .await
            .optional()
            .map_err(query_error))?;
        row.map(ImageRow::into_image).transpose()
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        query: ImageQuery,
    ) -> Result<Vec<Image>, RepositoryError> {
        let limit = i64::from(query.limit.clamp(1, 100));
        let offset = i64::from(query.page.max(1) - 1) * limit;
        let after = query
            .after
            .map(|cursor| (to_millis(cursor.created_at), cursor.id.to_string()));
        let tag_ids: Vec<String> = query.tag_ids.iter().map(ToString::to_string).collect();
        let rows: Vec<ImageRow> = with_connection!(self.database, |conn| {
            let mut select = images::table
                .into_boxed()
                .filter(images::user_id.eq(user.as_str()));
            select = if query.archived {
                select.filter(images::archived_at.is_not_null())
            } else {
                select.filter(images::archived_at.is_null())
            };
            if query.favorites_only {
                select = select.filter(images::is_favorite.eq(true));
            }
            // Every requested tag: one semi-join each, on `image_tags`' primary key.
            for tag in &tag_ids {
                select = select.filter(
                    images::id.eq_any(
                        image_tags::table
                            .filter(image_tags::tag_id.eq(tag))
                            .select(image_tags::image_id),
                    ),
                );
            }
            let offset = match &after {
                // `created_at <= t` bounds the index range scan; the `or` only drops the images
                // of that same millisecond already seen.
                Some((at, id)) => {
                    select = select.filter(
                        images::created_at
                            .le(*at)
                            .and(images::created_at.lt(*at).or(images::id.lt(id))),
                    );
                    0
                }
                None => offset,
            };
            select
                .order((images::created_at.desc(), images::id.desc()))
                .limit(limit)
                .offset(offset)
                .select(ImageRow::as_select())
                .load(conn)
                .await
                .map_err(query_error)
        })?;
        rows.into_iter().map(ImageRow::into_image).collect()
    }

    async fn delete_for_user(
        &self,
        user: &UserId,
        id: ImageId,
    ) -> Result<Option<Image>, RepositoryError> {
        let id = id.to_string();
        let row: Option<ImageRow> = with_connection!(self.database, |conn| diesel::delete(
            images::table
                .filter(images::id.eq(&id))
                .filter(images::user_id.eq(user.as_str()))
        )
        .returning(ImageRow::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(query_error))?;
        row.map(ImageRow::into_image).transpose()
    }

    async fn change(
        &self,
        user: &UserId,
        id: ImageId,
        change: ImageChange,
        at: DateTime<Utc>,
    ) -> Result<Option<Image>, RepositoryError> {
        let id = id.to_string();
        let now = to_millis(at);
        let row: Option<ImageRow> = with_connection!(self.database, |conn| {
            let target = images::table
                .filter(images::id.eq(&id))
                .filter(images::user_id.eq(user.as_str()));
            let update = diesel::update(target);
            match change {
                ImageChange::Archive => {
                    update
                        .set((
                            images::archived_at.eq(Some(now)),
                            images::updated_at.eq(now),
                        ))
                        .returning(ImageRow::as_returning())
                        .get_result(conn)
                        .await
                }
                ImageChange::Unarchive => {
                    update
                        .set((
                            images::archived_at.eq(None::<i64>),
                            images::updated_at.eq(now),
                        ))
                        .returning(ImageRow::as_returning())
                        .get_result(conn)
                        .await
                }
                ImageChange::Publish | ImageChange::Unpublish => {
                    update
                        .set((
                            images::is_public.eq(change == ImageChange::Publish),
                            images::updated_at.eq(now),
                        ))
                        .returning(ImageRow::as_returning())
                        .get_result(conn)
                        .await
                }
                ImageChange::Favorite(favorite) => {
                    update
                        .set((images::is_favorite.eq(favorite), images::updated_at.eq(now)))
                        .returning(ImageRow::as_returning())
                        .get_result(conn)
                        .await
                }
            }
            .optional()
            .map_err(query_error)
        })?;
        row.map(ImageRow::into_image).transpose()
    }

    async fn archived_count(&self, user: &UserId) -> Result<u64, RepositoryError> {
        let count: i64 = with_connection!(self.database, |conn| images::table
            .filter(images::user_id.eq(user.as_str()))
            .filter(images::archived_at.is_not_null())
            .count()
            .get_result(conn)
            .await
            .map_err(query_error))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn batch(
        &self,
        user: &UserId,
        ids: &[ImageId],
        action: BatchAction,
        at: DateTime<Utc>,
    ) -> Result<Vec<Image>, RepositoryError> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let now = to_millis(at);
        let rows: Vec<ImageRow> = with_connection!(self.database, |conn| {
            let mine = images::table
                .filter(images::user_id.eq(user.as_str()))
                .filter(images::id.eq_any(&ids));
            match action {
                BatchAction::Archive => {
                    diesel::update(mine.filter(images::archived_at.is_null()))
                        .set((
                            images::archived_at.eq(Some(now)),
                            images::updated_at.eq(now),
                        ))
                        .returning(ImageRow::as_returning())
                        .get_results(conn)
                        .await
                }
                BatchAction::Restore => {
                    diesel::update(mine.filter(images::archived_at.is_not_null()))
                        .set((
                            images::archived_at.eq(None::<i64>),
                            images::updated_at.eq(now),
                        ))
                        .returning(ImageRow::as_returning())
                        .get_results(conn)
                        .await
                }
                BatchAction::Delete => {
                    diesel::delete(mine)
                        .returning(ImageRow::as_returning())
                        .get_results(conn)
                        .await
                }
            }
            .map_err(query_error)
        })?;
        rows.into_iter().map(ImageRow::into_image).collect()
    }

    async fn set_like(
        &self,
        user: &UserId,
        id: ImageId,
        liked: bool,
        at: DateTime<Utc>,
    ) -> Result<Option<Likes>, RepositoryError> {
        let id = id.to_string();
        let now = to_millis(at);
        let user = user.as_str().to_owned();
        // No transaction: on SQLite a read-then-write transaction can fail to upgrade its
        // lock under concurrency, and each statement here is safe on its own.
        with_connection!(self.database, |conn| async {
            let visible: i64 = images::table
                .filter(images::id.eq(&id))
                .filter(images::user_id.eq(&user).or(images::is_public.eq(true)))
                .count()
                .get_result(conn)
                .await?;
            if visible == 0 {
                return Ok(None);
            }
            if liked {
                diesel::insert_into(likes::table)
                    .values((
                        likes::id.eq(uuid::Uuid::new_v4().to_string()),
                        likes::image_id.eq(&id),
                        likes::user_id.eq(&user),
                        likes::created_at.eq(now),
                    ))
                    .on_conflict((likes::image_id, likes::user_id))
                    .do_nothing()
                    .execute(conn)
                    .await?;
            } else {
                diesel::delete(
                    likes::table
                        .filter(likes::image_id.eq(&id))
                        .filter(likes::user_id.eq(&user)),
                )
                .execute(conn)
                .await?;
            }
            let count: i64 = likes::table
                .filter(likes::image_id.eq(&id))
                .count()
                .get_result(conn)
                .await?;
            Ok::<_, diesel::result::Error>(Some(Likes {
                liked,
                count: u64::try_from(count).unwrap_or(0),
            }))
        }
        .await
        .map_err(query_error))
    }

    async fn likes(&self, user: &UserId, id: ImageId) -> Result<Option<Likes>, RepositoryError> {
        let id = id.to_string();
        with_connection!(self.database, |conn| {
            let visible: i64 = images::table
                .filter(images::id.eq(&id))
                .filter(
                    images::user_id
                        .eq(user.as_str())
                        .or(images::is_public.eq(true)),
                )
                .count()
                .get_result(conn)
                .await
                .map_err(query_error)?;
            if visible == 0 {
                return Ok(None);
            }
            let count: i64 = likes::table
                .filter(likes::image_id.eq(&id))
                .count()
                .get_result(conn)
                .await
                .map_err(query_error)?;
            let mine: i64 = likes::table
                .filter(likes::image_id.eq(&id))
                .filter(likes::user_id.eq(user.as_str()))
                .count()
                .get_result(conn)
                .await
                .map_err(query_error)?;
            Ok(Some(Likes {
                liked: mine > 0,
                count: u64::try_from(count).unwrap_or(0),
            }))
        })
    }
}
