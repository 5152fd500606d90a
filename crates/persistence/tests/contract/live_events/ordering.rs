//! PostgreSQL numbers one user's events in commit order, not insertion order: the property a
//! stream's `Last-Event-ID` relies on (every event after N is one the stream has not sent).

use diesel::sql_query;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use picture_domain::EventSeq;
use picture_persistence::DieselGenerationRepository;

use super::{Seen, events_of};
use crate::batches::{Raw, count};
use crate::generations::{created, new_generation};

async fn run(conn: &mut AsyncPgConnection, sql: &str) {
    sql_query(sql).execute(conn).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_the_event_committed_last_has_the_larger_seq() {
    let Some(db) = crate::postgres().await else {
        return;
    };
    let repo = DieselGenerationRepository::new(db.database.clone());
    let (first, second) = (new_generation("u", None), new_generation("u", None));
    created(&repo, &first).await;
    created(&repo, &second).await;
    let seen = events_of(&db, "u")
        .await
        .last()
        .map_or(EventSeq::START, |e| e.seq);
    let Raw::Postgres(url) = Raw::of(&db) else {
        panic!("not PostgreSQL");
    };
    let mut early = AsyncPgConnection::establish(&url).await.unwrap();
    let mut late = AsyncPgConnection::establish(&url).await.unwrap();
    let cancel = |id| {
        format!(
            "UPDATE image_generations SET status = 'cancelled', error_message = 'x' \
             WHERE id = '{id}'"
        )
    };

    run(&mut early, "BEGIN").await;
    run(&mut early, &cancel(first.id)).await;
    run(&mut late, "BEGIN").await;
    run(&mut late, &cancel(second.id)).await;
    run(&mut late, "COMMIT").await;
    run(&mut early, "COMMIT").await;

    let inserted_first_committed_last = format!(
        "SELECT count(*) AS n FROM live_events e, live_events l \
         WHERE e.generation_id = '{}' AND e.status = 'cancelled' \
           AND l.generation_id = '{}' AND l.status = 'cancelled' \
           AND e.id < l.id AND e.seq > l.seq",
        first.id, second.id
    );
    assert_eq!(count(&db, &inserted_first_committed_last).await, 1);
    let after: Vec<Seen> = super::events_after(&db, "u", seen)
        .await
        .iter()
        .map(Seen::of)
        .collect();
    let cancelled = picture_domain::GenerationStatus::Cancelled;
    assert_eq!(
        after,
        [
            Seen::Generation(second.id, cancelled, None),
            Seen::Generation(first.id, cancelled, None),
        ]
    );
}
