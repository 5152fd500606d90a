use std::sync::Arc;

use picture_domain::ports::{
    GenerationLifecycle, ImageQuery, ImageRepository, LinkOutcome, TagRepository, Transition,
};
use picture_domain::{
    GalleryCursor, ImageId, NewTag, PredictionId, RepositoryError, Tag, TagChange, TagColor, TagId,
    TagName, UserId,
};
use picture_persistence::{DieselGenerationRepository, DieselImageRepository, DieselTagRepository};

use crate::generations::{complete_as_finaliser, created, image_of, new_generation};
use crate::{TestDatabase, at};

contract!(
    tags_are_per_user_unique_without_regard_to_case_and_listed_by_name,
    concurrent_creates_of_one_name_give_one_tag_and_one_conflict,
    owners_rename_and_recolour_their_tags_only,
    links_are_idempotent_scoped_to_the_owner_and_go_with_the_tag_or_image,
    the_gallery_filter_keeps_images_carrying_every_tag_and_pages_by_cursor,
);

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

fn new_tag(owner: &str, name: &str, color: Option<&str>) -> NewTag {
    NewTag {
        id: TagId::new_random(),
        user_id: user(owner),
        name: TagName::parse(name).unwrap(),
        color: color.map(|c| TagColor::parse(c).unwrap()),
        created_at: at(5_000),
    }
}

async fn create(tags: &DieselTagRepository, owner: &str, name: &str) -> Tag {
    tags.create(&new_tag(owner, name, None)).await.unwrap()
}

/// Completes a generation of `owner` whose image is dated `created_ms`; returns the image id.
async fn image(db: &TestDatabase, owner: &str, created_ms: i64) -> ImageId {
    let generations = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation(owner, None);
    created(&generations, &new).await;
    let prediction_id = PredictionId::parse(format!("p-{}", new.id)).unwrap();
    assert!(
        generations
            .transition(new.id, &Transition::Processing { prediction_id }, at(1))
            .await
            .unwrap()
    );
    let mut image = image_of(&new);
    image.created_at = at(created_ms);
    complete_as_finaliser(&generations, new.id, &image, None, at(2))
        .await
        .unwrap()
        .unwrap();
    image.id
}

fn names(tags: &[Tag]) -> Vec<&str> {
    tags.iter().map(|t| t.name.as_str()).collect()
}

async fn tags_are_per_user_unique_without_regard_to_case_and_listed_by_name(db: &TestDatabase) {
    let tags = DieselTagRepository::new(db.database.clone());
    let cat = tags
        .create(&new_tag("alice", " Cat ", Some("#3B82F6")))
        .await
        .unwrap();
    assert_eq!(cat.name, "Cat");
    assert_eq!(cat.color.as_deref(), Some("#3B82F6"));
    assert_eq!((cat.created_at, cat.updated_at), (at(5_000), at(5_000)));
    for duplicate in ["cat", "CAT", "cAt"] {
        assert!(
            matches!(
                tags.create(&new_tag("alice", duplicate, None)).await,
                Err(RepositoryError::Conflict(_))
            ),
            "{duplicate}"
        );
    }
    // Case folding beyond ASCII, the same on both databases.
    // (Another user's, so the name order below stays ASCII: PostgreSQL's collation decides
    // where `Ä` sorts.)
    create(&tags, "dora", "Ärger").await;
    assert!(matches!(
        tags.create(&new_tag("dora", "ärger", None)).await,
        Err(RepositoryError::Conflict(_))
    ));
    // Another user may have the same name.
    let bobs = create(&tags, "bob", "cat").await;
    assert_eq!(bobs.user_id, user("bob"));
    create(&tags, "alice", "banana").await;
    create(&tags, "alice", "Apple").await;
    let listed = tags.list(&user("alice")).await.unwrap();
    assert_eq!(names(&listed), ["Apple", "banana", "Cat"]);
    assert_eq!(names(&tags.list(&user("bob")).await.unwrap()), ["cat"]);
    assert!(tags.list(&user("carol")).await.unwrap().is_empty());
}

async fn concurrent_creates_of_one_name_give_one_tag_and_one_conflict(db: &TestDatabase) {
    let tags = Arc::new(DieselTagRepository::new(db.database.clone()));
    for round in 0..10 {
        let name = format!("race {round}");
        let racers: Vec<_> = [name.clone(), name.to_uppercase()]
            .into_iter()
            .map(|name| {
                let tags = Arc::clone(&tags);
                tokio::spawn(async move { tags.create(&new_tag("alice", &name, None)).await })
            })
            .collect();
        let mut created = 0;
        for racer in racers {
            match racer.await.unwrap() {
                Ok(_) => created += 1,
                Err(RepositoryError::Conflict(_)) => {}
                Err(other) => panic!("a racer failed with {other:?}"),
            }
        }
        assert_eq!(created, 1, "round {round}");
    }
    assert_eq!(tags.list(&user("alice")).await.unwrap().len(), 10);
}

async fn owners_rename_and_recolour_their_tags_only(db: &TestDatabase) {
    let tags = DieselTagRepository::new(db.database.clone());
    let alice = user("alice");
    let cat = tags
        .create(&new_tag("alice", "cat", Some("#ffffff")))
        .await
        .unwrap();
    create(&tags, "alice", "dog").await;
    let rename = |name: &str| TagChange {
        name: Some(TagName::parse(name).unwrap()),
        color: None,
    };
    // Its own name in another case is allowed; another tag's name is not.
    let renamed = tags
        .update(&alice, cat.id, &rename("Cat"), at(6_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "Cat");
    assert_eq!(renamed.color.as_deref(), Some("#ffffff"));
    assert_eq!(
        (renamed.created_at, renamed.updated_at),
        (at(5_000), at(6_000))
    );
    assert!(matches!(
        tags.update(&alice, cat.id, &rename("DOG"), at(7_000)).await,
        Err(RepositoryError::Conflict(_))
    ));
    let recoloured = tags
        .update(
            &alice,
            cat.id,
            &TagChange {
                name: None,
                color: Some(Some(TagColor::parse("#00AA00").unwrap())),
            },
            at(8_000),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (recoloured.name.as_str(), recoloured.color.as_deref()),
        ("Cat", Some("#00AA00"))
    );
    let cleared = tags
        .update(
            &alice,
            cat.id,
            &TagChange {
                name: None,
                color: Some(None),
            },
            at(9_000),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.color, None);
    let untouched = tags
        .update(&alice, cat.id, &TagChange::default(), at(9_500))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(untouched.name, "Cat");
    // Another user's tag, or a missing one, is not found and not changed.
    let bob = user("bob");
    assert!(
        tags.update(&bob, cat.id, &rename("stolen"), at(10_000))
            .await
            .unwrap()
            .is_none()
    );
    assert!(!tags.delete(&bob, cat.id).await.unwrap());
    assert!(
        tags.update(&alice, TagId::new_random(), &rename("x"), at(10_000))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(names(&tags.list(&alice).await.unwrap()), ["Cat", "dog"]);
    assert!(tags.delete(&alice, cat.id).await.unwrap());
    assert!(!tags.delete(&alice, cat.id).await.unwrap());
    assert_eq!(names(&tags.list(&alice).await.unwrap()), ["dog"]);
}

async fn links_are_idempotent_scoped_to_the_owner_and_go_with_the_tag_or_image(db: &TestDatabase) {
    let tags = DieselTagRepository::new(db.database.clone());
    let images = DieselImageRepository::new(db.database.clone());
    let (alice, bob) = (user("alice"), user("bob"));
    let picture = image(db, "alice", 1_000).await;
    let bobs_picture = image(db, "bob", 1_001).await;
    let cat = create(&tags, "alice", "cat").await;
    let dog = create(&tags, "alice", "Dog").await;
    let bobs_tag = create(&tags, "bob", "bird").await;

    assert_eq!(
        tags.link(&alice, picture, dog.id).await.unwrap(),
        LinkOutcome::Changed
    );
    assert_eq!(
        tags.link(&alice, picture, cat.id).await.unwrap(),
        LinkOutcome::Changed
    );
    assert_eq!(
        tags.link(&alice, picture, cat.id).await.unwrap(),
        LinkOutcome::Unchanged
    );
    let on_picture = tags.of_image(&alice, picture).await.unwrap().unwrap();
    assert_eq!(names(&on_picture), ["cat", "Dog"]);

    // Another user's image or tag is missing, whichever way round; nothing is written.
    assert_eq!(
        tags.link(&alice, bobs_picture, cat.id).await.unwrap(),
        LinkOutcome::ImageNotFound
    );
    assert_eq!(
        tags.link(&alice, picture, bobs_tag.id).await.unwrap(),
        LinkOutcome::TagNotFound
    );
    assert_eq!(
        tags.link(&bob, picture, bobs_tag.id).await.unwrap(),
        LinkOutcome::ImageNotFound
    );
    assert_eq!(
        tags.unlink(&bob, picture, cat.id).await.unwrap(),
        LinkOutcome::ImageNotFound
    );
    assert_eq!(
        tags.link(&alice, ImageId::new_random(), cat.id)
            .await
            .unwrap(),
        LinkOutcome::ImageNotFound
    );
    assert_eq!(
        tags.link(&alice, picture, TagId::new_random())
            .await
            .unwrap(),
        LinkOutcome::TagNotFound
    );
    assert!(tags.of_image(&bob, picture).await.unwrap().is_none());
    assert!(
        tags.of_image(&bob, bobs_picture)
            .await
            .unwrap()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        tags.of_image(&alice, picture).await.unwrap().unwrap().len(),
        2
    );

    assert_eq!(
        tags.unlink(&alice, picture, dog.id).await.unwrap(),
        LinkOutcome::Changed
    );
    assert_eq!(
        tags.unlink(&alice, picture, dog.id).await.unwrap(),
        LinkOutcome::Unchanged
    );
    // Deleting a tag takes it off its images.
    assert!(tags.delete(&alice, cat.id).await.unwrap());
    assert!(
        tags.of_image(&alice, picture)
            .await
            .unwrap()
            .unwrap()
            .is_empty()
    );
    // Deleting an image deletes its links (and is not refused because of them).
    assert_eq!(
        tags.link(&alice, picture, dog.id).await.unwrap(),
        LinkOutcome::Changed
    );
    assert!(
        images
            .delete_for_user(&alice, picture)
            .await
            .unwrap()
            .is_some()
    );
    assert!(tags.of_image(&alice, picture).await.unwrap().is_none());
    assert_eq!(names(&tags.list(&alice).await.unwrap()), ["Dog"]);
}

fn tagged(tag_ids: Vec<TagId>, limit: u32, after: Option<GalleryCursor>) -> ImageQuery {
    ImageQuery {
        archived: false,
        favorites_only: false,
        page: 1,
        limit,
        after,
        tag_ids,
    }
}

async fn list(images: &DieselImageRepository, owner: &UserId, query: ImageQuery) -> Vec<ImageId> {
    images
        .list_for_user(owner, query)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.record.id)
        .collect()
}

async fn the_gallery_filter_keeps_images_carrying_every_tag_and_pages_by_cursor(db: &TestDatabase) {
    let tags = DieselTagRepository::new(db.database.clone());
    let images = DieselImageRepository::new(db.database.clone());
    let alice = user("alice");
    let cat = create(&tags, "alice", "cat").await;
    let dog = create(&tags, "alice", "dog").await;
    let unused = create(&tags, "alice", "unused").await;
    let bobs_tag = create(&tags, "bob", "cat").await;
    // Five images, newest last; 1 and 3 and 4 carry cat, 3 and 4 also dog, 2 only dog.
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(image(db, "alice", 1_000 + i).await);
    }
    let bobs_picture = image(db, "bob", 2_000).await;
    for i in [1, 3, 4] {
        tags.link(&alice, ids[i], cat.id).await.unwrap();
    }
    for i in [2, 3, 4] {
        tags.link(&alice, ids[i], dog.id).await.unwrap();
    }
    tags.link(&user("bob"), bobs_picture, bobs_tag.id)
        .await
        .unwrap();

    assert_eq!(
        list(&images, &alice, tagged(vec![cat.id], 20, None)).await,
        [ids[4], ids[3], ids[1]]
    );
    assert_eq!(
        list(&images, &alice, tagged(vec![cat.id, dog.id], 20, None)).await,
        [ids[4], ids[3]]
    );
    assert!(
        list(&images, &alice, tagged(vec![unused.id], 20, None))
            .await
            .is_empty()
    );
    // Another user's tag selects none of the caller's images (nor shows theirs).
    assert!(
        list(&images, &alice, tagged(vec![bobs_tag.id], 20, None))
            .await
            .is_empty()
    );
    assert_eq!(
        list(&images, &alice, tagged(Vec::new(), 20, None))
            .await
            .len(),
        5
    );

    // Keyset paging under the filter: one image a page, in order, to the end.
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = images
            .list_for_user(&alice, tagged(vec![cat.id], 1, after))
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(GalleryCursor::after(last));
        walked.extend(page.iter().map(|i| i.record.id));
    }
    assert_eq!(walked, [ids[4], ids[3], ids[1]]);
    // Offset paging too.
    let second = ImageQuery {
        page: 2,
        ..tagged(vec![cat.id], 2, None)
    };
    assert_eq!(list(&images, &alice, second).await, [ids[1]]);
}
