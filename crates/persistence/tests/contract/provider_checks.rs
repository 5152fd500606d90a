//! The provider-poll throttle: a compare-and-set on a processing generation's "provider
//! checked at" time, won by at most one caller per interval on any instance.

use std::sync::Arc;
use std::time::Duration;

use picture_domain::PredictionId;
use picture_domain::ports::{GenerationLifecycle, Transition};
use picture_persistence::{Database, DieselGenerationRepository, PoolOptions};

use crate::generations::{created, new_generation};
use crate::{TestDatabase, at};

contract!(
    one_provider_check_per_interval_whoever_asks_on_whichever_instance,
    only_a_processing_generation_is_checked,
);

const INTERVAL: Duration = Duration::from_secs(2);

async fn one_provider_check_per_interval_whoever_asks_on_whichever_instance(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation("u", None);
    created(&repo, &new).await;
    let processing = Transition::Processing {
        prediction_id: PredictionId::parse("p-poll").unwrap(),
    };
    assert!(repo.transition(new.id, &processing, at(0)).await.unwrap());
    // Two instances, each with its own pool, eight pollers each, at once.
    let mut claims = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let database = Database::connect(&db.url, PoolOptions::default())
            .await
            .unwrap();
        let instance = Arc::new(DieselGenerationRepository::new(database));
        for poller in 0..8 {
            let instance = Arc::clone(&instance);
            claims.spawn(async move {
                instance
                    .claim_provider_check(new.id, INTERVAL, at(1_000 + poller))
                    .await
                    .unwrap()
            });
        }
    }
    let won = claims
        .join_all()
        .await
        .into_iter()
        .filter(|won| *won)
        .count();
    assert_eq!(won, 1, "one provider call for sixteen polls");
    assert!(
        !repo
            .claim_provider_check(new.id, INTERVAL, at(2_999))
            .await
            .unwrap(),
        "within the interval of the last check"
    );
    assert!(
        repo.claim_provider_check(new.id, INTERVAL, at(3_007))
            .await
            .unwrap(),
        "an interval after the last check"
    );
    assert!(
        !repo
            .claim_provider_check(new.id, INTERVAL, at(3_008))
            .await
            .unwrap()
    );
}

async fn only_a_processing_generation_is_checked(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation("u", None);
    created(&repo, &new).await;
    assert!(
        !repo
            .claim_provider_check(new.id, INTERVAL, at(0))
            .await
            .unwrap(),
        "pending"
    );
    let failed = Transition::Failed {
        message: "gone".to_owned(),
    };
    assert!(repo.transition(new.id, &failed, at(1)).await.unwrap());
    assert!(
        !repo
            .claim_provider_check(new.id, INTERVAL, at(10_000))
            .await
            .unwrap(),
        "failed"
    );
}
