//! Profile changes (user names unique regardless of case, also under a race), the profile
//! tab's counts, and the rate counter's read-only usage.

use std::sync::Arc;
use std::time::Duration;

use picture_domain::ports::{
    GenerationLifecycle, ImageChange, ImageRepository, ProfileRepository, RateCounter,
    SlidingWindow, Transition, WindowUsage,
};
use picture_domain::{
    NewProfile, PredictionId, ProfileChange, ProfileStats, RawProfileChange, RepositoryError,
    UserId,
};
use picture_persistence::{
    DieselGenerationRepository, DieselImageRepository, DieselProfileRepository, DieselRateCounter,
};

use crate::generations::{complete_as_finaliser, created, image_of, new_generation};
use crate::{TestDatabase, at};

contract!(
    a_change_sets_and_clears_fields_and_keeps_the_rest,
    user_names_are_unique_regardless_of_case,
    two_users_racing_for_one_name_give_it_to_exactly_one,
    changing_a_missing_profile_changes_nothing,
    stats_count_each_kind_for_their_owner_only,
    usage_counts_the_window_without_recording,
);

fn change(username: Option<Option<&str>>, avatar: Option<Option<&str>>) -> ProfileChange {
    ProfileChange::parse(RawProfileChange {
        username: username.map(|u| u.map(str::to_owned)),
        avatar_url: avatar.map(|a| a.map(str::to_owned)),
    })
    .unwrap()
}

async fn profile_of(repo: &DieselProfileRepository, user: &str) -> UserId {
    let id = UserId::parse(user).unwrap();
    repo.get_or_create(
        &NewProfile {
            id: id.clone(),
            email: format!("{user}@example.com"),
        },
        at(1_000),
    )
    .await
    .unwrap();
    id
}

async fn a_change_sets_and_clears_fields_and_keeps_the_rest(db: &TestDatabase) {
    let repo = DieselProfileRepository::new(db.database.clone());
    let user = profile_of(&repo, "editor").await;
    let set = repo
        .update(
            &user,
            &change(
                Some(Some("Ed.Itor")),
                Some(Some("https://cdn.example.com/a.png")),
            ),
            at(2_000),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(set.username.as_deref(), Some("Ed.Itor"));
    assert_eq!(
        set.avatar_url.as_deref(),
        Some("https://cdn.example.com/a.png")
    );
    assert_eq!(set.email, "editor@example.com");
    assert_eq!(set.created_at, at(1_000));
    assert_eq!(set.updated_at, at(2_000));
    let cleared = repo
        .update(&user, &change(None, Some(None)), at(3_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.username.as_deref(), Some("Ed.Itor"));
    assert_eq!(cleared.avatar_url, None);
    let unnamed = repo
        .update(&user, &change(Some(None), None), at(4_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unnamed.username, None);
    // A cleared name is free again, for anyone.
    let other = profile_of(&repo, "other").await;
    assert!(
        repo.update(&other, &change(Some(Some("ed.itor")), None), at(5_000))
            .await
            .unwrap()
            .is_some()
    );
}

async fn user_names_are_unique_regardless_of_case(db: &TestDatabase) {
    let repo = DieselProfileRepository::new(db.database.clone());
    let alice = profile_of(&repo, "alice").await;
    let bob = profile_of(&repo, "bob").await;
    repo.update(&alice, &change(Some(Some("Star_1")), None), at(2_000))
        .await
        .unwrap()
        .unwrap();
    for taken in ["Star_1", "STAR_1", "star_1"] {
        let refused = repo
            .update(
                &bob,
                &change(Some(Some(taken)), Some(Some("https://e.com/b.png"))),
                at(3_000),
            )
            .await;
        assert!(
            matches!(refused, Err(RepositoryError::Conflict(_))),
            "{taken}: {refused:?}"
        );
    }
    // Nothing of the refused change was written.
    let bob_now = repo
        .update(&bob, &change(None, None), at(4_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob_now.username, None);
    assert_eq!(bob_now.avatar_url, None);
    // The owner may change the case of their own name.
    let recased = repo
        .update(&alice, &change(Some(Some("STAR_1")), None), at(5_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recased.username.as_deref(), Some("STAR_1"));
}

async fn two_users_racing_for_one_name_give_it_to_exactly_one(db: &TestDatabase) {
    let repo = Arc::new(DieselProfileRepository::new(db.database.clone()));
    let mut users = Vec::new();
    for i in 0..8 {
        users.push(profile_of(&repo, &format!("racer{i}")).await);
    }
    let tasks: Vec<_> = users
        .into_iter()
        .enumerate()
        .map(|(i, user)| {
            let repo = Arc::clone(&repo);
            let name = if i % 2 == 0 { "Winner" } else { "wINNER" };
            let wanted = change(Some(Some(name)), None);
            tokio::spawn(async move { repo.update(&user, &wanted, at(2_000)).await })
        })
        .collect();
    let (mut won, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(Some(_)) => won += 1,
            Err(RepositoryError::Conflict(_)) => refused += 1,
            other => panic!("neither won nor refused: {other:?}"),
        }
    }
    assert_eq!((won, refused), (1, 7));
}

async fn changing_a_missing_profile_changes_nothing(db: &TestDatabase) {
    let repo = DieselProfileRepository::new(db.database.clone());
    let ghost = UserId::parse("ghost").unwrap();
    assert_eq!(
        repo.update(&ghost, &change(Some(Some("ghost")), None), at(1))
            .await
            .unwrap(),
        None
    );
}

/// Completes a generation of `user`: its image id.
async fn stored_image(db: &TestDatabase, user: &str, prediction: &str) -> picture_domain::ImageId {
    let generations = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation(user, None);
    created(&generations, &new).await;
    let prediction_id = PredictionId::parse(prediction).unwrap();
    assert!(
        generations
            .transition(new.id, &Transition::Processing { prediction_id }, at(1))
            .await
            .unwrap()
    );
    complete_as_finaliser(&generations, new.id, &image_of(&new), None, at(2))
        .await
        .unwrap()
        .unwrap()
        .image
        .record
        .id
}

async fn stats_count_each_kind_for_their_owner_only(db: &TestDatabase) {
    let profiles = DieselProfileRepository::new(db.database.clone());
    let images = DieselImageRepository::new(db.database.clone());
    let generations = DieselGenerationRepository::new(db.database.clone());
    let owner = UserId::parse("owner").unwrap();
    let fan = UserId::parse("fan").unwrap();
    assert_eq!(
        profiles.stats(&owner).await.unwrap(),
        ProfileStats::default()
    );
    let plain = stored_image(db, "owner", "p-1").await;
    let favourite = stored_image(db, "owner", "p-2").await;
    let public = stored_image(db, "owner", "p-3").await;
    let archived = stored_image(db, "owner", "p-4").await;
    let _ = plain;
    images
        .change(&owner, favourite, ImageChange::Favorite(true), at(3))
        .await
        .unwrap()
        .unwrap();
    images
        .change(&owner, public, ImageChange::Publish, at(3))
        .await
        .unwrap()
        .unwrap();
    images
        .change(&owner, archived, ImageChange::Publish, at(3))
        .await
        .unwrap()
        .unwrap();
    images.set_like(&fan, public, true, at(4)).await.unwrap();
    images.set_like(&owner, public, true, at(4)).await.unwrap();
    images.set_like(&fan, archived, true, at(4)).await.unwrap();
    images
        .change(&owner, archived, ImageChange::Archive, at(5))
        .await
        .unwrap()
        .unwrap();
    // One still running, and the fan's own image that counts for the fan only.
    created(&generations, &new_generation("owner", None)).await;
    let fans = stored_image(db, "fan", "p-5").await;
    images
        .change(&fan, fans, ImageChange::Publish, at(3))
        .await
        .unwrap()
        .unwrap();
    images.set_like(&owner, fans, true, at(4)).await.unwrap();
    assert_eq!(
        profiles.stats(&owner).await.unwrap(),
        ProfileStats {
            total_images: 3,
            favorite_images: 1,
            archived_images: 1,
            public_images: 1,
            total_generations: 5,
            active_generations: 1,
            likes_received: 3,
        }
    );
    let fan_stats = profiles.stats(&fan).await.unwrap();
    assert_eq!(
        (
            fan_stats.total_images,
            fan_stats.total_generations,
            fan_stats.likes_received
        ),
        (1, 1, 1)
    );
}

async fn usage_counts_the_window_without_recording(db: &TestDatabase) {
    let counter = DieselRateCounter::new(db.database.clone());
    let minute = Duration::from_secs(60);
    let windows = [SlidingWindow {
        length: minute,
        limit: 10,
    }];
    assert_eq!(
        counter
            .usage("generate:u", minute, at(100_000))
            .await
            .unwrap(),
        WindowUsage {
            used: 0,
            oldest: None
        }
    );
    for ms in [100_000, 130_000, 150_000] {
        counter.admit("generate:u", &windows, at(ms)).await.unwrap();
    }
    counter
        .admit("generate:v", &windows, at(150_000))
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            counter
                .usage("generate:u", minute, at(155_000))
                .await
                .unwrap(),
            WindowUsage {
                used: 3,
                oldest: Some(at(100_000))
            }
        );
    }
    // The first start left the window at 160 s (exclusive start, as admission counts).
    assert_eq!(
        counter
            .usage("generate:u", minute, at(160_000))
            .await
            .unwrap(),
        WindowUsage {
            used: 2,
            oldest: Some(at(130_000))
        }
    );
}
