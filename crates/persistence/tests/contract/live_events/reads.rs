//! Reading the log: replay and its filters, the latest event of a generation, the horizon,
//! pruning.

use chrono::{Duration, Utc};
use picture_domain::ports::{EventLog, GenerationLifecycle, Transition};
use picture_domain::{EventSeq, GenerationId, GenerationStatus, PredictionId, Progress};
use picture_persistence::DieselGenerationRepository;

use super::{Seen, assert_increasing, events_of, log, user};
use crate::generations::{created, new_generation};
use crate::{TestDatabase, at};

contract!(
    replay_filters_by_user_generation_position_and_count,
    latest_is_the_newest_event_of_the_generation,
    the_horizon_is_the_oldest_retained_event_and_prune_deletes_by_age,
);

async fn processing(repo: &DieselGenerationRepository, id: GenerationId) {
    let prediction_id = PredictionId::parse(format!("p-{id}")).unwrap();
    assert!(
        repo.transition(id, &Transition::Processing { prediction_id }, at(1))
            .await
            .unwrap()
    );
}

async fn replay_filters_by_user_generation_position_and_count(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let (first, second, theirs) = (
        new_generation("a", None),
        new_generation("a", None),
        new_generation("b", None),
    );
    for new in [&first, &theirs, &second] {
        created(&repo, new).await;
    }
    processing(&repo, theirs.id).await;
    processing(&repo, first.id).await;

    let all = events_of(db, "a").await;
    assert!(all.len() >= 5, "{all:?}");
    assert_increasing(&all);
    assert!(all.iter().all(|e| e.user == user("a")));
    assert!(!all.iter().any(|e| e.generation() == Some(theirs.id)));

    let log = log(db);
    let of_first = log
        .replay(&user("a"), EventSeq::START, Some(first.id), 100)
        .await
        .unwrap();
    assert_eq!(
        of_first.iter().map(Seen::of).collect::<Vec<_>>(),
        [
            Seen::Generation(first.id, GenerationStatus::Pending, None),
            Seen::Generation(first.id, GenerationStatus::Processing, None),
        ]
    );
    assert_eq!(
        of_first,
        all.iter()
            .filter(|e| e.generation() == Some(first.id))
            .cloned()
            .collect::<Vec<_>>()
    );
    let not_mine = log
        .replay(&user("a"), EventSeq::START, Some(theirs.id), 100)
        .await
        .unwrap();
    assert!(not_mine.is_empty());

    let after = log.replay(&user("a"), all[1].seq, None, 100).await.unwrap();
    assert_eq!(after, all[2..]);
    let limited = log
        .replay(&user("a"), EventSeq::START, None, 2)
        .await
        .unwrap();
    assert_eq!(limited, all[..2]);
    let last = all.last().unwrap().seq;
    assert!(
        log.replay(&user("a"), last, None, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let nobody = log
        .replay(&user("c"), EventSeq::START, None, 100)
        .await
        .unwrap();
    assert!(nobody.is_empty());
}

async fn latest_is_the_newest_event_of_the_generation(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let log = log(db);
    let new = new_generation("a", None);
    created(&repo, &new).await;
    let pending = log.latest(new.id).await.unwrap().unwrap();
    assert_eq!(
        Seen::of(&pending),
        Seen::Generation(new.id, GenerationStatus::Pending, None)
    );
    processing(&repo, new.id).await;
    created(&repo, &new_generation("a", None)).await;
    let latest = log.latest(new.id).await.unwrap().unwrap();
    assert_eq!(
        Seen::of(&latest),
        Seen::Generation(new.id, GenerationStatus::Processing, None)
    );
    assert!(latest.seq > pending.seq);
    assert!(!latest.is_final());
    assert_eq!(log.latest(GenerationId::new_random()).await.unwrap(), None);
}

async fn the_horizon_is_the_oldest_retained_event_and_prune_deletes_by_age(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let log = log(db);
    assert_eq!(log.horizon().await.unwrap(), None);
    assert_eq!(log.prune(Utc::now()).await.unwrap(), 0);

    let new = new_generation("a", None);
    created(&repo, &new).await;
    processing(&repo, new.id).await;
    // Reported progress is stamped with the time given, here long ago.
    let progress = Progress::new(1, 4).unwrap();
    assert!(repo.record_progress(new.id, progress, at(1)).await.unwrap());
    let all = events_of(db, "a").await;
    assert_eq!(log.horizon().await.unwrap(), Some(all[0].seq));

    assert_eq!(log.prune(at(1_000)).await.unwrap(), 1);
    let kept = events_of(db, "a").await;
    assert_eq!(kept.len(), all.len() - 1);
    assert!(
        kept.iter()
            .all(|e| !matches!(Seen::of(e), Seen::Generation(_, _, Some(_))))
    );
    assert_eq!(log.horizon().await.unwrap(), Some(all[0].seq));

    let later = Utc::now() + Duration::hours(1);
    assert_eq!(
        log.prune(later).await.unwrap(),
        u64::try_from(kept.len()).unwrap()
    );
    assert_eq!(log.prune(later).await.unwrap(), 0);
    assert_eq!(log.horizon().await.unwrap(), None);
    assert!(events_of(db, "a").await.is_empty());
}
