//! The caller's tags: list, create, rename or recolour, delete, and putting them on images.

use std::sync::Arc;

use crate::error::RepositoryError;
use crate::ids::{ImageId, TagId, UserId};
use crate::ports::{Clock, LinkOutcome, TagRepository};
use crate::tag::{NewTag, Tag, TagChange, TagColor, TagName};

/// Why a tag use case failed.
#[derive(Debug, thiserror::Error)]
pub enum TagError {
    /// The tag does not exist or is another user's.
    #[error("tag not found")]
    TagNotFound,
    /// The image does not exist or is another user's.
    #[error("image not found")]
    ImageNotFound,
    /// The user already has a tag of this name (compared without regard to case).
    #[error("Tag \"{0}\" already exists")]
    NameTaken(String),
    /// The repository failed.
    #[error(transparent)]
    Repository(RepositoryError),
}

impl From<RepositoryError> for TagError {
    fn from(error: RepositoryError) -> Self {
        Self::Repository(error)
    }
}

/// A conflict on a write that names `name` is that name being taken.
fn name_taken(name: &TagName) -> impl FnOnce(RepositoryError) -> TagError + '_ {
    move |error| match error {
        RepositoryError::Conflict(_) => TagError::NameTaken(name.as_str().to_owned()),
        other => TagError::Repository(other),
    }
}

fn link_result(outcome: LinkOutcome) -> Result<bool, TagError> {
    match outcome {
        LinkOutcome::Changed => Ok(true),
        LinkOutcome::Unchanged => Ok(false),
        LinkOutcome::ImageNotFound => Err(TagError::ImageNotFound),
        LinkOutcome::TagNotFound => Err(TagError::TagNotFound),
    }
}

/// The tag use cases of an authenticated user.
#[derive(Clone)]
pub struct TagService {
    tags: Arc<dyn TagRepository>,
    clock: Arc<dyn Clock>,
}

impl TagService {
    /// A service over `tags`, dating changes by `clock`.
    pub fn new(tags: Arc<dyn TagRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { tags, clock }
    }

    /// `user`'s tags, by name.
    ///
    /// # Errors
    /// [`TagError::Repository`] when the repository fails.
    pub async fn list(&self, user: &UserId) -> Result<Vec<Tag>, TagError> {
        Ok(self.tags.list(user).await?)
    }

    /// Creates a tag for `user`.
    ///
    /// # Errors
    /// [`TagError::NameTaken`] when `user` has a tag of that name in any case;
    /// [`TagError::Repository`] when the repository fails.
    pub async fn create(
        &self,
        user: &UserId,
        name: TagName,
        color: Option<TagColor>,
    ) -> Result<Tag, TagError> {
        let new = NewTag {
            id: TagId::new_random(),
            user_id: user.clone(),
            name,
            color,
            created_at: self.clock.now(),
        };
        self.tags.create(&new).await.map_err(name_taken(&new.name))
    }

    /// Renames or recolours `user`'s tag `id`.
    ///
    /// # Errors
    /// [`TagError::TagNotFound`] when it is not theirs; [`TagError::NameTaken`] when another of
    /// their tags has the new name; [`TagError::Repository`] when the repository fails.
    pub async fn update(
        &self,
        user: &UserId,
        id: TagId,
        change: TagChange,
    ) -> Result<Tag, TagError> {
        let updated = match self.tags.update(user, id, &change, self.clock.now()).await {
            Ok(updated) => updated,
            Err(error) => {
                return Err(match &change.name {
                    Some(name) => name_taken(name)(error),
                    None => TagError::Repository(error),
                });
            }
        };
        updated.ok_or(TagError::TagNotFound)
    }

    /// Deletes `user`'s tag `id` and takes it off every image.
    ///
    /// # Errors
    /// [`TagError::TagNotFound`] when it is not theirs; [`TagError::Repository`] when the
    /// repository fails.
    pub async fn delete(&self, user: &UserId, id: TagId) -> Result<(), TagError> {
        if self.tags.delete(user, id).await? {
            Ok(())
        } else {
            Err(TagError::TagNotFound)
        }
    }

    /// The tags on `user`'s image `image`.
    ///
    /// # Errors
    /// [`TagError::ImageNotFound`] when the image is not theirs; [`TagError::Repository`] when
    /// the repository fails.
    pub async fn of_image(&self, user: &UserId, image: ImageId) -> Result<Vec<Tag>, TagError> {
        self.tags
            .of_image(user, image)
            .await?
            .ok_or(TagError::ImageNotFound)
    }

    /// Puts `user`'s tag on `user`'s image; `false` when it was already there.
    ///
    /// # Errors
    /// [`TagError::ImageNotFound`] / [`TagError::TagNotFound`] when either is not theirs;
    /// [`TagError::Repository`] when the repository fails.
    pub async fn link(&self, user: &UserId, image: ImageId, tag: TagId) -> Result<bool, TagError> {
        link_result(self.tags.link(user, image, tag).await?)
    }

    /// Takes `user`'s tag off `user`'s image; `false` when it was not there.
    ///
    /// # Errors
    /// As [`link`](Self::link).
    pub async fn unlink(
        &self,
        user: &UserId,
        image: ImageId,
        tag: TagId,
    ) -> Result<bool, TagError> {
        link_result(self.tags.unlink(user, image, tag).await?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::ports::{MockClock, MockTagRepository};

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    fn clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at(1_700_000_000_000));
        Arc::new(clock)
    }

    fn stored(new: &NewTag) -> Tag {
        Tag {
            id: new.id,
            user_id: new.user_id.clone(),
            name: new.name.as_str().to_owned(),
            color: new.color.as_ref().map(|c| c.as_str().to_owned()),
            created_at: new.created_at,
            updated_at: new.created_at,
        }
    }

    #[tokio::test]
    async fn create_stores_the_trimmed_name_for_the_caller_at_the_clock_time() {
        let user = UserId::parse("u1").unwrap();
        let mut repo = MockTagRepository::new();
        repo.expect_create()
            .withf(|new| {
                new.user_id.as_str() == "u1"
                    && new.name.as_str() == "Katze"
                    && new.created_at == at(1_700_000_000_000)
            })
            .times(1)
            .returning(|new| Ok(stored(new)));
        let service = TagService::new(Arc::new(repo), clock());
        let tag = service
            .create(&user, TagName::parse(" Katze ").unwrap(), None)
            .await
            .unwrap();
        assert_eq!(tag.name, "Katze");
        assert_eq!(tag.color, None);
    }

    #[tokio::test]
    async fn a_conflict_is_a_taken_name_whose_message_says_already_exists() {
        let user = UserId::parse("u1").unwrap();
        let mut repo = MockTagRepository::new();
        repo.expect_create()
            .returning(|_| Err(RepositoryError::Conflict("unique".into())));
        repo.expect_update()
            .returning(|_, _, _, _| Err(RepositoryError::Conflict("unique".into())));
        let service = TagService::new(Arc::new(repo), clock());
        let error = service
            .create(&user, TagName::parse("cat").unwrap(), None)
            .await
            .unwrap_err();
        assert!(matches!(&error, TagError::NameTaken(name) if name == "cat"));
        assert!(error.to_string().contains("already exists"));
        let rename = TagChange {
            name: Some(TagName::parse("Dog").unwrap()),
            color: None,
        };
        assert!(matches!(
            service.update(&user, TagId::new_random(), rename).await,
            Err(TagError::NameTaken(name)) if name == "Dog"
        ));
    }

    #[tokio::test]
    async fn missing_tags_and_images_are_not_found() {
        let user = UserId::parse("u1").unwrap();
        let mut repo = MockTagRepository::new();
        repo.expect_update().returning(|_, _, _, _| Ok(None));
        repo.expect_delete().returning(|_, _| Ok(false));
        repo.expect_of_image().returning(|_, _| Ok(None));
        repo.expect_link()
            .returning(|_, _, _| Ok(LinkOutcome::ImageNotFound));
        repo.expect_unlink()
            .returning(|_, _, _| Ok(LinkOutcome::TagNotFound));
        let service = TagService::new(Arc::new(repo), clock());
        let (image, tag) = (ImageId::new_random(), TagId::new_random());
        assert!(matches!(
            service.update(&user, tag, TagChange::default()).await,
            Err(TagError::TagNotFound)
        ));
        assert!(matches!(
            service.delete(&user, tag).await,
            Err(TagError::TagNotFound)
        ));
        assert!(matches!(
            service.of_image(&user, image).await,
            Err(TagError::ImageNotFound)
        ));
        assert!(matches!(
            service.link(&user, image, tag).await,
            Err(TagError::ImageNotFound)
        ));
        assert!(matches!(
            service.unlink(&user, image, tag).await,
            Err(TagError::TagNotFound)
        ));
    }

    #[tokio::test]
    async fn linking_twice_is_no_error() {
        let user = UserId::parse("u1").unwrap();
        let mut repo = MockTagRepository::new();
        let mut outcomes = vec![LinkOutcome::Unchanged, LinkOutcome::Changed];
        repo.expect_link()
            .times(2)
            .returning(move |_, _, _| Ok(outcomes.pop().unwrap()));
        let service = TagService::new(Arc::new(repo), clock());
        let (image, tag) = (ImageId::new_random(), TagId::new_random());
        assert!(service.link(&user, image, tag).await.unwrap());
        assert!(!service.link(&user, image, tag).await.unwrap());
    }

    #[tokio::test]
    async fn an_unavailable_database_stays_a_repository_error() {
        let user = UserId::parse("u1").unwrap();
        let mut repo = MockTagRepository::new();
        repo.expect_create()
            .returning(|_| Err(RepositoryError::Unavailable("down".into())));
        let service = TagService::new(Arc::new(repo), clock());
        assert!(matches!(
            service
                .create(&user, TagName::parse("cat").unwrap(), None)
                .await,
            Err(TagError::Repository(RepositoryError::Unavailable(_)))
        ));
    }
}
