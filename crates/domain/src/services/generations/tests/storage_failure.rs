//! A store that refuses the image: the generation fails with a message that shows no storage
//! key, path or layout.

use std::sync::Mutex;

use super::*;
use crate::ports::{FetchedImage, ImageSource, LeaseToken, StoreError};

fn processing_generation() -> Generation {
    let new = NewGeneration {
        id: GenerationId::new_random(),
        user_id: UserId::parse("auth0|abc:def").unwrap(),
        model_id: None,
        model_name: None,
        provider: crate::ProviderName::REPLICATE,
        prompt: "p".into(),
        negative_prompt: None,
        style: None,
        source_image_url: None,
        params: request(&sample_model()).resolve(&sample_model()),
        created_at: DateTime::UNIX_EPOCH,
    };
    let mut generation = generation_for(&new);
    generation.status = GenerationStatus::Processing;
    generation.prediction_id = Some(PredictionId::parse("pred-store").unwrap());
    generation
}

/// The failure message of a finalisation whose store answers `refusal`.
async fn failure_message_when_the_store_answers(refusal: StoreError) -> String {
    let mut mocks = Mocks::new();
    let generation = processing_generation();
    let found = generation.clone();
    mocks
        .generations
        .expect_find_by_prediction()
        .returning(move |_| Ok(Some(found.clone())));
    let found = generation.clone();
    mocks
        .generations
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    mocks
        .generations
        .expect_claim_finalization()
        .returning(|_, _, _| Ok(Some(LeaseToken::from_stored("t-1"))));
    mocks
        .generations
        .expect_renew_finalization()
        .returning(|_, _, _, _| Ok(true));
    mocks.fetcher.expect_fetch().returning(|_| {
        Ok(FetchedImage {
            bytes: vec![1, 2, 3],
            extension: "png",
            content_type: "image/png",
            width: 1,
            height: 1,
        })
    });
    mocks
        .store
        .expect_put()
        .returning(move |_, _, _| Err(refusal.clone()));
    mocks.store.expect_delete().returning(|_| Ok(()));
    mocks
        .store
        .expect_public_url()
        .returning(|key| format!("http://files/{}", key.as_str()));
    mocks.generations.expect_complete().times(0);
    let failed = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&failed);
    mocks
        .generations
        .expect_fail_finalization()
        .returning(move |_, _, message, _| {
            *seen.lock().unwrap() = Some(message.to_owned());
            Ok(true)
        });
    let state = ProviderState::Succeeded {
        outputs: vec![ImageSource::Url("https://replicate.delivery/a.png".into())],
        predict_time: None,
    };
    mocks
        .service()
        .finalize
        .on_provider_report(
            &crate::ProviderName::REPLICATE,
            generation.prediction_id.as_ref().unwrap(),
            state,
            None,
        )
        .await
        .unwrap();
    let message = failed.lock().unwrap().clone();
    message.expect("the generation failed")
}

#[tokio::test]
async fn a_store_failure_message_shows_no_storage_key_or_path() {
    let refusals = [
        StoreError::Unavailable(
            "refusing unsafe object key \"users/auth0|abc:def/images/x.png\"".into(),
        ),
        StoreError::Unavailable(
            "local storage: Permission denied (os error 13) at /var/lib/picture/files/users".into(),
        ),
        StoreError::TooLarge,
    ];
    for refusal in refusals {
        let message = failure_message_when_the_store_answers(refusal.clone()).await;
        for secret in [
            "users",
            "images",
            "auth0",
            ".png",
            "/",
            "key",
            "local storage",
            "os error",
        ] {
            assert!(
                !message.contains(secret),
                "{refusal:?} gave {message:?}, which shows {secret:?}"
            );
        }
        assert!(message.starts_with("Storing the image failed"), "{message}");
    }
}
