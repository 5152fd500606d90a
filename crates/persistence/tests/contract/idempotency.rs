//! `Idempotency-Key` records: one claim wins, the first answer is kept byte for byte, expired
//! records are replaced and purged in bounded batches.

use std::sync::Arc;

use picture_domain::ports::{IdempotencyClaim, IdempotencyStore, RecordedResponse};
use picture_domain::{GenerationId, UserId};
use picture_persistence::DieselIdempotencyStore;

use crate::{TestDatabase, at};

contract!(
    one_claim_wins_and_retries_see_the_first_answer_byte_for_byte,
    of_concurrent_claims_exactly_one_is_new,
    an_expired_record_is_replaced_by_the_next_claim,
    a_forgotten_key_can_be_claimed_again,
    expired_records_are_purged_oldest_first_in_bounded_batches,
);

fn store(db: &TestDatabase) -> DieselIdempotencyStore {
    DieselIdempotencyStore::new(db.database.clone())
}

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

/// Claims `key` of `who` for a body hashed `hash` at `ms`, with nothing expired.
async fn claim(
    store: &DieselIdempotencyStore,
    who: &str,
    key: &str,
    hash: &str,
    ms: i64,
) -> IdempotencyClaim {
    store
        .claim(
            &user(who),
            key,
            hash,
            GenerationId::new_random(),
            at(ms),
            at(0),
        )
        .await
        .unwrap()
}

fn existing(hash: &str, response: Option<&RecordedResponse>) -> IdempotencyClaim {
    IdempotencyClaim::Existing {
        request_hash: hash.into(),
        response: response.cloned(),
    }
}

async fn one_claim_wins_and_retries_see_the_first_answer_byte_for_byte(db: &TestDatabase) {
    let store = store(db);
    assert_eq!(
        claim(&store, "ann", "k", "h1", 1_000).await,
        IdempotencyClaim::New
    );
    assert_eq!(
        claim(&store, "ann", "k", "h2", 1_001).await,
        existing("h1", None),
        "in progress until answered, with the first request's hash"
    );
    // Any bytes, not only UTF-8.
    let first = RecordedResponse {
        status: 201,
        body: vec![b'{', 0, 0xff, 0xfe, b'}'],
    };
    store.record(&user("ann"), "k", &first).await.unwrap();
    assert_eq!(
        claim(&store, "ann", "k", "h1", 1_002).await,
        existing("h1", Some(&first))
    );
    // Only the first answer is kept.
    let second = RecordedResponse {
        status: 200,
        body: b"later".to_vec(),
    };
    store.record(&user("ann"), "k", &second).await.unwrap();
    assert_eq!(
        claim(&store, "ann", "k", "h1", 1_003).await,
        existing("h1", Some(&first))
    );
    // Keys are per user.
    assert_eq!(
        claim(&store, "bob", "k", "h1", 1_004).await,
        IdempotencyClaim::New
    );
}

async fn of_concurrent_claims_exactly_one_is_new(db: &TestDatabase) {
    let store = Arc::new(store(db));
    let mut claims = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let store = Arc::clone(&store);
        claims.spawn(async move { claim(&store, "ann", "race", "h", 5_000).await });
    }
    let claims = claims.join_all().await;
    let new = claims
        .iter()
        .filter(|c| **c == IdempotencyClaim::New)
        .count();
    assert_eq!(new, 1, "{claims:?}");
    assert!(
        claims
            .iter()
            .all(|c| *c == IdempotencyClaim::New || *c == existing("h", None))
    );
}

async fn an_expired_record_is_replaced_by_the_next_claim(db: &TestDatabase) {
    let store = store(db);
    let who = user("ann");
    assert_eq!(
        claim(&store, "ann", "k", "old", 1_000).await,
        IdempotencyClaim::New
    );
    let stale = RecordedResponse {
        status: 201,
        body: b"stale".to_vec(),
    };
    store.record(&who, "k", &stale).await.unwrap();
    // Still alive when the horizon is at its creation time…
    let alive = store
        .claim(
            &who,
            "k",
            "new",
            GenerationId::new_random(),
            at(9_000),
            at(1_000),
        )
        .await
        .unwrap();
    assert_eq!(alive, existing("old", Some(&stale)));
    // …expired once the horizon has passed it: the claim is new, with its own hash.
    let renewed = store
        .claim(
            &who,
            "k",
            "new",
            GenerationId::new_random(),
            at(9_000),
            at(1_001),
        )
        .await
        .unwrap();
    assert_eq!(renewed, IdempotencyClaim::New);
    assert_eq!(
        claim(&store, "ann", "k", "new", 9_001).await,
        existing("new", None)
    );
}

async fn a_forgotten_key_can_be_claimed_again(db: &TestDatabase) {
    let store = store(db);
    assert_eq!(
        claim(&store, "ann", "k", "h", 1_000).await,
        IdempotencyClaim::New
    );
    store.forget(&user("ann"), "k").await.unwrap();
    assert_eq!(
        claim(&store, "ann", "k", "h", 1_001).await,
        IdempotencyClaim::New
    );
}

async fn expired_records_are_purged_oldest_first_in_bounded_batches(db: &TestDatabase) {
    let store = store(db);
    for (n, ms) in [1_000, 2_000, 3_000, 4_000, 5_000, 10_000]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            claim(&store, "ann", &format!("k{n}"), "h", ms).await,
            IdempotencyClaim::New
        );
    }
    assert_eq!(store.purge_expired(at(6_000), 2).await.unwrap(), 2);
    // The two oldest went: claiming them again is new; the third is still there.
    assert_eq!(
        claim(&store, "ann", "k0", "h", 20_000).await,
        IdempotencyClaim::New
    );
    assert_eq!(
        claim(&store, "ann", "k1", "h", 20_000).await,
        IdempotencyClaim::New
    );
    assert_eq!(
        claim(&store, "ann", "k2", "h", 20_000).await,
        existing("h", None)
    );
    assert_eq!(store.purge_expired(at(6_000), 10).await.unwrap(), 3);
    assert_eq!(store.purge_expired(at(6_000), 10).await.unwrap(), 0);
    assert_eq!(
        claim(&store, "ann", "k5", "h", 20_000).await,
        existing("h", None)
    );
}
