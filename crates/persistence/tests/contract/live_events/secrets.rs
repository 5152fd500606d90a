//! Shared secrets: the first value stored is everyone's.

use crate::TestDatabase;

contract!(the_first_fresh_secret_is_everyones);

async fn the_first_fresh_secret_is_everyones(db: &TestDatabase) {
    let database = &db.database;
    assert_eq!(
        database
            .shared_secret("stream-token-key", "first")
            .await
            .unwrap(),
        "first"
    );
    assert_eq!(
        database
            .shared_secret("stream-token-key", "second")
            .await
            .unwrap(),
        "first"
    );
    assert_eq!(
        database.shared_secret("other-key", "third").await.unwrap(),
        "third"
    );
}
