use std::collections::HashSet;
use std::sync::Arc;

use picture_domain::ports::ProfileRepository;
use picture_domain::{NewProfile, UserId};
use picture_persistence::DieselProfileRepository;

use crate::{TestDatabase, at};

contract!(
    profiles_are_created_once_from_the_first_call,
    concurrent_first_calls_create_one_profile,
    opaque_user_ids_are_stored_as_text,
);

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
