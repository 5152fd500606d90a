//! With S3 storage: `/files/{key}` serves S3-stored originals and renders their variants into
//! the bucket, next to the original (`{original}.variants/{file}`); deleting the image deletes
//! them. Runs against the local S3-compatible server of `.ci/run` (`PICTURE_TEST_S3_*`);
//! skipped without it on a developer's machine, failed in CI.

use std::time::Duration;

use image::ImageFormat;
use picture_domain::ports::{ObjectKey, ObjectStore};
use picture_storage::{S3Config, S3Store};
use picture_test_support::s3_test_server;
use picture_tests::{Db, TestApp};
use secrecy::SecretString;
use serde_json::Value;

use super::{COUNTERS, delete_image, generated, get_variant, image_of, variant};

/// The S3 test server's settings, or `None` (skipped, or failed in CI) without them.
fn config() -> Option<S3Config> {
    let server = s3_test_server()?;
    Some(S3Config {
        endpoint: server.endpoint,
        bucket: server.bucket,
        region: "us-east-1".into(),
        access_key: SecretString::from(server.access_key),
        secret_key: SecretString::from(server.secret_key),
        public_url: None,
        timeout: Duration::from_secs(10),
    })
}

/// Every key in the bucket under `prefix`.
async fn keys_under(store: &S3Store, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut after = None;
    loop {
        let page = store.list(prefix, after, 100).await.unwrap();
        keys.extend(page.objects.iter().map(|o| o.key.as_str().to_owned()));
        match page.next {
            Some(next) => after = Some(next),
            None => return keys,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_of_s3_images_are_rendered_into_the_bucket_and_deleted_with_them() {
    let Some(config) = config() else { return };
    let _rendering = COUNTERS.read().await;
    let store = S3Store::new(&config).unwrap();
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("S3_ENDPOINT", config.endpoint.clone())
            .set("S3_BUCKET", config.bucket.clone())
            .set("S3_REGION", config.region.clone())
            .set(
                "S3_ACCESS_KEY",
                secrecy::ExposeSecret::expose_secret(&config.access_key),
            )
            .set(
                "S3_SECRET_KEY",
                secrecy::ExposeSecret::expose_secret(&config.secret_key),
            );
    })
    .await
    .unwrap();
    // A user of its own, so that tests sharing the bucket do not see each other's objects.
    let user = format!("s3-variants-{}", uuid::Uuid::new_v4());
    let token = app.token(&user, None);
    let image: Value = generated(&app, &token).await;
    let key = image["storagePath"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("users/{user}/images/")), "{key}");
    let in_bucket = store
        .get(&ObjectKey::from_stored(key.clone()))
        .await
        .unwrap();

    // The original, streamed from the bucket.
    let original = image_of(get_variant(&app, &key, "", None).await, "the original").await;
    assert_eq!(original.bytes, in_bucket, "the bucket's bytes");
    assert_eq!(original.size(), (1024, 1024));
    let public = image["publicUrl"].as_str().unwrap();
    if let Ok(direct) = app.client.get(public).send().await
        && direct.status() == 200
    {
        assert_eq!(direct.bytes().await.unwrap().as_ref(), in_bucket.as_slice());
    }

    let query = "width=256&height=256&resize=cover&quality=80";
    let first = variant(&app, &key, query, Some("image/webp,*/*")).await;
    assert_eq!(first.format, ImageFormat::WebP);
    assert_eq!(first.size(), (256, 256));
    let folder = format!("{key}.variants/");
    let stored = keys_under(&store, &folder).await;
    assert_eq!(
        stored.len(),
        1,
        "one variant object next to the original: {stored:?}"
    );
    let variant_bytes = store
        .get(&ObjectKey::from_stored(stored[0].clone()))
        .await
        .unwrap();
    assert_eq!(
        variant_bytes, first.bytes,
        "the stored variant is what was served"
    );
    let again = variant(&app, &key, query, Some("image/webp,*/*")).await;
    assert_eq!(again.bytes, first.bytes);

    delete_image(&app, &token, &image).await;
    assert!(
        keys_under(&store, &folder).await.is_empty(),
        "variants deleted"
    );
    assert!(
        store
            .get(&ObjectKey::from_stored(key.clone()))
            .await
            .is_err()
    );
    let gone = get_variant(&app, &key, query, Some("image/webp,*/*")).await;
    assert_eq!(gone.status(), 404);
    assert_eq!(get_variant(&app, &key, "", None).await.status(), 404);
}
