use std::collections::HashSet;
use std::sync::Arc;

use picture_domain::ModelId;
use picture_domain::RepositoryError;
use picture_domain::catalog_seed::{Catalogue, OFFLINE_PREVIEW_MODEL, seed_models};
use picture_domain::ports::ModelCatalog;
use picture_domain::{ModelSpec, ProviderName};
use picture_persistence::{Database, DieselModelCatalog};

use crate::TestDatabase;

contract!(
    migrations_are_idempotent,
    the_database_answers_pings,
    seeding_lists_the_default_first_then_by_sort_order,
    seeding_twice_changes_nothing,
    reseeding_moves_the_default_and_keeps_ids,
    seeding_with_an_unknown_default_is_refused,
    concurrent_seeding_leaves_one_row_per_name,
    models_are_found_by_id_active_or_not,
    seeding_retires_models_of_missing_providers_and_those_removed_from_settings,
);

/// `specs` with `default`, on a server with the offline renderer and Replicate.
pub(crate) fn seeded(specs: Vec<ModelSpec>, default: &str) -> Catalogue {
    Catalogue {
        specs,
        default: default.to_owned(),
        registered: vec![ProviderName::OFFLINE, ProviderName::REPLICATE],
        managed: vec![],
    }
}

pub(crate) fn catalog(db: &TestDatabase) -> DieselModelCatalog {
    DieselModelCatalog::new(db.database.clone())
}

async fn migrations_are_idempotent(db: &TestDatabase) {
    assert!(Database::migrate(&db.url).await.unwrap().is_empty());
}

async fn the_database_answers_pings(db: &TestDatabase) {
    db.database.ping().await.unwrap();
}

async fn seeding_lists_the_default_first_then_by_sort_order(db: &TestDatabase) {
    let catalog = catalog(db);
    catalog
        .seed(&seeded(seed_models(), "flux-schnell"))
        .await
        .unwrap();
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
        .seed(&seeded(seed_models(), OFFLINE_PREVIEW_MODEL))
        .await
        .unwrap();
    let first = catalog.list_active().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    catalog
        .seed(&seeded(seed_models(), OFFLINE_PREVIEW_MODEL))
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
        .seed(&seeded(seed_models(), OFFLINE_PREVIEW_MODEL))
        .await
        .unwrap();
    let before: HashSet<_> = catalog
        .list_active()
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.spec.name, m.id))
        .collect();
    catalog
        .seed(&seeded(seed_models(), "flux-schnell"))
        .await
        .unwrap();
    let after = catalog.list_active().await.unwrap();
    let defaults: Vec<_> = after.iter().filter(|m| m.spec.is_default).collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0].spec.name, "flux-schnell");
    let after: HashSet<_> = after.into_iter().map(|m| (m.spec.name, m.id)).collect();
    assert_eq!(before, after);
}

async fn seeding_with_an_unknown_default_is_refused(db: &TestDatabase) {
    let result = catalog(db)
        .seed(&seeded(seed_models(), "no-such-model"))
        .await;
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
            tokio::spawn(async move { catalog.seed(&seeded(seed_models(), default)).await })
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
    catalog.seed(&seeded(specs, "flux-schnell")).await.unwrap();
    let active = catalog.list_active().await.unwrap();
    assert!(active.iter().all(|m| m.spec.name != inactive_name));
    let flux = active
        .iter()
        .find(|m| m.spec.name == "flux-schnell")
        .unwrap();
    assert_eq!(catalog.get(flux.id).await.unwrap().as_ref(), Some(flux));
    assert_eq!(catalog.get(ModelId::new_random()).await.unwrap(), None);
}

async fn seeding_retires_models_of_missing_providers_and_those_removed_from_settings(
    db: &TestDatabase,
) {
    let catalog = catalog(db);
    let openai = ProviderName::from_static("openai");
    let extra = |name: &str| ModelSpec {
        name: name.to_owned(),
        provider: openai.clone(),
        model_ref: name.to_owned(),
        ..seed_models().remove(0)
    };
    let first = picture_domain::catalog_seed::catalogue(
        &[
            ProviderName::OFFLINE,
            ProviderName::REPLICATE,
            openai.clone(),
        ],
        vec![extra("gpt-image-1"), extra("dall-e-3")],
    );
    catalog.seed(&first).await.unwrap();
    let offered = |models: Vec<picture_domain::Model>| -> Vec<(String, String)> {
        models
            .into_iter()
            .map(|m| (m.spec.name, m.spec.provider.as_str().to_owned()))
            .collect()
    };
    let listed = offered(catalog.list_active().await.unwrap());
    assert_eq!(listed.len(), 6, "{listed:?}");
    assert!(listed.contains(&("dall-e-3".to_owned(), "openai".to_owned())));

    // dall-e-3 removed from the settings, Replicate's token removed.
    let second = picture_domain::catalog_seed::catalogue(
        &[ProviderName::OFFLINE, openai.clone()],
        vec![extra("gpt-image-1")],
    );
    catalog.seed(&second).await.unwrap();
    let listed = offered(catalog.list_active().await.unwrap());
    assert_eq!(
        listed,
        [
            ("gpt-image-1".to_owned(), "openai".to_owned()),
            (OFFLINE_PREVIEW_MODEL.to_owned(), "offline".to_owned()),
        ]
    );

    // Back to the embedded default: every seeded model rendered offline, OpenAI's retired.
    catalog
        .seed(&picture_domain::catalog_seed::catalogue(
            &[ProviderName::OFFLINE],
            vec![],
        ))
        .await
        .unwrap();
    let listed = offered(catalog.list_active().await.unwrap());
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert!(listed.iter().all(|(_, provider)| provider == "offline"));
}
