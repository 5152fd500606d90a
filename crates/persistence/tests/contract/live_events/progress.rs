//! Reported progress: an event only while processing, and only forward.

use picture_domain::ports::{EventLog, GenerationLifecycle, Transition};
use picture_domain::{GenerationStatus, PredictionId, Progress};
use picture_persistence::DieselGenerationRepository;

use super::{Seen, events_of, log};
use crate::generations::{complete_as_finaliser, created, image_of, new_generation};
use crate::{TestDatabase, at};

contract!(progress_is_recorded_only_while_processing_and_only_forward);

fn steps(done: u32) -> Progress {
    Progress::new(done, 4).unwrap()
}

async fn progress_is_recorded_only_while_processing_and_only_forward(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation("painter", None);
    created(&repo, &new).await;
    assert!(!repo.record_progress(new.id, steps(1), at(1)).await.unwrap());
    let prediction_id = PredictionId::parse("p-progress").unwrap();
    assert!(
        repo.transition(new.id, &Transition::Processing { prediction_id }, at(2))
            .await
            .unwrap()
    );
    assert!(repo.record_progress(new.id, steps(1), at(3)).await.unwrap());
    assert!(!repo.record_progress(new.id, steps(1), at(4)).await.unwrap());
    assert!(!repo.record_progress(new.id, steps(0), at(5)).await.unwrap());
    assert!(repo.record_progress(new.id, steps(3), at(6)).await.unwrap());
    assert!(!repo.record_progress(new.id, steps(2), at(7)).await.unwrap());

    let latest = log(db).latest(new.id).await.unwrap().unwrap();
    let processing = |progress| Seen::Generation(new.id, GenerationStatus::Processing, progress);
    assert_eq!(Seen::of(&latest), processing(Some(0.75)));

    complete_as_finaliser(&repo, new.id, &image_of(&new), None, at(8))
        .await
        .unwrap()
        .unwrap();
    assert!(!repo.record_progress(new.id, steps(4), at(9)).await.unwrap());
    let generation_events: Vec<Seen> = events_of(db, "painter")
        .await
        .iter()
        .map(Seen::of)
        .filter(|seen| *seen != Seen::Credits)
        .collect();
    assert_eq!(
        generation_events,
        [
            Seen::Generation(new.id, GenerationStatus::Pending, None),
            processing(None),
            processing(Some(0.25)),
            processing(Some(0.75)),
            Seen::Generation(new.id, GenerationStatus::Completed, None),
        ]
    );
    let latest = log(db).latest(new.id).await.unwrap().unwrap();
    assert!(latest.is_final());
}
