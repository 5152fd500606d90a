use picture_domain::ports::{
    BatchAction, GenerationLifecycle, ImageChange, ImageQuery, ImageRepository, Likes, Transition,
};
use picture_domain::{GalleryCursor, ImageId, PredictionId, UserId};
use picture_persistence::{DieselGenerationRepository, DieselImageRepository};

use crate::generations::{complete_as_finaliser, created, image_of, new_generation};
use crate::{TestDatabase, at};

contract!(
    completed_images_are_listed_newest_first_and_only_for_their_owner,
    deleting_an_image_returns_it_once,
    owners_archive_publish_and_favourite_their_images,
    batches_touch_only_the_callers_images,
    likes_are_idempotent_and_private_images_cannot_be_liked_by_others,
    cursors_walk_the_whole_gallery_in_order_including_images_of_the_same_instant,
);

/// Completes a generation of `user` and returns its image id.
async fn stored_image(db: &TestDatabase, user: &str, prediction: &str) -> ImageId {
    let generations = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation(user, None);
    created(&generations, &new).await;
    let prediction_id = PredictionId::parse(prediction).unwrap();
    assert!(
        generations
            .transition(new.id, &Transition::Processing { prediction_id }, at(1))
            .await
            .unwrap()
    );
    complete_as_finaliser(&generations, new.id, &image_of(&new), None, at(2))
        .await
        .unwrap()
        .unwrap()
        .image
        .record
        .id
}

async fn owners_archive_publish_and_favourite_their_images(db: &TestDatabase) {
    let images = DieselImageRepository::new(db.database.clone());
    let id = stored_image(db, "owner", "p-flags").await;
    let owner = UserId::parse("owner").unwrap();
    let other = UserId::parse("other").unwrap();
    let archived = images
        .change(&owner, id, ImageChange::Archive, at(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(archived.archived_at, Some(at(10)));
    assert_eq!(archived.updated_at, at(10));
    assert_eq!(images.archived_count(&owner).await.unwrap(), 1);
    let unarchived = images
        .change(&owner, id, ImageChange::Unarchive, at(11))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unarchived.archived_at, None);
    assert_eq!(images.archived_count(&owner).await.unwrap(), 0);
    let public = images
        .change(&owner, id, ImageChange::Publish, at(12))
        .await
        .unwrap()
        .unwrap();
    assert!(public.is_public);
    // Public images are visible to others, but only their owner changes them.
    assert!(images.find_visible(&other, id).await.unwrap().is_some());
    assert!(
        images
            .change(&other, id, ImageChange::Unpublish, at(13))
            .await
            .unwrap()
            .is_none()
    );
    let favourite = images
        .change(&owner, id, ImageChange::Favorite(true), at(14))
        .await
        .unwrap()
        .unwrap();
    assert!(favourite.is_favorite && favourite.is_public);
    let favourites = ImageQuery {
        favorites_only: true,
        ..query(1, 20)
    };
    assert_eq!(
        images
            .list_for_user(&owner, favourites)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn batches_touch_only_the_callers_images(db: &TestDatabase) {
    let images = DieselImageRepository::new(db.database.clone());
    let a1 = stored_image(db, "a", "p-a1").await;
    let a2 = stored_image(db, "a", "p-a2").await;
    let b1 = stored_image(db, "b", "p-b1").await;
    let a = UserId::parse("a").unwrap();
    let b = UserId::parse("b").unwrap();
    let all = [a1, a2, b1, ImageId::new_random()];
    let archived = images
        .batch(&a, &all, BatchAction::Archive, at(5))
        .await
        .unwrap();
    assert_eq!(archived.len(), 2);
    assert!(
        images
            .batch(&a, &all, BatchAction::Archive, at(6))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(images.archived_count(&b).await.unwrap(), 0);
    assert_eq!(
        images
            .batch(&a, &all, BatchAction::Restore, at(7))
            .await
            .unwrap()
            .len(),
        2
    );
    let deleted = images
        .batch(&a, &all, BatchAction::Delete, at(8))
        .await
        .unwrap();
    assert_eq!(deleted.len(), 2);
    assert!(images.find_visible(&b, b1).await.unwrap().is_some());
    assert!(
        images
            .list_for_user(&a, query(1, 20))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn likes_are_idempotent_and_private_images_cannot_be_liked_by_others(db: &TestDatabase) {
    let images = DieselImageRepository::new(db.database.clone());
    let id = stored_image(db, "artist", "p-likes").await;
    let artist = UserId::parse("artist").unwrap();
    let fan = UserId::parse("fan").unwrap();
    assert_eq!(images.set_like(&fan, id, true, at(1)).await.unwrap(), None);
    assert_eq!(images.likes(&fan, id).await.unwrap(), None);
    images
        .change(&artist, id, ImageChange::Publish, at(2))
        .await
        .unwrap()
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            images.set_like(&fan, id, true, at(3)).await.unwrap(),
            Some(Likes {
                liked: true,
                count: 1
            })
        );
    }
    assert_eq!(
        images.set_like(&artist, id, true, at(4)).await.unwrap(),
        Some(Likes {
            liked: true,
            count: 2
        })
    );
    assert_eq!(
        images.set_like(&fan, id, false, at(5)).await.unwrap(),
        Some(Likes {
            liked: false,
            count: 1
        })
    );
    assert_eq!(
        images.likes(&artist, id).await.unwrap(),
        Some(Likes {
            liked: true,
            count: 1
        })
    );
    assert_eq!(
        images.likes(&fan, ImageId::new_random()).await.unwrap(),
        None
    );
}

fn query(page: u32, limit: u32) -> ImageQuery {
    ImageQuery {
        archived: false,
        favorites_only: false,
        page,
        limit,
        after: None,
        tag_ids: Vec::new(),
    }
}

async fn completed_images_are_listed_newest_first_and_only_for_their_owner(db: &TestDatabase) {
    let generations = DieselGenerationRepository::new(db.database.clone());
    let images = DieselImageRepository::new(db.database.clone());
    let mut expected = Vec::new();
    for (i, user) in ["alice", "bob", "alice", "alice"].into_iter().enumerate() {
        let new = new_generation(user, None);
        created(&generations, &new).await;
        let prediction_id = PredictionId::parse(format!("p{i}")).unwrap();
        assert!(
            generations
                .transition(new.id, &Transition::Processing { prediction_id }, at(1))
                .await
                .unwrap()
        );
        let mut image = image_of(&new);
        image.created_at = at(1_000 + i64::try_from(i).unwrap());
        complete_as_finaliser(&generations, new.id, &image, None, at(2))
            .await
            .unwrap()
            .unwrap();
        if user == "alice" {
            expected.push(image.id);
        }
        let by_generation = images.find_for_generation(new.id).await.unwrap().unwrap();
        assert_eq!(by_generation.record, image);
    }
    expected.reverse();
    let alice = UserId::parse("alice").unwrap();
    let bob = UserId::parse("bob").unwrap();
    let listed: Vec<_> = images
        .list_for_user(&alice, query(1, 20))
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.record.id)
        .collect();
    assert_eq!(listed, expected);
    let second_page: Vec<_> = images
        .list_for_user(&alice, query(2, 2))
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.record.id)
        .collect();
    assert_eq!(second_page, expected[2..]);
    let archived = ImageQuery {
        archived: true,
        ..query(1, 20)
    };
    assert!(
        images
            .list_for_user(&alice, archived)
            .await
            .unwrap()
            .is_empty()
    );
    // Private images are visible to their owner only.
    assert!(
        images
            .find_visible(&alice, expected[0])
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        images
            .find_visible(&bob, expected[0])
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        images
            .list_for_user(&bob, query(1, 20))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn deleting_an_image_returns_it_once(db: &TestDatabase) {
    let generations = DieselGenerationRepository::new(db.database.clone());
    let images = DieselImageRepository::new(db.database.clone());
    let new = new_generation("carol", None);
    created(&generations, &new).await;
    let prediction_id = PredictionId::parse("p-del").unwrap();
    assert!(
        generations
            .transition(new.id, &Transition::Processing { prediction_id }, at(1))
            .await
            .unwrap()
    );
    let image = complete_as_finaliser(&generations, new.id, &image_of(&new), None, at(2))
        .await
        .unwrap()
        .unwrap()
        .image;
    let carol = UserId::parse("carol").unwrap();
    let mallory = UserId::parse("mallory").unwrap();
    let id = image.record.id;
    assert!(
        images
            .delete_for_user(&mallory, id)
            .await
            .unwrap()
            .is_none()
    );
    let deleted = images.delete_for_user(&carol, id).await.unwrap().unwrap();
    assert_eq!(deleted.record.storage_path, image.record.storage_path);
    assert!(images.delete_for_user(&carol, id).await.unwrap().is_none());
    assert!(images.find_visible(&carol, id).await.unwrap().is_none());
    assert!(
        images
            .delete_for_user(&carol, ImageId::new_random())
            .await
            .unwrap()
            .is_none()
    );
}

/// Keyset pages (`after`) give exactly the offset pages' order, with no image skipped or
/// repeated where several share one millisecond.
async fn cursors_walk_the_whole_gallery_in_order_including_images_of_the_same_instant(
    db: &TestDatabase,
) {
    let generations = DieselGenerationRepository::new(db.database.clone());
    let images = DieselImageRepository::new(db.database.clone());
    let stamps = [5, 9, 9, 9, 2, 9, 7];
    for (i, (user, stamp)) in ["cara", "dan"]
        .into_iter()
        .flat_map(|user| stamps.iter().map(move |stamp| (user, *stamp)))
        .enumerate()
    {
        let new = new_generation(user, None);
        created(&generations, &new).await;
        let prediction_id = PredictionId::parse(format!("k{i}")).unwrap();
        generations
            .transition(new.id, &Transition::Processing { prediction_id }, at(1))
            .await
            .unwrap();
        let mut image = image_of(&new);
        image.created_at = at(1_000 + stamp);
        complete_as_finaliser(&generations, new.id, &image, None, at(2))
            .await
            .unwrap()
            .unwrap();
    }
    let cara = UserId::parse("cara").unwrap();
    let everything: Vec<ImageId> = images
        .list_for_user(&cara, query(1, 100))
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.record.id)
        .collect();
    assert_eq!(everything.len(), stamps.len());
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = images
            .list_for_user(
                &cara,
                // `page` is ignored once there is a cursor.
                ImageQuery {
                    after,
                    page: if after.is_some() { 3 } else { 1 },
                    ..query(1, 2)
                },
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(GalleryCursor::after(last));
        walked.extend(page.iter().map(|i| i.record.id));
    }
    assert_eq!(walked, everything);
}
