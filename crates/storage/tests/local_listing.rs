//! Listing the local store: key order, pages, prefixes, and what is not an object.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use picture_domain::ports::{ObjectKey, ObjectPage, ObjectStore};
use picture_storage::LocalStore;

async fn put(store: &LocalStore, key: &str) {
    store
        .put(&ObjectKey::from_stored(key), b"x".to_vec(), "image/png")
        .await
        .unwrap();
}

/// Every key under `prefix`, page by page of `limit`, and the number of pages.
async fn walk(store: &LocalStore, prefix: &str, limit: u32) -> (Vec<String>, usize) {
    let mut keys = Vec::new();
    let mut pages = 0;
    let mut start_after = None;
    loop {
        let ObjectPage { objects, next } = store.list(prefix, start_after, limit).await.unwrap();
        pages += 1;
        assert!(objects.len() <= limit as usize);
        keys.extend(objects.into_iter().map(|o| o.key.as_str().to_owned()));
        match next {
            Some(next) => start_after = Some(next),
            None => return (keys, pages),
        }
    }
}

#[tokio::test]
async fn pages_walk_every_key_under_the_prefix_once_in_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path(), "http://localhost");
    // Directory names where sorting names is not sorting keys: "x.y/" < "x/" < "x0/" as keys.
    let mut under_users = vec![
        "users/x/images/a.png",
        "users/x/images/b.png",
        "users/x.y/images/c.png",
        "users/x0/images/d.png",
        "users/x/uploads/e.png",
        "users/x/images.png",
        "users/y/images/f.webp",
    ];
    for key in &under_users {
        put(&store, key).await;
    }
    put(&store, "other/x/images/g.png").await;
    put(&store, "usersx/images/h.png").await;
    under_users.sort_unstable();
    for limit in [1, 2, 3, 1000] {
        let (keys, pages) = walk(&store, "users/", limit).await;
        assert_eq!(keys, under_users, "page size {limit}");
        assert_eq!(pages, under_users.len().div_ceil(limit as usize).max(1));
    }
    let (keys, _) = walk(&store, "users/x/images/", 2).await;
    assert_eq!(keys, ["users/x/images/a.png", "users/x/images/b.png"]);
    // Starting after a key that is not stored continues from where it would be.
    let page = store
        .list(
            "users/",
            Some(ObjectKey::from_stored("users/x/images/a.zzz")),
            1,
        )
        .await
        .unwrap();
    assert_eq!(page.objects[0].key.as_str(), "users/x/images/b.png");
}

#[tokio::test]
async fn temporary_files_of_writes_in_progress_are_not_objects() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path(), "http://localhost");
    put(&store, "users/u/images/done.png").await;
    let images = dir.path().join("users/u/images");
    std::fs::write(images.join(".half.png.4242.tmp"), b"half").unwrap();
    std::fs::create_dir_all(dir.path().join("users/.hidden/images")).unwrap();
    std::fs::write(dir.path().join("users/.hidden/images/x.png"), b"x").unwrap();
    std::fs::write(images.join("a space.png"), b"refused key").unwrap();
    let (keys, _) = walk(&store, "users/", 10).await;
    assert_eq!(keys, ["users/u/images/done.png"]);
}

#[tokio::test]
async fn the_time_of_each_object_is_its_last_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path(), "http://localhost");
    put(&store, "users/u/images/old.png").await;
    // Some filesystems keep times to the second or coarser: a second of slack each side.
    let before = Utc::now() - chrono::Duration::seconds(1);
    put(&store, "users/u/images/new.png").await;
    let after = Utc::now() + chrono::Duration::seconds(1);
    let written = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    std::fs::File::options()
        .write(true)
        .open(dir.path().join("users/u/images/old.png"))
        .unwrap()
        .set_modified(written)
        .unwrap();
    let page = store.list("users/", None, 10).await.unwrap();
    assert_eq!(page.next, None);
    let times: Vec<(String, DateTime<Utc>)> = page
        .objects
        .into_iter()
        .map(|o| (o.key.as_str().to_owned(), o.last_modified))
        .collect();
    assert_eq!(times[1].0, "users/u/images/old.png");
    assert_eq!(times[1].1, DateTime::<Utc>::from(written));
    assert_eq!(times[0].0, "users/u/images/new.png");
    assert!(
        before <= times[0].1 && times[0].1 <= after,
        "{} not between {before} and {after}",
        times[0].1
    );
}

#[tokio::test]
async fn a_store_with_nothing_stored_yet_lists_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("not-created-yet"), "http://localhost");
    let page = store.list("users/", None, 10).await.unwrap();
    assert_eq!(page, ObjectPage::default());
}
