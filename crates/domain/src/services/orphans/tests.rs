//! Unit tests of the orphan sweep with mockall mocks of the store, the rows and the clock.

use chrono::{DateTime, Utc};
use mockall::Sequence;

use super::*;
use crate::ports::{ListedObject, MockClock, MockImageRepository, MockObjectStore};

const GRACE: Duration = Duration::from_secs(600);

fn now() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + chrono::Duration::days(1)
}

/// An object under `key` last written `age` before [`now`].
fn object(key: &str, age: chrono::Duration) -> ListedObject {
    ListedObject {
        key: ObjectKey::from_stored(key),
        last_modified: now() - age,
    }
}

fn old() -> chrono::Duration {
    chrono::Duration::hours(1)
}

/// A page of `objects`, followed by more when `more`.
fn page(objects: Vec<ListedObject>, more: bool) -> ObjectPage {
    let next = more
        .then(|| objects.last().map(|o| o.key.clone()))
        .flatten();
    ObjectPage { objects, next }
}

fn sweeper(
    store: MockObjectStore,
    images: MockImageRepository,
    pages_per_pass: u32,
) -> OrphanSweeper {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now());
    OrphanSweeper::new(
        Arc::new(store),
        Arc::new(images),
        Arc::new(clock),
        OrphanSweepSettings {
            grace: GRACE,
            page_size: 100,
            pages_per_pass,
        },
    )
}

/// A store listing `objects` in one page, whose deletes of `deleted` succeed (and only those
/// are expected).
fn store_with(objects: Vec<ListedObject>, deleted: &'static [&'static str]) -> MockObjectStore {
    let mut store = MockObjectStore::new();
    store
        .expect_list()
        .withf(|prefix, start_after, limit| {
            prefix == IMAGE_KEY_PREFIX && start_after.is_none() && *limit == 100
        })
        .return_once(move |_, _, _| Ok(page(objects, false)));
    for key in deleted {
        store
            .expect_delete()
            .withf(move |k| k.as_str() == *key)
            .times(1)
            .returning(|_| Ok(()));
    }
    store
}

/// Rows exist for exactly `with_rows`.
fn rows(with_rows: &'static [&'static str]) -> MockImageRepository {
    let mut images = MockImageRepository::new();
    images.expect_keys_with_rows().returning(move |keys| {
        Ok(keys
            .iter()
            .filter(|key| with_rows.contains(&key.as_str()))
            .cloned()
            .collect())
    });
    images
}

#[tokio::test]
async fn an_old_orphan_is_deleted_and_an_object_with_a_row_is_kept() {
    let store = store_with(
        vec![
            object("users/u1/images/kept.png", old()),
            object("users/u1/images/orphan.png", old()),
        ],
        &["users/u1/images/orphan.png"],
    );
    let mut sweeper = sweeper(store, rows(&["users/u1/images/kept.png"]), 5);
    let report = sweeper.pass().await.unwrap();
    assert_eq!(
        report,
        SweepReport {
            examined: 2,
            deleted: 1,
            failed: 0,
            finished_round: true
        }
    );
}

#[tokio::test]
async fn the_variants_of_an_orphan_go_with_it_and_those_of_a_kept_image_stay() {
    let store = store_with(
        vec![
            object("users/u1/images/kept.png", old()),
            object(
                "users/u1/images/kept.png.variants/v1-64x64-cover-q80.webp",
                old(),
            ),
            object("users/u1/images/orphan.png", old()),
            object(
                "users/u1/images/orphan.png.variants/v1-64x64-cover-q80.webp",
                old(),
            ),
            object(
                "users/u1/images/gone.png.variants/v1-64xauto-contain-q80.jpeg",
                old(),
            ),
            object(
                "users/u1/uploads/x.png.variants/v1-64x64-cover-q80.webp",
                old(),
            ),
        ],
        &[
            "users/u1/images/orphan.png",
            "users/u1/images/orphan.png.variants/v1-64x64-cover-q80.webp",
            "users/u1/images/gone.png.variants/v1-64xauto-contain-q80.jpeg",
        ],
    );
    let mut sweeper = sweeper(store, rows(&["users/u1/images/kept.png"]), 5);
    let report = sweeper.pass().await.unwrap();
    assert_eq!((report.examined, report.deleted), (6, 3));
}

#[tokio::test]
async fn an_orphan_younger_than_the_grace_is_kept() {
    // A finaliser may be about to commit its row: written 9 minutes ago, grace 10 minutes.
    let young = chrono::Duration::minutes(9);
    let store = store_with(vec![object("users/u1/images/young.png", young)], &[]);
    let mut images = MockImageRepository::new();
    images.expect_keys_with_rows().never();
    let report = sweeper(store, images, 5).pass().await.unwrap();
    assert_eq!((report.examined, report.deleted), (1, 0));
}

#[tokio::test]
async fn objects_outside_the_generated_image_layout_are_never_touched() {
    let store = store_with(
        vec![
            object("users/u1/uploads/a.png", old()),
            object("users/u1/images/thumbs/a.png", old()),
            object("users/u1/avatar.png", old()),
            object("users/images/a.png", old()),
        ],
        &[],
    );
    let mut images = MockImageRepository::new();
    images.expect_keys_with_rows().never();
    let report = sweeper(store, images, 5).pass().await.unwrap();
    assert_eq!((report.examined, report.deleted), (4, 0));
}

#[tokio::test]
async fn a_failed_delete_is_counted_and_the_pass_goes_on() {
    let mut store = MockObjectStore::new();
    store.expect_list().return_once(|_, _, _| {
        Ok(page(
            vec![
                object("users/u1/images/a.png", old()),
                object("users/u1/images/b.png", old()),
            ],
            false,
        ))
    });
    store
        .expect_delete()
        .withf(|key| key.as_str() == "users/u1/images/a.png")
        .times(1)
        .returning(|_| Err(StoreError::Unavailable("disk on fire".into())));
    store
        .expect_delete()
        .withf(|key| key.as_str() == "users/u1/images/b.png")
        .times(1)
        .returning(|_| Ok(()));
    let report = sweeper(store, rows(&[]), 5).pass().await.unwrap();
    assert_eq!((report.deleted, report.failed), (1, 1));
}

#[tokio::test]
async fn passes_are_bounded_and_resume_after_the_last_key_then_start_over() {
    let mut store = MockObjectStore::new();
    let mut order = Sequence::new();
    store
        .expect_list()
        .withf(|_, start_after, _| start_after.is_none())
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _, _| Ok(page(vec![object("users/u/images/1.png", old())], true)));
    store
        .expect_list()
        .withf(|_, start_after, _| {
            start_after.as_ref().map(ObjectKey::as_str) == Some("users/u/images/1.png")
        })
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _, _| Ok(page(vec![object("users/u/images/2.png", old())], false)));
    store
        .expect_list()
        .withf(|_, start_after, _| start_after.is_none())
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _, _| Ok(page(Vec::new(), false)));
    let mut sweeper = sweeper(
        store,
        rows(&["users/u/images/1.png", "users/u/images/2.png"]),
        1,
    );
    let first = sweeper.pass().await.unwrap();
    assert_eq!((first.examined, first.finished_round), (1, false));
    let second = sweeper.pass().await.unwrap();
    assert_eq!((second.examined, second.finished_round), (1, true));
    let third = sweeper.pass().await.unwrap();
    assert_eq!((third.examined, third.finished_round), (0, true));
}

#[tokio::test]
async fn a_failed_row_lookup_deletes_nothing_and_the_page_is_looked_at_again() {
    let mut store = MockObjectStore::new();
    store
        .expect_list()
        .withf(|_, start_after, _| start_after.is_none())
        .times(2)
        .returning(|_, _, _| Ok(page(vec![object("users/u/images/1.png", old())], true)));
    store.expect_delete().never();
    let mut images = MockImageRepository::new();
    images
        .expect_keys_with_rows()
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    let mut sweeper = sweeper(store, images, 1);
    assert!(matches!(
        sweeper.pass().await,
        Err(SweepError::Repository(_))
    ));
    assert!(sweeper.pass().await.is_err());
}
