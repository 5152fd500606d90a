//! The repository contract suite: every test runs against SQLite (always) and PostgreSQL (a fresh
//! database per test; skipped with a reason when PostgreSQL is absent, failed when `CI=true`).
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use picture_domain::catalog_seed::{OFFLINE_PREVIEW_MODEL, seed_models};
use picture_domain::ports::{GenerationRepository, ModelCatalog, ProfileRepository, Transition};
use picture_domain::{
    GenerationId, GenerationParams, GenerationStatus, ModelId, NewGeneration, NewProfile,
    PredictionId, RepositoryError, UserId,
};
use picture_persistence::{
    Database, DatabaseUrl, DieselGenerationRepository, DieselModelCatalog, DieselProfileRepository,
    PoolOptions,
};
use picture_test_support::PgTestDb;

/// A migrated database and whatever keeps it alive.
struct TestDatabase {
    database: Database,
    url: DatabaseUrl,
    _sqlite_dir: Option<tempfile::TempDir>,
    _pg: Option<PgTestDb>,
}

async fn open(url: DatabaseUrl) -> Database {
    Database::migrate(&url).await.unwrap();
    Database::connect(&url, PoolOptions::default())
        .await
        .unwrap()
}

async fn sqlite() -> Option<TestDatabase> {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::sqlite_file(dir.path().join("nested/picture.db"));
    Some(TestDatabase {
        database: open(url.clone()).await,
        url,
        _sqlite_dir: Some(dir),
        _pg: None,
    })
}

async fn postgres() -> Option<TestDatabase> {
    let pg = PgTestDb::create().await?;
    let url = DatabaseUrl::parse(pg.url()).unwrap();
    Some(TestDatabase {
        database: open(url.clone()).await,
        url,
        _sqlite_dir: None,
        _pg: Some(pg),
    })
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::sqlite().await.unwrap();
                    assert_eq!(db.database.backend(), picture_persistence::Backend::Sqlite);
                    super::$name(&db).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::postgres().await else { return };
                    assert_eq!(db.database.backend(), picture_persistence::Backend::Postgres);
                    super::$name(&db).await;
                }
            )*
        }
    };
}

contract!(
    migrations_are_idempotent,
    the_database_answers_pings,
    seeding_lists_the_default_first_then_by_sort_order,
    seeding_twice_changes_nothing,
    reseeding_moves_the_default_and_keeps_ids,
    seeding_with_an_unknown_default_is_refused,
    concurrent_seeding_leaves_one_row_per_name,
    models_are_found_by_id_active_or_not,
    profiles_are_created_once_from_the_first_call,
    concurrent_first_calls_create_one_profile,
    opaque_user_ids_are_stored_as_text,
    generations_are_stored_and_found_by_owner_and_prediction,
    generations_only_move_forward,
    concurrent_finalisations_have_exactly_one_winner,
    a_prediction_id_belongs_to_one_generation,
    a_duplicate_generation_id_is_a_conflict,
);

fn catalog(db: &TestDatabase) -> DieselModelCatalog {
    DieselModelCatalog::new(db.database.clone())
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

async fn migrations_are_idempotent(db: &TestDatabase) {
    assert!(Database::migrate(&db.url).await.unwrap().is_empty());
}

async fn the_database_answers_pings(db: &TestDatabase) {
    db.database.ping().await.unwrap();
}

async fn seeding_lists_the_default_first_then_by_sort_order(db: &TestDatabase) {
    let catalog = catalog(db);
    catalog.seed(&seed_models(), "flux-schnell").await.unwrap();
    let names: Vec<_> = catalog
        .list_active()
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.spec.name, m.spec.is_default))
        .collect();
    assert_eq!(
        names,
        [
            ("flux-schnell".to_owned(), true),
            ("offline-preview".to_owned(), false),
            ("seedream-3".to_owned(), false),
            ("nano-banana".to_owned(), false),
        ]
    );
}

async fn seeding_twice_changes_nothing(db: &TestDatabase) {
    let catalog = catalog(db);
    catalog
        .seed(&seed_models(), OFFLINE_PREVIEW_MODEL)
        .await
        .unwrap();
    let first = catalog.list_active().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    catalog
        .seed(&seed_models(), OFFLINE_PREVIEW_MODEL)
        .await
        .unwrap();
    let second = catalog.list_active().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first[0].spec.name, OFFLINE_PREVIEW_MODEL);
    let flux = first
        .iter()
        .find(|m| m.spec.name == "flux-schnell")
        .unwrap();
    assert_eq!(flux.spec.default_steps, 4);
    assert_eq!(flux.spec.default_guidance_scale, 0.0);
    assert_eq!(flux.spec.cost_per_generation, Some(0.003));
}

async fn reseeding_moves_the_default_and_keeps_ids(db: &TestDatabase) {
    let catalog = catalog(db);
    catalog
        .seed(&seed_models(), OFFLINE_PREVIEW_MODEL)
        .await
        .unwrap();
    let before: HashSet<_> = catalog
        .list_active()
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.spec.name, m.id))
        .collect();
    catalog.seed(&seed_models(), "flux-schnell").await.unwrap();
    let after = catalog.list_active().await.unwrap();
    let defaults: Vec<_> = after.iter().filter(|m| m.spec.is_default).collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0].spec.name, "flux-schnell");
    let after: HashSet<_> = after.into_iter().map(|m| (m.spec.name, m.id)).collect();
    assert_eq!(before, after);
}

async fn seeding_with_an_unknown_default_is_refused(db: &TestDatabase) {
    let result = catalog(db).seed(&seed_models(), "no-such-model").await;
    assert!(matches!(result, Err(RepositoryError::Conflict(_))));
    assert!(catalog(db).list_active().await.unwrap().is_empty());
}

async fn concurrent_seeding_leaves_one_row_per_name(db: &TestDatabase) {
    let catalog = Arc::new(catalog(db));
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let catalog = Arc::clone(&catalog);
            let default = if i % 2 == 0 {
                "flux-schnell"
            } else {
                OFFLINE_PREVIEW_MODEL
            };
            tokio::spawn(async move { catalog.seed(&seed_models(), default).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let models = catalog.list_active().await.unwrap();
    assert_eq!(models.len(), seed_models().len());
    assert_eq!(models.iter().filter(|m| m.spec.is_default).count(), 1);
}

async fn models_are_found_by_id_active_or_not(db: &TestDatabase) {
    let catalog = catalog(db);
    let mut specs = seed_models();
    specs[1].is_active = false;
    let inactive_name = specs[1].name.clone();
    catalog.seed(&specs, "flux-schnell").await.unwrap();
    let active = catalog.list_active().await.unwrap();
    assert!(active.iter().all(|m| m.spec.name != inactive_name));
    let flux = active
        .iter()
        .find(|m| m.spec.name == "flux-schnell")
        .unwrap();
    assert_eq!(catalog.get(flux.id).await.unwrap().as_ref(), Some(flux));
    assert_eq!(catalog.get(ModelId::new_random()).await.unwrap(), None);
}

async fn profiles_are_created_once_from_the_first_call(db: &TestDatabase) {
    let repo = DieselProfileRepository::new(db.database.clone());
    let user = UserId::parse("Xk3v9QbT1mN0pLr7sYw2ZcA5dE8fGh4J").unwrap();
    let first = repo
        .get_or_create(
            &NewProfile {
                id: user.clone(),
                email: "first@example.com".into(),
            },
            at(1_700_000_000_123),
        )
        .await
        .unwrap();
    assert_eq!(first.id, user);
    assert_eq!(first.email, "first@example.com");
    assert_eq!(first.username, None);
    assert_eq!(first.created_at, at(1_700_000_000_123));
    let again = repo
        .get_or_create(
            &NewProfile {
                id: user.clone(),
                email: "second@example.com".into(),
            },
            at(1_800_000_000_000),
        )
        .await
        .unwrap();
    assert_eq!(again, first);
}

async fn concurrent_first_calls_create_one_profile(db: &TestDatabase) {
    let repo = Arc::new(DieselProfileRepository::new(db.database.clone()));
    let user = UserId::parse("racer").unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let repo = Arc::clone(&repo);
            let new = NewProfile {
                id: user.clone(),
                email: format!("{i}@example.com"),
            };
            tokio::spawn(async move { repo.get_or_create(&new, at(i)).await })
        })
        .collect();
    let mut seen = HashSet::new();
    for task in tasks {
        let profile = task.await.unwrap().unwrap();
        seen.insert((profile.email, profile.created_at));
    }
    assert_eq!(seen.len(), 1, "every caller sees the same single profile");
}

async fn opaque_user_ids_are_stored_as_text(db: &TestDatabase) {
    let repo = DieselProfileRepository::new(db.database.clone());
    for raw in [
        "not-a-uuid",
        "user|with|pipes",
        "ユーザー",
        &"x".repeat(255),
    ] {
        let user = UserId::parse(raw).unwrap();
        let profile = repo
            .get_or_create(
                &NewProfile {
                    id: user.clone(),
                    email: String::new(),
                },
                at(0),
            )
            .await
            .unwrap();
        assert_eq!(profile.id.as_str(), raw);
    }
}

fn new_generation(user: &str, model_id: Option<ModelId>) -> NewGeneration {
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

fn prediction(raw: &str) -> PredictionId {
    PredictionId::parse(raw).unwrap()
}

async fn generations_are_stored_and_found_by_owner_and_prediction(db: &TestDatabase) {
    let catalog = catalog(db);
    catalog.seed(&seed_models(), "flux-schnell").await.unwrap();
    let model = catalog.list_active().await.unwrap().remove(0);
    let repo = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation("owner", Some(model.id));
    let stored = repo.insert(&new).await.unwrap();
    assert_eq!(stored.record, new);
    assert_eq!(stored.status, GenerationStatus::Pending);
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
        repo.transition(
            new.id,
            &Transition::Processing {
                prediction_id: p.clone()
            },
            at(1)
        )
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
    repo.insert(&new).await.unwrap();
    let processing = Transition::Processing {
        prediction_id: prediction("p1"),
    };
    let completed = Transition::Completed {
        generation_time_seconds: Some(3),
    };
    let failed = Transition::Failed {
        message: "NSFW content detected".into(),
    };
    assert!(repo.transition(new.id, &processing, at(10)).await.unwrap());
    assert!(!repo.transition(new.id, &processing, at(11)).await.unwrap());
    assert!(repo.transition(new.id, &completed, at(20)).await.unwrap());
    assert!(!repo.transition(new.id, &failed, at(30)).await.unwrap());
    assert!(!repo.transition(new.id, &completed, at(40)).await.unwrap());
    let done = repo.find(new.id).await.unwrap().unwrap();
    assert_eq!(done.status, GenerationStatus::Completed);
    assert_eq!(done.generation_time_seconds, Some(3));
    assert_eq!(done.completed_at, Some(at(20)));
    assert_eq!(done.error_message, None);

    let cancelled = new_generation("u", None);
    repo.insert(&cancelled).await.unwrap();
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
            .transition(cancelled.id, &processing, at(51))
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
    repo.insert(&new).await.unwrap();
    let processing = Transition::Processing {
        prediction_id: prediction("p-race"),
    };
    assert!(repo.transition(new.id, &processing, at(1)).await.unwrap());
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let repo = Arc::clone(&repo);
            let transition = match i % 3 {
                0 => Transition::Completed {
                    generation_time_seconds: Some(i),
                },
                1 => Transition::Failed {
                    message: format!("failure {i}"),
                },
                _ => Transition::Cancelled {
                    message: format!("cancel {i}"),
                },
            };
            tokio::spawn(async move {
                let won = repo.transition(new.id, &transition, at(100)).await.unwrap();
                (won, transition)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (won, transition) = task.await.unwrap();
        if won {
            winners.push(transition);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one finaliser wins");
    let row = repo.find(new.id).await.unwrap().unwrap();
    assert_eq!(row.status, winners[0].target());
}

async fn a_prediction_id_belongs_to_one_generation(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let first = new_generation("u", None);
    let second = new_generation("u", None);
    repo.insert(&first).await.unwrap();
    repo.insert(&second).await.unwrap();
    let shared = Transition::Processing {
        prediction_id: prediction("same"),
    };
    assert!(repo.transition(first.id, &shared, at(1)).await.unwrap());
    let result = repo.transition(second.id, &shared, at(2)).await;
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
    repo.insert(&new).await.unwrap();
    let again = repo.insert(&new).await;
    assert!(
        matches!(again, Err(RepositoryError::Conflict(_))),
        "{again:?}"
    );
}
