//! Inline providers (the image in the submit's answer): the generation is `processing` under
//! the finalisation lease before the call, a client that does not wait gets `processing` at
//! once while the call finishes in the background, and a refusal gives the access back.
//! Also: routing by provider name.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::ports::{FetchedImage, ImageSource, LeaseToken, Submission};

/// A clock whose sleeps never end: no sync timeout cuts a wait short.
struct Timeless;

#[async_trait::async_trait]
impl Clock for Timeless {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        DateTime::UNIX_EPOCH
    }

    async fn sleep(&self, _: std::time::Duration) {
        std::future::pending::<()>().await;
    }
}

fn created(mocks: &mut Mocks) {
    mocks
        .generations
        .expect_create()
        .times(1)
        .returning(|new, _, _| {
            Ok(Ok(Created {
                generation: generation_for(new),
                decision: AccessDecision::Free { remaining_after: 2 },
                free_generations_remaining: 2,
                balance_after: None,
            }))
        });
}

/// `processing` as `<provider>-<generation id>` and the lease `t-1`, both before the call.
fn processing_and_lease(mocks: &mut Mocks) {
    mocks
        .generations
        .expect_transition()
        .withf(|id, t, _| {
            matches!(t, Transition::Processing { prediction_id }
                if prediction_id.as_str() == format!("replicate-{id}"))
        })
        .times(1)
        .returning(|_, _, _| Ok(true));
    mocks
        .generations
        .expect_claim_finalization()
        .times(1)
        .returning(|_, _, _| Ok(Some(LeaseToken::from_stored("t-1"))));
}

fn stores_the_image(mocks: &mut Mocks, completed: Arc<AtomicUsize>) {
    mocks.fetcher.expect_fetch().returning(|_| {
        Ok(FetchedImage {
            bytes: vec![1, 2, 3],
            extension: "png",
            content_type: "image/png",
            width: 1,
            height: 1,
        })
    });
    mocks.store.expect_put().returning(|_, _, _| Ok(()));
    mocks
        .store
        .expect_public_url()
        .returning(|key| format!("http://files/{}", key.as_str()));
    mocks
        .generations
        .expect_complete()
        .withf(|_, token, _, _, _| token.as_str() == "t-1")
        .times(1)
        .returning(move |id, _, image, _, _| {
            completed.fetch_add(1, Ordering::SeqCst);
            let mut generation = generation_for(&NewGeneration {
                id,
                ..image_record_generation(image)
            });
            generation.status = GenerationStatus::Completed;
            Ok(Some(crate::ports::Completion {
                generation,
                image: Image {
                    record: image.clone(),
                    source_image_id: None,
                    download_count: 0,
                    rating: None,
                    is_public: false,
                    is_favorite: false,
                    archived_at: None,
                    updated_at: image.created_at,
                },
                charge: None,
            }))
        });
}

/// A generation record matching a stored image (enough for the completion's answer).
fn image_record_generation(image: &crate::image::NewImage) -> NewGeneration {
    NewGeneration {
        id: GenerationId::new_random(),
        user_id: image.user_id.clone(),
        model_id: None,
        model_name: image.model.clone(),
        provider: crate::ProviderName::REPLICATE,
        prompt: image.prompt.clone(),
        negative_prompt: None,
        style: None,
        source_image_url: None,
        params: request(&sample_model()).resolve(&sample_model()),
        created_at: DateTime::UNIX_EPOCH,
    }
}

fn answers_an_image(mocks: &mut Mocks) {
    mocks.provider.expect_submit().times(1).returning(|r| {
        Ok(Submission {
            prediction_id: PredictionId::parse(format!("openai-{}", r.generation_id)).unwrap(),
            state: ProviderState::Succeeded {
                outputs: vec![ImageSource::DataUri("data:image/png;base64,AQID".into())],
                predict_time: None,
            },
        })
    });
}

fn waiting(model: &crate::Model, wait: bool) -> GenerationRequest {
    GenerationRequest::parse(RawGenerationRequest {
        prompt: Some("a cat".into()),
        model_id: Some(model.id.to_string()),
        wait_for_result: Some(wait),
        ..RawGenerationRequest::default()
    })
    .unwrap()
}

#[tokio::test]
async fn a_client_that_does_not_wait_gets_processing_and_the_call_completes_in_the_background() {
    let mut mocks = Mocks::new();
    mocks.inline = true;
    let model = sample_model();
    mocks.with_model();
    created(&mut mocks);
    processing_and_lease(&mut mocks);
    answers_an_image(&mut mocks);
    let completed = Arc::new(AtomicUsize::new(0));
    stores_the_image(&mut mocks, completed.clone());
    let service = mocks.service();

    let started = service
        .start
        .start(&user(), waiting(&model, false))
        .await
        .unwrap();
    let generation = &started.view.generation;
    assert_eq!(generation.status, GenerationStatus::Processing);
    assert_eq!(
        generation.prediction_id.as_ref().unwrap().as_str(),
        format!("replicate-{}", generation.record.id)
    );
    assert!(started.view.image.is_none());
    for _ in 0..100 {
        if completed.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        completed.load(Ordering::SeqCst),
        1,
        "completed once, in the background"
    );
}

#[tokio::test]
async fn a_client_that_waits_gets_the_image_from_the_same_call() {
    let mut mocks = Mocks::new();
    mocks.inline = true;
    let model = sample_model();
    mocks.with_model();
    created(&mut mocks);
    processing_and_lease(&mut mocks);
    answers_an_image(&mut mocks);
    let completed = Arc::new(AtomicUsize::new(0));
    stores_the_image(&mut mocks, completed.clone());
    // The sync timeout must not end the wait first.
    mocks.clock = Some(Arc::new(Timeless));

    let started = mocks
        .service()
        .start
        .start(&user(), waiting(&model, true))
        .await
        .unwrap();
    assert_eq!(started.view.generation.status, GenerationStatus::Completed);
    assert!(started.view.image.is_some());
    assert_eq!(completed.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refusal_of_a_waited_call_is_the_requests_error_and_gives_the_access_back() {
    let mut mocks = Mocks::new();
    mocks.inline = true;
    let model = sample_model();
    mocks.with_model();
    created(&mut mocks);
    processing_and_lease(&mut mocks);
    mocks
        .provider
        .expect_submit()
        .times(1)
        .returning(|_| Err(ProviderError::Rejected("content policy".into())));
    mocks.fetcher.expect_fetch().times(0);
    mocks
        .generations
        .expect_fail_finalization()
        .withf(|_, token, message, _| token.as_str() == "t-1" && message.contains("content policy"))
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    mocks.clock = Some(Arc::new(Timeless));

    let result = mocks
        .service()
        .start
        .start(&user(), waiting(&model, true))
        .await;
    assert!(
        matches!(
            result,
            Err(GenerateError::Provider(ProviderError::Rejected(_)))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_generation_cancelled_before_the_call_is_never_sent() {
    let mut mocks = Mocks::new();
    mocks.inline = true;
    let model = sample_model();
    mocks.with_model();
    created(&mut mocks);
    mocks
        .generations
        .expect_transition()
        .times(1)
        .returning(|_, _, _| Ok(false));
    mocks.generations.expect_claim_finalization().times(0);
    mocks.provider.expect_submit().times(0);
    mocks.generations.expect_find().returning(|id| {
        let mut cancelled = generation_for(&image_record_generation(&crate::image::NewImage {
            id: crate::ids::ImageId::from_uuid(id.as_uuid()),
            user_id: user(),
            generation_id: Some(id),
            prompt: "a cat".into(),
            negative_prompt: None,
            model: None,
            style: None,
            public_url: None,
            storage_path: String::new(),
            filename: String::new(),
            format: None,
            width: None,
            height: None,
            file_size: None,
            blurhash: None,
            created_at: DateTime::UNIX_EPOCH,
        }));
        cancelled.status = GenerationStatus::Cancelled;
        Ok(Some(cancelled))
    });
    let started = mocks
        .service()
        .start
        .start(&user(), waiting(&model, false))
        .await
        .unwrap();
    assert_eq!(started.view.generation.status, GenerationStatus::Cancelled);
}

#[tokio::test]
async fn a_model_whose_provider_is_not_registered_is_not_found_and_nothing_is_recorded() {
    let mut mocks = Mocks::new();
    let mut model = sample_model();
    model.spec.provider = crate::ProviderName::from_static("elsewhere");
    let found = model.clone();
    mocks
        .models
        .expect_get()
        .returning(move |_| Ok(Some(found.clone())));
    mocks.generations.expect_create().times(0);
    mocks.provider.expect_submit().times(0);
    let result = mocks.service().start.start(&user(), request(&model)).await;
    assert!(matches!(result, Err(GenerateError::ModelNotFound)));
}

#[tokio::test]
async fn a_report_from_another_provider_than_the_generations_changes_nothing() {
    let mut mocks = Mocks::new();
    let new = image_record_generation(&crate::image::NewImage {
        id: crate::ids::ImageId::new_random(),
        user_id: user(),
        generation_id: None,
        prompt: "p".into(),
        negative_prompt: None,
        model: None,
        style: None,
        public_url: None,
        storage_path: String::new(),
        filename: String::new(),
        format: None,
        width: None,
        height: None,
        file_size: None,
        blurhash: None,
        created_at: DateTime::UNIX_EPOCH,
    });
    let mut processing = generation_for(&new);
    processing.status = GenerationStatus::Processing;
    processing.prediction_id = Some(PredictionId::parse("offline-x").unwrap());
    mocks
        .generations
        .expect_find_by_prediction()
        .returning(move |_| Ok(Some(processing.clone())));
    mocks.generations.expect_claim_finalization().times(0);
    mocks.generations.expect_transition().times(0);
    let applied = mocks
        .service()
        .finalize
        .on_provider_report(
            &crate::ProviderName::OFFLINE,
            &PredictionId::parse("offline-x").unwrap(),
            ProviderState::Canceled,
            None,
        )
        .await
        .unwrap();
    assert_eq!(applied, None);
}
