use std::sync::Arc;
use std::time::Duration;

use picture_domain::catalog_seed::seed_models;
use picture_domain::ports::{
    Completion, Funds, GenerationLifecycle, GenerationReads, ImageRepository, LeaseToken,
    ModelCatalog, ReconcilerQueue, Transition,
};
use picture_domain::{
    Billing, CreditAmount, Enforcement, FreemiumPolicy, GenerationId, GenerationParams,
    GenerationStatus, ImageId, ModelId, NewGeneration, NewImage, PredictionId, RepositoryError,
    UserId,
};
use picture_persistence::{DieselGenerationRepository, DieselImageRepository, DieselModelCatalog};

use crate::{TestDatabase, at};

contract!(
    generations_are_stored_and_found_by_owner_and_prediction,
    generations_only_move_forward,
    concurrent_finalisations_have_exactly_one_winner,
    a_prediction_id_belongs_to_one_generation,
    a_duplicate_generation_id_is_a_conflict,
    one_finaliser_holds_the_claim_until_it_expires,
    the_reconciler_sees_only_old_unclaimed_processing_generations,
    only_the_lease_holder_ends_a_leased_generation,
    a_dead_finalisers_lease_is_taken_over_once_it_runs_out,
    reconciler_passes_take_disjoint_rows_and_a_dead_finalisers_row_at_once,
    a_pending_row_is_taken_by_one_pass_per_hold,
    a_completed_generations_image_keeps_its_blurhash,
);

/// The development rule: never blocks, never charges.
pub(crate) fn off() -> FreemiumPolicy {
    FreemiumPolicy::new(3, CreditAmount::new(10).unwrap(), Enforcement::Off)
}

pub(crate) fn new_generation(user: &str, model_id: Option<ModelId>) -> NewGeneration {
    NewGeneration {
        id: GenerationId::new_random(),
        user_id: UserId::parse(user).unwrap(),
        model_id,
        model_name: model_id.map(|_| "flux-schnell".to_owned()),
        provider: picture_domain::ProviderName::REPLICATE,
        prompt: "a lighthouse at dusk".into(),
        negative_prompt: Some("fog".into()),
        style: None,
        source_image_url: None,
        params: GenerationParams {
            width: 1344,
            height: 768,
            steps: 4,
            guidance_scale: 0.0,
            seed: Some(9_007_199_254_740_991),
            generation_strength: None,
        },
        created_at: at(1_700_000_000_123),
    }
}

/// The image a finaliser stores for `generation`.
pub(crate) fn image_of(generation: &NewGeneration) -> NewImage {
    let id = ImageId::from_uuid(generation.id.as_uuid());
    NewImage {
        id,
        user_id: generation.user_id.clone(),
        generation_id: Some(generation.id),
        prompt: generation.prompt.clone(),
        negative_prompt: generation.negative_prompt.clone(),
        model: generation.model_name.clone(),
        style: None,
        public_url: Some(format!("http://localhost/files/{id}.png")),
        storage_path: format!("users/{}/images/{id}.png", generation.user_id),
        filename: format!("generated-{}.png", generation.id),
        format: Some("png".into()),
        width: Some(1344),
        height: Some(768),
        file_size: Some(12_345),
        blurhash: None,
        created_at: at(1_700_000_100_000),
    }
}

pub(crate) async fn created(repo: &DieselGenerationRepository, new: &NewGeneration) {
    repo.create(new, &off(), Funds::Local)
        .await
        .unwrap()
        .unwrap();
}

fn prediction(raw: &str) -> PredictionId {
    PredictionId::parse(raw).unwrap()
}

fn processing(raw: &str) -> Transition {
    Transition::Processing {
        prediction_id: prediction(raw),
    }
}

async fn generations_are_stored_and_found_by_owner_and_prediction(db: &TestDatabase) {
    let catalog = DieselModelCatalog::new(db.database.clone());
    catalog
        .seed(&crate::models::seeded(seed_models(), "flux-schnell"))
        .await
        .unwrap();
    let model = catalog.list_active().await.unwrap().remove(0);
    let repo = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation("owner", Some(model.id));
    let created = repo
        .create(&new, &off(), Funds::Local)
        .await
        .unwrap()
        .unwrap();
    let stored = created.generation;
    assert_eq!(stored.record, new);
    assert_eq!(stored.status, GenerationStatus::Pending);
    assert_eq!(stored.billing, Billing::Free);
    assert_eq!(created.free_generations_remaining, 2);
    assert_eq!(stored.prediction_id, None);
    assert_eq!(stored.completed_at, None);
    assert_eq!(stored.credits_used, 0);
    assert_eq!(repo.find(new.id).await.unwrap(), Some(stored.clone()));
    let owner = UserId::parse("owner").unwrap();
    let stranger = UserId::parse("stranger").unwrap();
    assert_eq!(
        repo.find_for_user(&owner, new.id).await.unwrap(),
        Some(stored)
    );
    assert_eq!(repo.find_for_user(&stranger, new.id).await.unwrap(), None);
    assert_eq!(repo.find(GenerationId::new_random()).await.unwrap(), None);

    let p = prediction("gm3qorzdhgbfurvjtvhg6dckhu");
    assert!(
        repo.transition(new.id, &processing(p.as_str()), at(1))
            .await
            .unwrap()
    );
    let found = repo.find_by_prediction(&p).await.unwrap().unwrap();
    assert_eq!(
        (found.record.id, found.status),
        (new.id, GenerationStatus::Processing)
    );
    assert_eq!(found.prediction_id, Some(p));
    assert_eq!(
        repo.find_by_prediction(&prediction("other")).await.unwrap(),
        None
    );
}

async fn generations_only_move_forward(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation("u", None);
    created(&repo, &new).await;
    let failed = Transition::Failed {
        message: "NSFW content detected".into(),
    };
    assert!(
        repo.transition(new.id, &processing("p1"), at(10))
            .await
            .unwrap()
    );
    assert!(
        !repo
            .transition(new.id, &processing("p1"), at(11))
            .await
            .unwrap()
    );
    let image = complete_as_finaliser(&repo, new.id, &image_of(&new), Some(3), at(20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(image.image.record, image_of(&new));
    assert_eq!(image.charge, None);
    assert!(!repo.transition(new.id, &failed, at(30)).await.unwrap());
    assert!(
        complete_as_finaliser(&repo, new.id, &image_of(&new), Some(4), at(40))
            .await
            .unwrap()
            .is_none()
    );
    let done = repo.find(new.id).await.unwrap().unwrap();
    assert_eq!(done.status, GenerationStatus::Completed);
    assert_eq!(done.generation_time_seconds, Some(3));
    assert_eq!(done.completed_at, Some(at(20)));
    assert_eq!(done.error_message, None);

    let cancelled = new_generation("u", None);
    created(&repo, &cancelled).await;
    let cancel = Transition::Cancelled {
        message: "Cancelled by user".into(),
    };
    assert!(
        repo.transition(cancelled.id, &cancel, at(50))
            .await
            .unwrap()
    );
    assert!(
        !repo
            .transition(cancelled.id, &processing("p2"), at(51))
            .await
            .unwrap()
    );
    let row = repo.find(cancelled.id).await.unwrap().unwrap();
    assert_eq!(row.status, GenerationStatus::Cancelled);
    assert_eq!(row.error_message.as_deref(), Some("Cancelled by user"));
    assert_eq!(row.prediction_id, None);
    assert!(
        !repo
            .transition(GenerationId::new_random(), &failed, at(60))
            .await
            .unwrap()
    );
}

async fn concurrent_finalisations_have_exactly_one_winner(db: &TestDatabase) {
    let repo = Arc::new(DieselGenerationRepository::new(db.database.clone()));
    let new = new_generation("u", None);
    created(&repo, &new).await;
    assert!(
        repo.transition(new.id, &processing("p-race"), at(1))
            .await
            .unwrap()
    );
    // A finaliser's lease, run out by the time of the race: failures and cancels may win.
    let token = repo
        .claim_finalization(new.id, Duration::from_millis(1), at(1))
        .await
        .unwrap()
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let repo = Arc::clone(&repo);
            let new = new.clone();
            let token = token.clone();
            tokio::spawn(async move {
                match i % 3 {
                    0 => {
                        let image = repo
                            .complete(new.id, &token, &image_of(&new), Some(i), at(100))
                            .await;
                        (image.unwrap().is_some(), GenerationStatus::Completed)
                    }
                    1 => {
                        let failed = Transition::Failed {
                            message: format!("failure {i}"),
                        };
                        let won = repo.transition(new.id, &failed, at(100)).await.unwrap();
                        (won, GenerationStatus::Failed)
                    }
                    _ => {
                        let cancel = Transition::Cancelled {
                            message: format!("cancel {i}"),
                        };
                        let won = repo.transition(new.id, &cancel, at(100)).await.unwrap();
                        (won, GenerationStatus::Cancelled)
                    }
                }
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (won, status) = task.await.unwrap();
        if won {
            winners.push(status);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one finaliser wins");
    let row = repo.find(new.id).await.unwrap().unwrap();
    assert_eq!(row.status, winners[0]);
}

async fn a_prediction_id_belongs_to_one_generation(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let first = new_generation("u", None);
    let second = new_generation("u", None);
    created(&repo, &first).await;
    created(&repo, &second).await;
    assert!(
        repo.transition(first.id, &processing("same"), at(1))
            .await
            .unwrap()
    );
    let result = repo.transition(second.id, &processing("same"), at(2)).await;
    assert!(
        matches!(result, Err(RepositoryError::Conflict(_))),
        "{result:?}"
    );
    let untouched = repo.find(second.id).await.unwrap().unwrap();
    assert_eq!(untouched.status, GenerationStatus::Pending);
}

async fn a_duplicate_generation_id_is_a_conflict(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation("u", None);
    created(&repo, &new).await;
    let again = repo.create(&new, &off(), Funds::Local).await;
    assert!(
        matches!(again, Err(RepositoryError::Conflict(_))),
        "{again:?}"
    );
}

async fn one_finaliser_holds_the_claim_until_it_expires(db: &TestDatabase) {
    let repo = Arc::new(DieselGenerationRepository::new(db.database.clone()));
    let new = new_generation("u", None);
    created(&repo, &new).await;
    let lease = Duration::from_secs(60);
    assert!(
        repo.claim_finalization(new.id, lease, at(0))
            .await
            .unwrap()
            .is_none(),
        "pending"
    );
    assert!(
        repo.transition(new.id, &processing("p"), at(1))
            .await
            .unwrap()
    );
    let claims: Vec<_> = (0..8)
        .map(|_| {
            let repo = Arc::clone(&repo);
            tokio::spawn(async move { repo.claim_finalization(new.id, lease, at(1_000)).await })
        })
        .collect();
    let mut won = 0;
    for claim in claims {
        won += usize::from(claim.await.unwrap().unwrap().is_some());
    }
    assert_eq!(won, 1);
    assert!(
        repo.claim_finalization(new.id, lease, at(30_000))
            .await
            .unwrap()
            .is_none()
    );
    let token = repo
        .claim_finalization(new.id, lease, at(61_001))
        .await
        .unwrap();
    assert!(token.is_some(), "expired");
    repo.release_claim(new.id, &token.unwrap()).await.unwrap();
    assert!(
        repo.claim_finalization(new.id, lease, at(61_002))
            .await
            .unwrap()
            .is_some()
    );
}

async fn the_reconciler_sees_only_old_unclaimed_processing_generations(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let old = new_generation("u", None);
    let recent = new_generation("u", None);
    let claimed = new_generation("u", None);
    let pending = new_generation("u", None);
    for g in [&old, &recent, &claimed, &pending] {
        created(&repo, g).await;
    }
    assert!(
        repo.transition(old.id, &processing("old"), at(1_000))
            .await
            .unwrap()
    );
    assert!(
        repo.transition(recent.id, &processing("recent"), at(9_000))
            .await
            .unwrap()
    );
    assert!(
        repo.transition(claimed.id, &processing("claimed"), at(1_000))
            .await
            .unwrap()
    );
    assert!(
        repo.claim_finalization(claimed.id, Duration::from_secs(60), at(5_000))
            .await
            .unwrap()
            .is_some()
    );
    let stale = repo
        .stale_processing(at(5_000), at(10_000), Duration::from_secs(30), 10)
        .await
        .unwrap();
    let ids: Vec<_> = stale.iter().map(|g| g.record.id).collect();
    assert_eq!(ids, vec![old.id]);
}

/// Completes generation `id` as a finaliser would: claims its lease at `at` and completes
/// with that token (or with a token that holds nothing, when the claim fails).
pub(crate) async fn complete_as_finaliser(
    repo: &DieselGenerationRepository,
    id: GenerationId,
    image: &NewImage,
    generation_time_seconds: Option<i32>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Completion>, RepositoryError> {
    let token = repo
        .claim_finalization(id, Duration::from_secs(60), at)
        .await?
        .unwrap_or_else(LeaseToken::new_random);
    repo.complete(id, &token, image, generation_time_seconds, at)
        .await
}

/// A generation of `user` moved to `processing` (prediction `prediction`) at `when`.
async fn processing_at(
    repo: &DieselGenerationRepository,
    user: &str,
    prediction: &str,
    when: i64,
) -> NewGeneration {
    let new = new_generation(user, None);
    created(repo, &new).await;
    assert!(
        repo.transition(new.id, &processing(prediction), at(when))
            .await
            .unwrap()
    );
    new
}

async fn only_the_lease_holder_ends_a_leased_generation(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let new = processing_at(&repo, "holder", "p-held", 1).await;
    let lease = Duration::from_secs(60);
    let token = repo
        .claim_finalization(new.id, lease, at(1_000))
        .await
        .unwrap()
        .unwrap();
    let stranger = LeaseToken::new_random();
    let cancel = Transition::Cancelled {
        message: "Cancelled by user".into(),
    };
    let failed = Transition::Failed {
        message: "The provider no longer knows this prediction".into(),
    };
    // While the lease is live, neither a cancel nor another failure moves it.
    assert!(!repo.transition(new.id, &cancel, at(2_000)).await.unwrap());
    assert!(!repo.transition(new.id, &failed, at(2_000)).await.unwrap());
    assert!(
        !repo
            .fail_finalization(new.id, &stranger, "x", at(2_000))
            .await
            .unwrap()
    );
    assert!(
        complete_with(&repo, &new, &stranger, at(2_000))
            .await
            .is_none()
    );
    assert!(
        !repo
            .renew_finalization(new.id, &stranger, lease, at(2_000))
            .await
            .unwrap()
    );
    // Renewed by its holder, the lease outlives its first end (61 s).
    assert!(
        repo.renew_finalization(new.id, &token, lease, at(50_000))
            .await
            .unwrap()
    );
    assert!(!repo.transition(new.id, &cancel, at(100_000)).await.unwrap());
    assert_eq!(
        repo.find(new.id).await.unwrap().unwrap().status,
        GenerationStatus::Processing
    );
    // Its holder completes it; the lease ends with it.
    let completion = complete_with(&repo, &new, &token, at(100_000)).await;
    assert!(completion.is_some());
    assert!(
        !repo
            .renew_finalization(new.id, &token, lease, at(100_001))
            .await
            .unwrap()
    );

    // A holder's own failure ends it while the lease is live.
    let other = processing_at(&repo, "holder", "p-fails", 1).await;
    let token = repo
        .claim_finalization(other.id, lease, at(1_000))
        .await
        .unwrap()
        .unwrap();
    assert!(
        repo.fail_finalization(other.id, &token, "download failed", at(2_000))
            .await
            .unwrap()
    );
    let row = repo.find(other.id).await.unwrap().unwrap();
    assert_eq!(row.status, GenerationStatus::Failed);
    assert_eq!(row.error_message.as_deref(), Some("download failed"));
}

async fn complete_with(
    repo: &DieselGenerationRepository,
    new: &NewGeneration,
    token: &LeaseToken,
    when: chrono::DateTime<chrono::Utc>,
) -> Option<Completion> {
    repo.complete(new.id, token, &image_of(new), None, when)
        .await
        .unwrap()
}

async fn a_dead_finalisers_lease_is_taken_over_once_it_runs_out(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let new = processing_at(&repo, "u", "p-dead", 1).await;
    let lease = Duration::from_secs(15);
    let dead = repo
        .claim_finalization(new.id, lease, at(1_000))
        .await
        .unwrap()
        .unwrap();
    // Never renewed: it is refused to others until 16 s, then taken over.
    assert!(
        repo.claim_finalization(new.id, lease, at(16_000))
            .await
            .unwrap()
            .is_none()
    );
    let alive = repo
        .claim_finalization(new.id, lease, at(16_001))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(alive, dead);
    // The dead finaliser, should it wake up, can no longer end or renew it.
    assert!(
        !repo
            .renew_finalization(new.id, &dead, lease, at(16_002))
            .await
            .unwrap()
    );
    assert!(
        !repo
            .fail_finalization(new.id, &dead, "late", at(16_002))
            .await
            .unwrap()
    );
    assert!(
        complete_with(&repo, &new, &dead, at(16_002))
            .await
            .is_none()
    );
    assert!(
        complete_with(&repo, &new, &alive, at(17_000))
            .await
            .is_some()
    );

    // A cancel after a dead finaliser's lease ran out wins.
    let other = processing_at(&repo, "u", "p-dead-2", 1).await;
    let dead = repo
        .claim_finalization(other.id, lease, at(1_000))
        .await
        .unwrap()
        .unwrap();
    let cancel = Transition::Cancelled {
        message: "Cancelled by user".into(),
    };
    assert!(
        repo.transition(other.id, &cancel, at(16_001))
            .await
            .unwrap()
    );
    assert!(
        complete_with(&repo, &other, &dead, at(16_002))
            .await
            .is_none()
    );
}

async fn reconciler_passes_take_disjoint_rows_and_a_dead_finalisers_row_at_once(db: &TestDatabase) {
    let repo = Arc::new(DieselGenerationRepository::new(db.database.clone()));
    let mut old = Vec::new();
    for i in 0..6 {
        old.push(
            processing_at(&repo, "u", &format!("p-old-{i}"), 1_000)
                .await
                .id,
        );
    }
    // Young, but its finaliser's lease ran out at 9 s: taken at once.
    let orphaned = processing_at(&repo, "u", "p-orphaned", 8_000).await.id;
    repo.claim_finalization(orphaned, Duration::from_secs(1), at(8_000))
        .await
        .unwrap()
        .unwrap();
    // Young and leased: left to its finaliser.
    let leased = processing_at(&repo, "u", "p-leased", 8_000).await.id;
    repo.claim_finalization(leased, Duration::from_secs(60), at(8_000))
        .await
        .unwrap()
        .unwrap();
    let hold = Duration::from_secs(30);
    let passes: Vec<_> = (0..3)
        .map(|_| {
            let repo = Arc::clone(&repo);
            tokio::spawn(async move { repo.stale_processing(at(5_000), at(10_000), hold, 2).await })
        })
        .collect();
    let mut taken = Vec::new();
    for pass in passes {
        taken.extend(
            pass.await
                .unwrap()
                .unwrap()
                .into_iter()
                .map(|g| g.record.id),
        );
    }
    // Later passes within the hold take only what is left.
    loop {
        let more = repo
            .stale_processing(at(5_000), at(11_000), hold, 2)
            .await
            .unwrap();
        if more.is_empty() {
            break;
        }
        taken.extend(more.into_iter().map(|g| g.record.id));
    }
    let mut unique = taken.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), taken.len(), "no row taken twice: {taken:?}");
    let mut expected = old.clone();
    expected.push(orphaned);
    expected.sort();
    assert_eq!(unique, expected);
    // Once the hold has passed, the rows still stuck are taken again.
    let again = repo
        .stale_processing(at(5_000), at(41_001), hold, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 7);
}

async fn a_pending_row_is_taken_by_one_pass_per_hold(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let mut stuck = new_generation("u", None);
    stuck.created_at = at(1_000);
    created(&repo, &stuck).await;
    let hold = Duration::from_secs(30);
    let first = repo
        .stale_pending(at(5_000), at(10_000), hold, 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        repo.stale_pending(at(5_000), at(20_000), hold, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        repo.stale_pending(at(5_000), at(40_001), hold, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn a_completed_generations_image_keeps_its_blurhash(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let images = DieselImageRepository::new(db.database.clone());
    let new = new_generation("u", None);
    created(&repo, &new).await;
    assert!(
        repo.transition(new.id, &processing("p1"), at(10))
            .await
            .unwrap()
    );
    let image = NewImage {
        blurhash: Some("LKO2?U%2Tw=w]~RBVZRi};RPxuwH".into()),
        ..image_of(&new)
    };
    let completion = complete_as_finaliser(&repo, new.id, &image, None, at(20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(completion.image.record, image);
    let read = images
        .find_visible(&new.user_id, image.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        read.record.blurhash.as_deref(),
        Some("LKO2?U%2Tw=w]~RBVZRi};RPxuwH")
    );
}
