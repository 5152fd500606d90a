//! The provider-poll throttle: status polls, waiting requests and the reconciler ask the
//! provider only when they win the per-generation check.

use super::*;
use crate::model::tests::sample_model;
use crate::ports::MockGenerationRepository;

fn processing(id: GenerationId) -> Generation {
    let new = NewGeneration {
        id,
        user_id: user(),
        model_id: None,
        model_name: None,
        provider: crate::ProviderName::REPLICATE,
        prompt: "a cat".to_owned(),
        negative_prompt: None,
        style: None,
        source_image_url: None,
        params: request(&sample_model()).resolve(&sample_model()),
        created_at: DateTime::UNIX_EPOCH,
    };
    Generation {
        status: GenerationStatus::Processing,
        prediction_id: Some(PredictionId::parse("p-1").unwrap()),
        ..generation_for(&new)
    }
}

/// The repository finds `generation` however it is asked, and answers `won` to every claim
/// of a provider check for it (with the configured two-second interval).
fn repository(generation: &Generation, won: bool) -> MockGenerationRepository {
    let mut generations = MockGenerationRepository::new();
    let found = generation.clone();
    generations
        .expect_find_for_user()
        .returning(move |_, _| Ok(Some(found.clone())));
    let found = generation.clone();
    generations
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    let id = generation.record.id;
    generations
        .expect_claim_provider_check()
        .withf(move |claimed, interval, _| *claimed == id && *interval == Duration::from_secs(2))
        .times(1)
        .returning(move |_, _, _| Ok(won));
    generations
}

#[tokio::test]
async fn a_status_poll_that_loses_the_check_answers_from_the_row_without_the_provider() {
    let generation = processing(GenerationId::new_random());
    let mut mocks = Mocks::new();
    mocks.generations = repository(&generation, false);
    mocks.provider.expect_fetch().times(0);
    let view = mocks
        .service()
        .read
        .status(&user(), generation.record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.generation, generation);
}

#[tokio::test]
async fn a_status_poll_that_wins_the_check_asks_the_provider_once() {
    let generation = processing(GenerationId::new_random());
    let mut mocks = Mocks::new();
    mocks.generations = repository(&generation, true);
    mocks
        .provider
        .expect_fetch()
        .times(1)
        .returning(|_| Ok(ProviderState::Processing { progress: None }));
    let view = mocks
        .service()
        .read
        .status(&user(), generation.record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.generation.status, GenerationStatus::Processing);
}

#[tokio::test]
async fn the_reconciler_leaves_a_generation_just_checked_by_someone_else_alone() {
    let generation = processing(GenerationId::new_random());
    let mut mocks = Mocks::new();
    mocks.generations = repository(&generation, false);
    let stale = generation.clone();
    mocks
        .generations
        .expect_stale_processing()
        .returning(move |_, _, _, _| Ok(vec![stale.clone()]));
    mocks
        .generations
        .expect_stale_pending()
        .returning(|_, _, _, _| Ok(Vec::new()));
    mocks.provider.expect_fetch().times(0);
    let finished = mocks
        .service()
        .reconcile
        .reconcile(Duration::ZERO, 10)
        .await
        .unwrap();
    assert_eq!(finished, 0);
}

#[tokio::test]
async fn progress_the_provider_reports_is_recorded_and_changes_nothing_else() {
    let generation = processing(GenerationId::new_random());
    let id = generation.record.id;
    let mut mocks = Mocks::new();
    mocks.generations = repository(&generation, true);
    let three_of_four = crate::Progress::new(3, 4).unwrap();
    mocks.provider.expect_fetch().times(1).returning(move |_| {
        Ok(ProviderState::Processing {
            progress: Some(three_of_four),
        })
    });
    mocks
        .generations
        .expect_record_progress()
        .withf(move |recorded, progress, _| *recorded == id && *progress == three_of_four)
        .times(1)
        .returning(|_, _, _| Ok(true));
    mocks.generations.expect_transition().times(0);
    let view = mocks
        .service()
        .read
        .status(&user(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.generation.status, GenerationStatus::Processing);
}

#[tokio::test]
async fn progress_that_cannot_be_recorded_is_only_logged() {
    let generation = processing(GenerationId::new_random());
    let mut mocks = Mocks::new();
    mocks.generations = repository(&generation, true);
    mocks.provider.expect_fetch().returning(|_| {
        Ok(ProviderState::Processing {
            progress: crate::Progress::new(1, 2).ok(),
        })
    });
    mocks
        .generations
        .expect_record_progress()
        .times(1)
        .returning(|_, _, _| Err(RepositoryError::Unavailable("down".into())));
    let view = mocks
        .service()
        .read
        .status(&user(), generation.record.id)
        .await
        .unwrap();
    assert!(view.is_some(), "the poll still answers");
}
