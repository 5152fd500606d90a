//! Reading batches: pages newest first with their counts, a batch's items by index with their
//! image once completed, its status and when it ended; deleting one keeps its generations.

use picture_domain::batch::{BatchStatus, BatchSummary};
use picture_domain::ports::{BatchRepository, GenerationLifecycle, GenerationReads};
use picture_domain::{BatchId, GenerationStatus};
use picture_persistence::{DieselBatchRepository, DieselGenerationRepository};

use super::{count, failed, new_batch, processing, queued, user};
use crate::generations::{complete_as_finaliser, image_of};
use crate::{TestDatabase, at};

contract!(
    batches_are_listed_newest_first_with_their_counts_and_items_by_index,
    deleting_a_batch_keeps_its_generations_outside_any_batch,
);

async fn batches_are_listed_newest_first_with_their_counts_and_items_by_index(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    let generations = DieselGenerationRepository::new(db.database.clone());
    let owner = user("lister");
    let oldest = new_batch("lister", 1_000);
    let middle = new_batch("lister", 2_000);
    let newest = new_batch("lister", 3_000);
    let items = queued(&repo, &oldest, 3).await;
    queued(&repo, &newest, 1).await;
    queued(&repo, &middle, 2).await;
    queued(&repo, &new_batch("someone-else", 4_000), 1).await;

    let ids = |page: Vec<BatchSummary>| -> Vec<(BatchId, u32)> {
        page.into_iter()
            .map(|s| (s.batch.id, s.counts.total))
            .collect()
    };
    assert_eq!(
        ids(repo.list(&owner, 0, 10).await.unwrap()),
        [(newest.id, 1), (middle.id, 2), (oldest.id, 3)]
    );
    assert_eq!(
        ids(repo.list(&owner, 1, 1).await.unwrap()),
        [(middle.id, 2)]
    );
    assert!(repo.list(&owner, 3, 10).await.unwrap().is_empty());

    // Item 0 completes, item 1 fails, item 2 runs.
    let [done, broken, running] = [0, 1, 2].map(|i| items[i].generation.id);
    for id in [done, running] {
        assert!(
            generations
                .transition(id, &processing(id), at(5_000))
                .await
                .unwrap()
        );
    }
    complete_as_finaliser(
        &generations,
        done,
        &image_of(&items[0].generation),
        Some(2),
        at(6_000),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        generations
            .transition(broken, &failed(), at(7_000))
            .await
            .unwrap()
    );
    let summary = repo.summary(&owner, oldest.id).await.unwrap().unwrap();
    let c = summary.counts;
    assert_eq!(
        (
            c.total,
            c.completed,
            c.failed,
            c.processing,
            c.pending,
            c.cancelled
        ),
        (3, 1, 1, 1, 0, 0)
    );
    assert_eq!(c.status(), BatchStatus::Processing);
    assert_eq!(summary.completed_at, None);
    assert_eq!(
        repo.list(&owner, 2, 1).await.unwrap(),
        vec![summary.clone()]
    );

    complete_as_finaliser(
        &generations,
        running,
        &image_of(&items[2].generation),
        None,
        at(8_000),
    )
    .await
    .unwrap()
    .unwrap();
    let detail = repo.find(&owner, oldest.id).await.unwrap().unwrap();
    assert_eq!(detail.summary.counts.status(), BatchStatus::Partial);
    assert_eq!(detail.summary.completed_at, Some(at(8_000)));
    assert_eq!(
        repo.summary(&owner, oldest.id).await.unwrap(),
        Some(detail.summary.clone())
    );
    let seen: Vec<_> = detail
        .items
        .iter()
        .map(|item| (item.index, item.generation.status, item.image_url.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                0,
                GenerationStatus::Completed,
                image_of(&items[0].generation).public_url
            ),
            (1, GenerationStatus::Failed, None),
            (
                2,
                GenerationStatus::Completed,
                image_of(&items[2].generation).public_url
            ),
        ]
    );

    // Another user's batch is not found, as a missing one.
    let stranger = user("someone-else");
    assert_eq!(repo.find(&stranger, oldest.id).await.unwrap(), None);
    assert_eq!(repo.summary(&stranger, oldest.id).await.unwrap(), None);
    assert_eq!(
        repo.find(&owner, BatchId::new_random()).await.unwrap(),
        None
    );
}

async fn deleting_a_batch_keeps_its_generations_outside_any_batch(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    let generations = DieselGenerationRepository::new(db.database.clone());
    let owner = user("deleter");
    let batch = new_batch("deleter", 1_000);
    let items = queued(&repo, &batch, 2).await;
    let kept = new_batch("deleter", 2_000);
    queued(&repo, &kept, 1).await;

    assert!(!repo.delete(&user("stranger"), batch.id).await.unwrap());
    assert!(repo.find(&owner, batch.id).await.unwrap().is_some());
    assert!(repo.delete(&owner, batch.id).await.unwrap());
    assert_eq!(repo.find(&owner, batch.id).await.unwrap(), None);
    assert_eq!(repo.summary(&owner, batch.id).await.unwrap(), None);
    assert!(!repo.delete(&owner, batch.id).await.unwrap());
    let listed: Vec<BatchId> = repo
        .list(&owner, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.batch.id)
        .collect();
    assert_eq!(listed, [kept.id]);
    for item in &items {
        let generation = generations.find(item.generation.id).await.unwrap().unwrap();
        assert_eq!(generation.record, item.generation);
    }
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM image_generations WHERE user_id = 'deleter' \
             AND batch_id IS NULL",
        )
        .await,
        2
    );
}
