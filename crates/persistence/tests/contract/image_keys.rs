//! Which stored keys have an image row (the orphan sweep's question).

use picture_domain::ports::{
    BatchAction, GenerationLifecycle, ImageChange, ImageRepository, ObjectKey, Transition,
};
use picture_domain::{ImageId, PredictionId, UserId};
use picture_persistence::{DieselGenerationRepository, DieselImageRepository};

use crate::generations::{created, image_of, new_generation};
use crate::{TestDatabase, at};

contract!(only_keys_that_an_image_row_holds_are_answered_archived_ones_included);

/// Completes a generation of `user` and returns its image's id and key.
async fn stored(db: &TestDatabase, user: &str, prediction: &str) -> (ImageId, ObjectKey) {
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
    let image = image_of(&new);
    crate::generations::complete_as_finaliser(&generations, new.id, &image, None, at(2))
        .await
        .unwrap()
        .unwrap();
    (image.id, ObjectKey::from_stored(image.storage_path))
}

async fn only_keys_that_an_image_row_holds_are_answered_archived_ones_included(db: &TestDatabase) {
    let images = DieselImageRepository::new(db.database.clone());
    assert!(images.keys_with_rows(&[]).await.unwrap().is_empty());
    let b = UserId::parse("b").unwrap();
    let (_, kept) = stored(db, "a", "p-keys-1").await;
    let (archived_id, archived) = stored(db, "b", "p-keys-2").await;
    let (deleted_id, deleted) = stored(db, "b", "p-keys-3").await;
    images
        .change(&b, archived_id, ImageChange::Archive, at(3))
        .await
        .unwrap()
        .unwrap();
    images
        .batch(&b, &[deleted_id], BatchAction::Delete, at(4))
        .await
        .unwrap();
    let never_stored = ObjectKey::from_stored("users/a/images/never-stored.png");
    let asked = [
        kept.clone(),
        never_stored,
        archived.clone(),
        deleted,
        kept.clone(),
    ];
    let mut answered: Vec<String> = images
        .keys_with_rows(&asked)
        .await
        .unwrap()
        .into_iter()
        .map(|key| key.as_str().to_owned())
        .collect();
    answered.sort_unstable();
    let mut expected = vec![kept.as_str().to_owned(), archived.as_str().to_owned()];
    expected.sort_unstable();
    assert_eq!(answered, expected);
}
