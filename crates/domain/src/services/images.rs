//! The gallery: listing, reading and deleting a user's images (and their stored bytes).

use std::sync::Arc;

use crate::error::{ErrorChain, RepositoryError};
use crate::ids::{ImageId, UserId};
use crate::image::Image;
use crate::ports::{
    BatchAction, Clock, ImageChange, ImageQuery, ImageRepository, Likes, ObjectKey, ObjectStore,
};
use crate::services::stored_objects::delete_with_variants;

/// A user's images.
#[derive(Clone)]
pub struct ImageService {
    images: Arc<dyn ImageRepository>,
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
}

impl ImageService {
    /// A service over `images` and the `store` holding their bytes.
    pub fn new(
        images: Arc<dyn ImageRepository>,
        store: Arc<dyn ObjectStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            images,
            store,
            clock,
        }
    }

    /// Applies `change` to `user`'s image `id`; `None` when it is not theirs.
    ///
    /// # Errors
    /// As [`ImageRepository::change`].
    pub async fn change(
        &self,
        user: &UserId,
        id: ImageId,
        change: ImageChange,
    ) -> Result<Option<Image>, RepositoryError> {
        self.images.change(user, id, change, self.clock.now()).await
    }

    /// How many of `user`'s images are archived.
    ///
    /// # Errors
    /// As [`ImageRepository::archived_count`].
    pub async fn archived_count(&self, user: &UserId) -> Result<u64, RepositoryError> {
        self.images.archived_count(user).await
    }

    /// Applies `action` to `user`'s images among `ids`; returns how many changed. Deleted
    /// images' stored objects are deleted too.
    ///
    /// # Errors
    /// As [`ImageRepository::batch`].
    pub async fn batch(
        &self,
        user: &UserId,
        ids: &[ImageId],
        action: BatchAction,
    ) -> Result<usize, RepositoryError> {
        let affected = self
            .images
            .batch(user, ids, action, self.clock.now())
            .await?;
        if action == BatchAction::Delete {
            for image in &affected {
                self.delete_object(image).await;
            }
        }
        Ok(affected.len())
    }

    /// Likes (or unlikes) image `id` as `user`; `None` when it is not visible to them.
    ///
    /// # Errors
    /// As [`ImageRepository::set_like`].
    pub async fn set_like(
        &self,
        user: &UserId,
        id: ImageId,
        liked: bool,
    ) -> Result<Option<Likes>, RepositoryError> {
        self.images
            .set_like(user, id, liked, self.clock.now())
            .await
    }

    /// The likes of image `id` as `user` sees them.
    ///
    /// # Errors
    /// As [`ImageRepository::likes`].
    pub async fn likes(
        &self,
        user: &UserId,
        id: ImageId,
    ) -> Result<Option<Likes>, RepositoryError> {
        self.images.likes(user, id).await
    }

    async fn delete_object(&self, image: &Image) {
        let key = ObjectKey::from_stored(image.record.storage_path.clone());
        if let Err(error) = delete_with_variants(&*self.store, &key).await {
            tracing::warn!(image_id = %image.record.id, key = key.as_str(), error = %ErrorChain(&error), "stored object not deleted");
        }
    }

    /// A page of `user`'s images, newest first.
    ///
    /// # Errors
    /// As [`ImageRepository::list_for_user`].
    pub async fn list(
        &self,
        user: &UserId,
        query: ImageQuery,
    ) -> Result<Vec<Image>, RepositoryError> {
        self.images.list_for_user(user, query).await
    }

    /// Image `id` if `viewer` owns it or it is public.
    ///
    /// # Errors
    /// As [`ImageRepository::find_visible`].
    pub async fn get(
        &self,
        viewer: &UserId,
        id: ImageId,
    ) -> Result<Option<Image>, RepositoryError> {
        self.images.find_visible(viewer, id).await
    }

    /// Deletes `user`'s image `id` and its stored object. `false` when there is no such image
    /// of theirs. The row goes first: a failed object deletion leaves an orphan object (logged),
    /// never an image pointing at nothing.
    ///
    /// # Errors
    /// As [`ImageRepository::delete_for_user`].
    pub async fn delete(&self, user: &UserId, id: ImageId) -> Result<bool, RepositoryError> {
        let Some(image) = self.images.delete_for_user(user, id).await? else {
            return Ok(false);
        };
        self.delete_object(&image).await;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::image::NewImage;
    use crate::ports::{MockClock, MockImageRepository, MockObjectStore, StoreError};

    fn clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(DateTime::UNIX_EPOCH);
        Arc::new(clock)
    }

    fn image(user: &UserId) -> Image {
        Image {
            record: NewImage {
                id: ImageId::new_random(),
                user_id: user.clone(),
                generation_id: None,
                prompt: "p".into(),
                negative_prompt: None,
                model: None,
                style: None,
                public_url: None,
                storage_path: "users/u/images/x.png".into(),
                filename: "x.png".into(),
                format: Some("png".into()),
                width: Some(1),
                height: Some(1),
                file_size: Some(1),
                blurhash: None,
                created_at: DateTime::UNIX_EPOCH,
            },
            source_image_id: None,
            is_public: false,
            is_favorite: false,
            download_count: 0,
            rating: None,
            archived_at: None,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    #[tokio::test]
    async fn deleting_removes_the_row_then_the_object_even_if_the_store_fails() {
        let user = UserId::parse("u").unwrap();
        let stored = image(&user);
        let mut images = MockImageRepository::new();
        let returned = stored.clone();
        images
            .expect_delete_for_user()
            .times(1)
            .returning(move |_, _| Ok(Some(returned.clone())));
        let mut store = MockObjectStore::new();
        store
            .expect_delete()
            .withf(|key| key.as_str() == "users/u/images/x.png")
            .times(1)
            .returning(|_| Err(StoreError::Unavailable("down".into())));
        let service = ImageService::new(Arc::new(images), Arc::new(store), clock());
        assert!(service.delete(&user, stored.record.id).await.unwrap());
    }

    #[tokio::test]
    async fn deleting_someone_elses_image_touches_no_object() {
        let user = UserId::parse("u").unwrap();
        let mut images = MockImageRepository::new();
        images.expect_delete_for_user().returning(|_, _| Ok(None));
        let mut store = MockObjectStore::new();
        store.expect_delete().times(0);
        let service = ImageService::new(Arc::new(images), Arc::new(store), clock());
        assert!(!service.delete(&user, ImageId::new_random()).await.unwrap());
    }
}
