use picture_domain::ports::{ImageQuery, ImageRepository, ObjectKey, UploadRepository};
use picture_domain::{ImageId, NewImage, RepositoryError, UserId};
use picture_persistence::{DieselImageRepository, DieselUploadRepository};

use crate::{TestDatabase, at};

contract!(
    an_upload_is_recorded_without_generation_or_model_in_its_owners_gallery,
    recording_the_same_upload_twice_is_a_conflict,
    an_uploads_blurhash_is_stored_and_read_back,
);

fn upload(user: &str, ms: i64) -> NewImage {
    let id = ImageId::new_random();
    NewImage {
        id,
        user_id: UserId::parse(user).unwrap(),
        generation_id: None,
        prompt: "holiday.jpg".into(),
        negative_prompt: None,
        model: None,
        style: None,
        public_url: Some(format!("http://x/files/users/{user}/images/{id}.jpeg")),
        storage_path: format!("users/{user}/images/{id}.jpeg"),
        filename: "holiday.jpg".into(),
        format: Some("jpeg".into()),
        width: Some(4032),
        height: Some(3024),
        file_size: Some(5_000_000),
        blurhash: None,
        created_at: at(ms),
    }
}

fn page() -> ImageQuery {
    ImageQuery {
        archived: false,
        favorites_only: false,
        page: 1,
        after: None,
        limit: 20,
        tag_ids: Vec::new(),
    }
}

async fn an_upload_is_recorded_without_generation_or_model_in_its_owners_gallery(
    db: &TestDatabase,
) {
    let uploads = DieselUploadRepository::new(db.database.clone());
    let images = DieselImageRepository::new(db.database.clone());
    let new = upload("owner", 1_700_000_000_123);
    let stored = uploads.insert(&new).await.unwrap();
    assert_eq!(stored.record, new);
    assert!(!stored.is_public && !stored.is_favorite);
    assert_eq!(stored.archived_at, None);
    assert_eq!(stored.download_count, 0);
    assert_eq!(stored.updated_at, new.created_at);

    let owner = UserId::parse("owner").unwrap();
    let other = UserId::parse("other").unwrap();
    assert_eq!(
        images.list_for_user(&owner, page()).await.unwrap(),
        vec![stored.clone()]
    );
    assert!(
        images
            .list_for_user(&other, page())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(images.find_visible(&other, new.id).await.unwrap(), None);
    // The orphan sweep sees its object as held by a row.
    let key = ObjectKey::from_stored(new.storage_path.clone());
    assert_eq!(
        images
            .keys_with_rows(std::slice::from_ref(&key))
            .await
            .unwrap(),
        vec![key]
    );
    // Deleted like any image, returned so its object can be deleted.
    let deleted = images.delete_for_user(&owner, new.id).await.unwrap();
    assert_eq!(deleted, Some(stored));
}

async fn recording_the_same_upload_twice_is_a_conflict(db: &TestDatabase) {
    let uploads = DieselUploadRepository::new(db.database.clone());
    let new = upload("owner", 5);
    uploads.insert(&new).await.unwrap();
    let again = uploads.insert(&new).await.unwrap_err();
    assert!(matches!(again, RepositoryError::Conflict(_)), "{again:?}");
}

async fn an_uploads_blurhash_is_stored_and_read_back(db: &TestDatabase) {
    let uploads = DieselUploadRepository::new(db.database.clone());
    let images = DieselImageRepository::new(db.database.clone());
    let new = NewImage {
        blurhash: Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj".into()),
        ..upload("owner", 7)
    };
    let stored = uploads.insert(&new).await.unwrap();
    assert_eq!(stored.record, new);
    let owner = UserId::parse("owner").unwrap();
    let read = images.find_visible(&owner, new.id).await.unwrap().unwrap();
    assert_eq!(
        read.record.blurhash.as_deref(),
        Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj")
    );
}
