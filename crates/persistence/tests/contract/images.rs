use picture_domain::ports::{GenerationRepository, ImageQuery, ImageRepository, Transition};
use picture_domain::{ImageId, PredictionId, UserId};
use picture_persistence::{DieselGenerationRepository, DieselImageRepository};

use crate::generations::{created, image_of, new_generation};
use crate::{TestDatabase, at};

contract!(
    completed_images_are_listed_newest_first_and_only_for_their_owner,
    deleting_an_image_returns_it_once,
);

fn query(page: u32, limit: u32) -> ImageQuery {
    ImageQuery {
        archived: false,
        favorites_only: false,
        page,
        limit,
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
        generations
            .complete(new.id, &image, None, at(2))
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
    let image = generations
        .complete(new.id, &image_of(&new), None, at(2))
        .await
        .unwrap()
        .unwrap();
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
