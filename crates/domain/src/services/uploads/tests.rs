use chrono::DateTime;

use super::*;
use crate::ports::{
    MockClock, MockImageInspector, MockImageRepository, MockObjectStore, MockUploadRepository,
};
use crate::upload::InspectedImage;

fn user() -> UserId {
    UserId::parse("alice").unwrap()
}

fn clock() -> Arc<MockClock> {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(DateTime::UNIX_EPOCH);
    Arc::new(clock)
}

fn inspector(answer: Result<InspectedImage, InspectError>) -> Arc<MockImageInspector> {
    let mut inspector = MockImageInspector::new();
    inspector.expect_inspect().return_once(move |_| answer);
    Arc::new(inspector)
}

fn jpeg(width: u32, height: u32) -> InspectedImage {
    InspectedImage {
        bytes: b"stripped".to_vec(),
        extension: "jpeg",
        content_type: "image/jpeg",
        width,
        height,
    }
}

const LIMITS: UploadLimits = UploadLimits {
    max_bytes: 100,
    max_pixels: 1_000,
};

fn service(
    inspector: Arc<MockImageInspector>,
    store: MockObjectStore,
    uploads: MockUploadRepository,
    images: MockImageRepository,
) -> UploadService {
    UploadService::new(
        UploadPorts {
            inspector,
            store: Arc::new(store),
            renderer: crate::services::fakes::placeholder_renderer(),
            uploads: Arc::new(uploads),
            images: Arc::new(images),
            clock: clock(),
        },
        LIMITS,
    )
}

/// A store that must not be touched.
fn untouched_store() -> MockObjectStore {
    let mut store = MockObjectStore::new();
    store
        .expect_list()
        .returning(|_, _, _| Ok(crate::ports::ObjectPage::default()));
    store.expect_put().never();
    store.expect_delete().never();
    store
}

fn as_stored(record: &NewImage) -> Image {
    Image {
        record: record.clone(),
        source_image_id: None,
        is_public: false,
        is_favorite: false,
        download_count: 0,
        rating: None,
        archived_at: None,
        updated_at: record.created_at,
    }
}

#[tokio::test]
async fn an_image_is_stored_under_the_image_key_then_recorded_without_generation_or_model() {
    let mut store = MockObjectStore::new();
    store
        .expect_list()
        .returning(|_, _, _| Ok(crate::ports::ObjectPage::default()));
    store
        .expect_public_url()
        .returning(|key| format!("http://x/files/{}", key.as_str()));
    store
        .expect_put()
        .withf(|key, bytes, content_type| {
            key.is_image()
                && key.as_str().starts_with("users/alice/images/")
                && key.as_str().ends_with(".jpeg")
                && bytes.as_slice() == b"stripped"
                && content_type == "image/jpeg"
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    let mut uploads = MockUploadRepository::new();
    uploads
        .expect_insert()
        .times(1)
        .returning(|record| Ok(as_stored(record)));
    let service = service(
        inspector(Ok(jpeg(20, 10))),
        store,
        uploads,
        MockImageRepository::new(),
    );

    let image = service
        .upload(&user(), Some("C:\\photos\\holiday.jpg"), b"raw".to_vec())
        .await
        .unwrap();

    let record = &image.record;
    assert_eq!(record.generation_id, None);
    assert_eq!(record.model, None);
    assert_eq!(record.prompt, "holiday.jpg");
    assert_eq!(record.filename, "holiday.jpg");
    assert_eq!(record.format.as_deref(), Some("jpeg"));
    assert_eq!((record.width, record.height), (Some(20), Some(10)));
    assert_eq!(record.file_size, Some(8));
    assert_eq!(
        record.blurhash.as_deref(),
        Some(crate::services::fakes::PLACEHOLDER)
    );
    assert_eq!(
        record.public_url.as_deref(),
        Some(format!("http://x/files/{}", record.storage_path).as_str())
    );
    assert_eq!(
        record.storage_path,
        format!("users/alice/images/{}.jpeg", record.id)
    );
}

#[tokio::test]
async fn refused_bytes_store_nothing_and_record_nothing() {
    for refusal in [
        InspectError::Empty,
        InspectError::Unsupported,
        InspectError::Malformed("cut short".into()),
    ] {
        let mut uploads = MockUploadRepository::new();
        uploads.expect_insert().never();
        let service = service(
            inspector(Err(refusal.clone())),
            untouched_store(),
            uploads,
            MockImageRepository::new(),
        );
        let error = service
            .upload(&user(), Some("x.png"), b"<html>".to_vec())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, UploadError::Inspect(e) if *e == refusal),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_from_its_header_before_anything_is_stored() {
    let mut uploads = MockUploadRepository::new();
    uploads.expect_insert().never();
    let service = service(
        inspector(Ok(jpeg(1_001, 1))),
        untouched_store(),
        uploads,
        MockImageRepository::new(),
    );
    let error = service
        .upload(&user(), None, vec![0; 10])
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        UploadError::TooManyPixels {
            width: 1_001,
            height: 1,
            max_pixels: 1_000
        }
    ));
}

#[tokio::test]
async fn more_bytes_than_the_limit_are_refused_without_inspection() {
    let mut inspector = MockImageInspector::new();
    inspector.expect_inspect().never();
    let service = service(
        Arc::new(inspector),
        untouched_store(),
        MockUploadRepository::new(),
        MockImageRepository::new(),
    );
    let error = service
        .upload(&user(), None, vec![0; 101])
        .await
        .unwrap_err();
    assert!(matches!(error, UploadError::TooLarge { max_bytes: 100 }));
}

#[tokio::test]
async fn a_store_failure_records_nothing() {
    let mut store = MockObjectStore::new();
    store
        .expect_list()
        .returning(|_, _, _| Ok(crate::ports::ObjectPage::default()));
    store.expect_public_url().returning(|_| String::new());
    store
        .expect_put()
        .returning(|_, _, _| Err(StoreError::Unavailable("down".into())));
    let mut uploads = MockUploadRepository::new();
    uploads.expect_insert().never();
    let service = service(
        inspector(Ok(jpeg(1, 1))),
        store,
        uploads,
        MockImageRepository::new(),
    );
    let error = service.upload(&user(), None, vec![1]).await.unwrap_err();
    assert!(matches!(error, UploadError::Store(_)));
}

#[tokio::test]
async fn a_row_that_cannot_be_recorded_takes_its_object_away_again() {
    let mut store = MockObjectStore::new();
    store
        .expect_list()
        .returning(|_, _, _| Ok(crate::ports::ObjectPage::default()));
    store.expect_public_url().returning(|_| String::new());
    store.expect_put().times(1).returning(|_, _, _| Ok(()));
    store
        .expect_delete()
        .withf(|key| key.as_str().starts_with("users/alice/images/"))
        .times(1)
        .returning(|_| Ok(()));
    let mut uploads = MockUploadRepository::new();
    uploads
        .expect_insert()
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    let service = service(
        inspector(Ok(jpeg(1, 1))),
        store,
        uploads,
        MockImageRepository::new(),
    );
    let error = service.upload(&user(), None, vec![1]).await.unwrap_err();
    assert!(matches!(error, UploadError::Repository(_)));
}

#[tokio::test]
async fn taking_back_deletes_each_row_then_its_object() {
    let record = NewImage {
        id: ImageId::new_random(),
        user_id: user(),
        generation_id: None,
        prompt: "a.png".into(),
        negative_prompt: None,
        model: None,
        style: None,
        public_url: None,
        storage_path: "users/alice/images/a.png".into(),
        filename: "a.png".into(),
        format: Some("png".into()),
        width: Some(1),
        height: Some(1),
        file_size: Some(1),
        blurhash: None,
        created_at: DateTime::UNIX_EPOCH,
    };
    let image = as_stored(&record);
    let id = record.id;
    let mut images = MockImageRepository::new();
    let returned = image.clone();
    images
        .expect_delete_for_user()
        .withf(move |who, which| who.as_str() == "alice" && *which == id)
        .times(1)
        .return_once(move |_, _| Ok(Some(returned)));
    let mut store = MockObjectStore::new();
    store
        .expect_list()
        .returning(|_, _, _| Ok(crate::ports::ObjectPage::default()));
    store
        .expect_delete()
        .withf(|key| key.as_str() == "users/alice/images/a.png")
        .times(1)
        .returning(|_| Ok(()));
    let service = service(
        Arc::new(MockImageInspector::new()),
        store,
        MockUploadRepository::new(),
        images,
    );
    service.take_back(&user(), &[image]).await;
}

#[test]
fn file_names_lose_their_path_and_control_characters_and_are_cut() {
    assert_eq!(clean_file_name(Some("../../etc/passwd"), "png"), "passwd");
    assert_eq!(clean_file_name(Some("a\u{0}b\n.png "), "png"), "ab.png");
    assert_eq!(clean_file_name(Some("  "), "webp"), "upload.webp");
    assert_eq!(clean_file_name(None, "jpeg"), "upload.jpeg");
    let long = "é".repeat(300);
    assert_eq!(
        clean_file_name(Some(&long), "png").chars().count(),
        MAX_FILE_NAME_CHARS
    );
}
