//! The S3 store against a real local S3-compatible server (SeaweedFS, started by `.ci/run`).
//! Configured by `PICTURE_TEST_S3_ENDPOINT`, `PICTURE_TEST_S3_BUCKET`,
//! `PICTURE_TEST_S3_ACCESS_KEY` and `PICTURE_TEST_S3_SECRET_KEY`; skipped without them on a
//! developer's machine, failed in CI.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use picture_domain::ports::{MockClock, MockImageRepository, ObjectKey, ObjectStore};
use picture_domain::services::{OrphanSweepSettings, OrphanSweeper};
use picture_domain::{ImageId, UserId};
use picture_storage::{S3Config, S3Store};
use picture_test_support::s3_test_server;
use secrecy::SecretString;

fn config() -> Option<S3Config> {
    let server = s3_test_server()?;
    Some(S3Config {
        endpoint: server.endpoint,
        bucket: server.bucket,
        region: "us-east-1".into(),
        access_key: SecretString::from(server.access_key),
        secret_key: SecretString::from(server.secret_key),
        public_url: Some("https://cdn.example.com/images/".into()),
        timeout: Duration::from_secs(10),
    })
}

fn key() -> ObjectKey {
    ObjectKey::for_image(
        &UserId::parse("s3-user").unwrap(),
        ImageId::new_random(),
        "png",
    )
}

#[tokio::test]
async fn objects_are_stored_read_back_and_deleted() {
    let Some(config) = config() else { return };
    let store = S3Store::new(&config).unwrap();
    let key = key();
    let bytes = picture_offline::render_png("s3", Some(1), 64, 64).unwrap();
    store.put(&key, bytes.clone(), "image/png").await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), bytes);
    assert_eq!(
        store.public_url(&key),
        format!("https://cdn.example.com/images/{}", key.as_str())
    );
    store.delete(&key).await.unwrap();
    assert!(store.get(&key).await.is_err());
    // Deleting again is fine.
    store.delete(&key).await.unwrap();
}

#[tokio::test]
async fn image_keys_of_unusual_subjects_are_stored_read_back_and_deleted() {
    let Some(config) = config() else { return };
    let store = S3Store::new(&config).unwrap();
    for subject in ["auth0|abc:def", "ユーザー名", "..", "a-b.c_d"] {
        let user = UserId::parse(subject).unwrap();
        let key = ObjectKey::for_image(&user, ImageId::new_random(), "png");
        store
            .put(&key, b"\x89PNG".to_vec(), "image/png")
            .await
            .unwrap();
        assert_eq!(store.get(&key).await.unwrap(), b"\x89PNG", "{subject:?}");
        store.delete(&key).await.unwrap();
        assert!(store.get(&key).await.is_err(), "{subject:?}");
    }
}

#[tokio::test]
async fn wrong_credentials_are_refused_by_the_server() {
    let Some(mut config) = config() else { return };
    config.secret_key = SecretString::from("not-the-secret");
    let store = S3Store::new(&config).unwrap();
    let result = store.put(&key(), b"\x89PNG".to_vec(), "image/png").await;
    assert!(result.is_err(), "a wrong secret must not be accepted");
}

#[tokio::test]
async fn an_unreachable_store_is_an_error_not_a_hang() {
    let Some(mut config) = config() else { return };
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    config.endpoint = format!("http://{closed}");
    config.timeout = Duration::from_secs(2);
    let store = S3Store::new(&config).unwrap();
    assert!(store.put(&key(), b"x".to_vec(), "image/png").await.is_err());
}

/// A user of its own, so that tests sharing the bucket do not see each other's objects.
fn fresh_user() -> UserId {
    UserId::parse(format!("s3-{}", ImageId::new_random())).unwrap()
}

#[tokio::test]
async fn listing_pages_through_the_keys_in_order_with_their_times() {
    let Some(config) = config() else { return };
    let store = S3Store::new(&config).unwrap();
    let user = fresh_user();
    let mut keys: Vec<ObjectKey> = (0..3)
        .map(|_| ObjectKey::for_image(&user, ImageId::new_random(), "png"))
        .collect();
    keys.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    // S3 keeps times to the second: a second of slack each side.
    let before = Utc::now() - chrono::Duration::seconds(1);
    for key in &keys {
        store.put(key, b"x".to_vec(), "image/png").await.unwrap();
    }
    let after = Utc::now() + chrono::Duration::seconds(1);
    let prefix = format!("users/{user}/");
    let first = store.list(&prefix, None, 2).await.unwrap();
    let second = store.list(&prefix, first.next.clone(), 2).await.unwrap();
    assert_eq!(first.objects.len(), 2);
    assert_eq!(first.next.as_ref(), Some(&first.objects[1].key));
    assert_eq!(second.objects.len(), 1);
    assert_eq!(second.next, None);
    let listed: Vec<&ObjectKey> = first
        .objects
        .iter()
        .chain(&second.objects)
        .map(|o| &o.key)
        .collect();
    assert_eq!(listed, keys.iter().collect::<Vec<_>>());
    for object in first.objects.iter().chain(&second.objects) {
        assert!(
            before <= object.last_modified && object.last_modified <= after,
            "{} not between {before} and {after}",
            object.last_modified
        );
    }
    for key in &keys {
        store.delete(key).await.unwrap();
    }
}

#[tokio::test]
async fn the_orphan_sweep_deletes_objects_without_a_row_from_the_bucket() {
    let Some(config) = config() else { return };
    let store = Arc::new(S3Store::new(&config).unwrap());
    let user = fresh_user();
    let orphan = ObjectKey::for_image(&user, ImageId::new_random(), "png");
    let kept = ObjectKey::for_image(&user, ImageId::new_random(), "png");
    let other_layout = ObjectKey::from_stored(format!("users/{user}/uploads/original.png"));
    for key in [&orphan, &kept, &other_layout] {
        store.put(key, b"x".to_vec(), "image/png").await.unwrap();
    }
    // Every key but the orphan has a row: objects of tests running alongside are kept too.
    let mut images = MockImageRepository::new();
    let orphan_key = orphan.clone();
    images
        .expect_keys_with_rows()
        .returning(move |keys| Ok(keys.iter().filter(|k| **k != orphan_key).cloned().collect()));
    // An hour from now, everything stored is older than the grace.
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .return_const(Utc::now() + chrono::Duration::hours(1));
    let mut sweeper = OrphanSweeper::new(
        Arc::clone(&store) as Arc<dyn ObjectStore>,
        Arc::new(images),
        Arc::new(clock),
        OrphanSweepSettings {
            grace: Duration::from_secs(600),
            page_size: 1000,
            pages_per_pass: 1000,
        },
    );
    let report = sweeper.pass().await.unwrap();
    assert!(report.finished_round, "{report:?}");
    assert_eq!(report.failed, 0);
    assert!(report.deleted >= 1, "{report:?}");
    assert!(store.get(&orphan).await.is_err(), "the orphan was deleted");
    assert_eq!(store.get(&kept).await.unwrap(), b"x");
    assert_eq!(store.get(&other_layout).await.unwrap(), b"x");
    for key in [&kept, &other_layout] {
        store.delete(key).await.unwrap();
    }
}

#[tokio::test]
async fn objects_are_read_whole_or_streamed_with_their_cache_control_and_absent_ones_are_none() {
    let Some(config) = config() else { return };
    let store = S3Store::new(&config).unwrap();
    let key = key();
    let bytes = picture_offline::render_png("s3 get", Some(2), 256, 256).unwrap();
    store
        .put_with_cache_control(&key, bytes.clone(), "image/png", "public, max-age=60")
        .await
        .unwrap();
    let read = ObjectStore::get(&store, &key).await.unwrap().unwrap();
    assert_eq!(read.bytes, bytes);
    assert_eq!(read.cache_control.as_deref(), Some("public, max-age=60"));

    let mut stream = store.get_stream(&key).await.unwrap().unwrap();
    let mut streamed = Vec::new();
    while let Some(chunk) = std::future::poll_fn(|cx| {
        futures_core::Stream::poll_next(std::pin::Pin::new(&mut stream), cx)
    })
    .await
    {
        streamed.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(streamed, bytes);

    store.delete(&key).await.unwrap();
    assert_eq!(ObjectStore::get(&store, &key).await.unwrap(), None);
    assert!(store.get_stream(&key).await.unwrap().is_none());
    let unsafe_key = ObjectKey::from_stored("users/../x.png");
    assert_eq!(ObjectStore::get(&store, &unsafe_key).await.unwrap(), None);
    assert!(store.get_stream(&unsafe_key).await.unwrap().is_none());
}
