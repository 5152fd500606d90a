use std::sync::Arc;
use std::time::Duration;

use picture_domain::catalog_seed::seed_models;
use picture_domain::ports::{Funds, GenerationRepository, ModelCatalog, Transition};
use picture_domain::{
    Billing, CreditAmount, Enforcement, FreemiumPolicy, GenerationId, GenerationParams,
    GenerationStatus, ImageId, ModelId, NewGeneration, NewImage, PredictionId, RepositoryError,
    UserId,
};
use picture_persistence::{DieselGenerationRepository, DieselModelCatalog};

use crate::{TestDatabase, at};

contract!(
    generations_are_stored_and_found_by_owner_and_prediction,
    generations_only_move_forward,
    concurrent_finalisations_have_exactly_one_winner,
    a_prediction_id_belongs_to_one_generation,
    a_duplicate_generation_id_is_a_conflict,
    one_finaliser_holds_the_claim_until_it_expires,
    the_reconciler_sees_only_old_unclaimed_processing_generations,
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
    catalog.seed(&seed_models(), "flux-schnell").await.unwrap();
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
    let image = repo
        .complete(new.id, &image_of(&new), Some(3), at(20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(image.image.record, image_of(&new));
    assert_eq!(image.charge, None);
    assert!(!repo.transition(new.id, &failed, at(30)).await.unwrap());
    assert!(
        repo.complete(new.id, &image_of(&new), Some(4), at(40))
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
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let repo = Arc::clone(&repo);
            let new = new.clone();
            tokio::spawn(async move {
                match i % 3 {
                    0 => {
                        let image = repo
                            .complete(new.id, &image_of(&new), Some(i), at(100))
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
        !repo.claim_finalization(new.id, lease, at(0)).await.unwrap(),
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
        won += usize::from(claim.await.unwrap().unwrap());
    }
    assert_eq!(won, 1);
    assert!(
        !repo
            .claim_finalization(new.id, lease, at(30_000))
            .await
            .unwrap()
    );
    assert!(
        repo.claim_finalization(new.id, lease, at(61_001))
            .await
            .unwrap(),
        "expired"
    );
    repo.release_claim(new.id).await.unwrap();
    assert!(
        repo.claim_finalization(new.id, lease, at(61_002))
            .await
            .unwrap()
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
    );
    let stale = repo
        .stale_processing(at(5_000), at(10_000), 10)
        .await
        .unwrap();
    let ids: Vec<_> = stale.iter().map(|g| g.record.id).collect();
    assert_eq!(ids, vec![old.id]);
}
