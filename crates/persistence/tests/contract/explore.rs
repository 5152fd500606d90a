use picture_domain::ports::{
    ExploreRepository, FeedImage, FeedOrder, FeedQuery, GenerationLifecycle, ImageChange,
    ImageRepository, Transition,
};
use picture_domain::{ImageId, PredictionId, SearchTerms, UserId};
use picture_persistence::{
    DieselExploreRepository, DieselGenerationRepository, DieselImageRepository,
};

use crate::generations::{complete_as_finaliser, created, image_of, new_generation};
use crate::{TestDatabase, at};

contract!(
    the_feed_is_public_unarchived_images_newest_first_and_changes_show_at_once,
    cursors_walk_every_order_like_the_offset_pages,
    popular_and_trending_sort_by_likes_then_recency,
    search_matches_whole_words_and_prefixes_of_prompt_words,
    hostile_search_terms_match_nothing_or_their_words_and_never_fail,
    favourites_are_the_images_the_viewer_likes,
    like_counts_stay_exact_through_likes_unlikes_and_walks,
);

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

/// Stores an image of `owner` with `prompt`, created at `ms`, public when `public`.
async fn image(db: &TestDatabase, owner: &str, prompt: &str, ms: i64, public: bool) -> ImageId {
    let generations = DieselGenerationRepository::new(db.database.clone());
    let mut new = new_generation(owner, None);
    new.prompt = prompt.to_owned();
    created(&generations, &new).await;
    let prediction_id = PredictionId::parse(format!("x-{}", new.id)).unwrap();
    generations
        .transition(new.id, &Transition::Processing { prediction_id }, at(1))
        .await
        .unwrap();
    let mut stored = image_of(&new);
    stored.created_at = at(ms);
    let id = complete_as_finaliser(&generations, new.id, &stored, None, at(2))
        .await
        .unwrap()
        .unwrap()
        .image
        .record
        .id;
    if public {
        DieselImageRepository::new(db.database.clone())
            .change(&user(owner), id, ImageChange::Publish, at(3))
            .await
            .unwrap()
            .unwrap();
    }
    id
}

fn query(order: FeedOrder, search: Option<&str>) -> FeedQuery {
    FeedQuery {
        order,
        search: search.map(|raw| SearchTerms::parse(raw).unwrap().unwrap()),
        liked_by: None,
        page: 1,
        after: None,
        limit: 100,
    }
}

async fn ids(feed: &DieselExploreRepository, query: FeedQuery) -> Vec<ImageId> {
    feed.feed(query)
        .await
        .unwrap()
        .into_iter()
        .map(|found| found.image.record.id)
        .collect()
}

async fn like(db: &TestDatabase, who: &str, id: ImageId, ms: i64) {
    set_like(db, who, id, true, ms).await;
}

async fn set_like(db: &TestDatabase, who: &str, id: ImageId, liked: bool, ms: i64) {
    DieselImageRepository::new(db.database.clone())
        .set_like(&user(who), id, liked, at(ms))
        .await
        .unwrap()
        .unwrap();
}

async fn the_feed_is_public_unarchived_images_newest_first_and_changes_show_at_once(
    db: &TestDatabase,
) {
    let feed = DieselExploreRepository::new(db.database.clone());
    let images = DieselImageRepository::new(db.database.clone());
    let old = image(db, "ann", "an old fox", 1_000, true).await;
    let new = image(db, "bob", "a new fox", 3_000, true).await;
    let _private = image(db, "bob", "a private fox", 4_000, false).await;
    let archived = image(db, "ann", "an archived fox", 2_000, true).await;
    images
        .change(&user("ann"), archived, ImageChange::Archive, at(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ids(&feed, query(FeedOrder::Recent, None)).await, [new, old]);
    assert_eq!(
        ids(&feed, query(FeedOrder::Recent, Some("fox"))).await,
        [new, old]
    );
    let page = feed.feed(query(FeedOrder::Recent, None)).await.unwrap();
    assert!(page.iter().all(|found| found.score.is_none()));
    assert!(page.iter().all(|found| found.image.is_public));

    images
        .change(&user("bob"), new, ImageChange::Unpublish, at(6))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ids(&feed, query(FeedOrder::Recent, None)).await, [old]);
    assert_eq!(
        ids(&feed, query(FeedOrder::Recent, Some("fox"))).await,
        [old]
    );
    images
        .delete_for_user(&user("ann"), old)
        .await
        .unwrap()
        .unwrap();
    assert!(
        ids(&feed, query(FeedOrder::Recent, Some("fox")))
            .await
            .is_empty()
    );
    assert!(ids(&feed, query(FeedOrder::Popular, None)).await.is_empty());
}

/// Walks `order` by cursor, two at a time, and by offset pages, and compares with one page.
async fn walk(feed: &DieselExploreRepository, order: FeedOrder, search: Option<&str>) {
    let everything = ids(feed, query(order, search)).await;
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page: Vec<FeedImage> = feed
            .feed(FeedQuery {
                // `page` is ignored once there is a cursor.
                page: if after.is_some() { 7 } else { 1 },
                after,
                limit: 2,
                ..query(order, search)
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.cursor());
        walked.extend(page.iter().map(|found| found.image.record.id));
    }
    assert_eq!(walked, everything, "{order:?} by cursor");
    let mut paged = Vec::new();
    for page in 1.. {
        let found = ids(
            feed,
            FeedQuery {
                page,
                limit: 3,
                ..query(order, search)
            },
        )
        .await;
        if found.is_empty() {
            break;
        }
        paged.extend(found);
    }
    assert_eq!(paged, everything, "{order:?} by page");
}

async fn cursors_walk_every_order_like_the_offset_pages(db: &TestDatabase) {
    let feed = DieselExploreRepository::new(db.database.clone());
    let mut all = Vec::new();
    for (i, stamp) in [5, 9, 9, 9, 2, 9, 7].into_iter().enumerate() {
        all.push(image(db, "cara", &format!("tile number{i}"), 1_000 + stamp, true).await);
    }
    like(db, "x", all[1], 10).await;
    like(db, "y", all[1], 10).await;
    like(db, "x", all[2], 10).await;
    like(db, "x", all[4], 10_000).await;
    let trending = FeedOrder::Trending { since: at(5_000) };
    for order in [FeedOrder::Recent, FeedOrder::Popular, trending] {
        walk(&feed, order, None).await;
        walk(&feed, order, Some("til")).await;
    }
    assert_eq!(ids(&feed, query(FeedOrder::Recent, None)).await.len(), 7);
}

async fn popular_and_trending_sort_by_likes_then_recency(db: &TestDatabase) {
    let feed = DieselExploreRepository::new(db.database.clone());
    let a = image(db, "ann", "a", 1_000, true).await;
    let b = image(db, "ann", "b", 2_000, true).await;
    let c = image(db, "ann", "c", 3_000, true).await;
    let d = image(db, "ann", "d", 4_000, true).await;
    // a: three old likes; b: one recent; c: two recent; d: none.
    for who in ["u1", "u2", "u3"] {
        like(db, who, a, 100).await;
    }
    like(db, "u1", b, 9_000).await;
    like(db, "u1", c, 9_500).await;
    like(db, "u2", c, 9_600).await;
    assert_eq!(
        ids(&feed, query(FeedOrder::Popular, None)).await,
        [a, c, b, d]
    );
    let trending = FeedOrder::Trending { since: at(8_000) };
    assert_eq!(ids(&feed, query(trending, None)).await, [c, b, d, a]);
    let page = feed.feed(query(trending, None)).await.unwrap();
    let counts: Vec<(u64, Option<u64>)> = page
        .iter()
        .map(|found| (found.like_count, found.score))
        .collect();
    assert_eq!(
        counts,
        [(2, Some(2)), (1, Some(1)), (0, Some(0)), (3, Some(0))]
    );
    let recent = feed.feed(query(FeedOrder::Recent, None)).await.unwrap();
    let counts: Vec<u64> = recent.iter().map(|found| found.like_count).collect();
    assert_eq!(counts, [0, 2, 1, 3]);
}

async fn search_matches_whole_words_and_prefixes_of_prompt_words(db: &TestDatabase) {
    let feed = DieselExploreRepository::new(db.database.clone());
    let cat = image(db, "ann", "A Cat on a red Sofa", 1_000, true).await;
    let cats = image(db, "ann", "three cats, sci-fi style", 2_000, true).await;
    let scatter = image(db, "ann", "scattered leaves", 3_000, true).await;
    let japanese = image(db, "ann", "東京 の 夜景, café neon", 4_000, true).await;
    let search = |raw: &'static str| {
        let feed = feed.clone();
        async move { ids(&feed, query(FeedOrder::Recent, Some(raw))).await }
    };
    assert_eq!(search("cat").await, [cats, cat]);
    assert_eq!(search("CAT").await, [cats, cat]);
    assert_eq!(search("cats").await, [cats]);
    // A prefix of a word, not a substring: "at" is inside "cat" but begins no word.
    assert!(search("at").await.is_empty());
    assert_eq!(search("sca").await, [scatter]);
    // Every word must match.
    assert_eq!(search("red cat").await, [cat]);
    assert_eq!(search("so ca").await, [cat]);
    assert!(search("red leaves").await.is_empty());
    assert_eq!(search("sci-fi").await, [cats]);
    assert_eq!(search("fi").await, [cats]);
    assert_eq!(search("東京").await, [japanese]);
    assert_eq!(search("café").await, [japanese]);
    assert_eq!(search("NEO").await, [japanese]);
    assert!(search("dog").await.is_empty());
}

async fn hostile_search_terms_match_nothing_or_their_words_and_never_fail(db: &TestDatabase) {
    let feed = DieselExploreRepository::new(db.database.clone());
    let or = image(db, "ann", "cats OR dogs near the sea", 1_000, true).await;
    for raw in [
        "\"",
        "\"\"",
        "*",
        "cat*",
        "\"cat\" OR \"dog\"",
        "NEAR(cat dog)",
        "cat NEAR dog",
        "'",
        "'; DROP TABLE images; --",
        "cat & !dog | (sea",
        "-cat",
        "cat:*",
        "\\",
        "^cat",
        "prompt:cat",
        "{cat}",
        "%_%",
        "\u{0}",
        "😀🐈",
        "\u{202e}cat",
        "ⅷ²",
        "AND",
        "OR",
        "NOT",
    ] {
        let found = feed.feed(query(FeedOrder::Recent, Some(raw))).await;
        let found = found.unwrap_or_else(|e| panic!("{raw:?} failed: {e}"));
        assert!(found.len() <= 1, "{raw:?}");
    }
    // Operators are only words: "or" and "near" match the prompt's words.
    assert_eq!(
        ids(&feed, query(FeedOrder::Recent, Some("cat OR"))).await,
        [or]
    );
    assert_eq!(
        ids(&feed, query(FeedOrder::Recent, Some("near*"))).await,
        [or]
    );
    assert_eq!(
        ids(&feed, query(FeedOrder::Recent, Some("-dog"))).await,
        [or]
    );
    assert!(
        ids(&feed, query(FeedOrder::Recent, Some("\"*'")))
            .await
            .is_empty()
    );
}

async fn favourites_are_the_images_the_viewer_likes(db: &TestDatabase) {
    let feed = DieselExploreRepository::new(db.database.clone());
    let liked = image(db, "ann", "liked owl", 1_000, true).await;
    let _other = image(db, "ann", "other owl", 2_000, true).await;
    let private = image(db, "viewer", "private owl", 3_000, false).await;
    like(db, "viewer", liked, 10).await;
    like(db, "viewer", private, 10).await;
    like(db, "someone", _other, 10).await;
    let mine = FeedQuery {
        liked_by: Some(user("viewer")),
        ..query(FeedOrder::Recent, None)
    };
    assert_eq!(ids(&feed, mine.clone()).await, [liked]);
    let searched = FeedQuery {
        search: SearchTerms::parse("owl").unwrap(),
        ..mine
    };
    assert_eq!(ids(&feed, searched).await, [liked]);
}

/// The like counts and scores of the popular order, by image.
async fn popular_counts(feed: &DieselExploreRepository) -> Vec<(ImageId, u64, Option<u64>)> {
    feed.feed(query(FeedOrder::Popular, None))
        .await
        .unwrap()
        .into_iter()
        .map(|found| (found.image.record.id, found.like_count, found.score))
        .collect()
}

async fn like_counts_stay_exact_through_likes_unlikes_and_walks(db: &TestDatabase) {
    let feed = DieselExploreRepository::new(db.database.clone());
    let mut all = Vec::new();
    for i in 0..9 {
        all.push(image(db, "dora", &format!("tile number{i}"), 1_000 + i, true).await);
    }
    let (a, b, c) = (all[0], all[1], all[2]);
    for who in ["u1", "u2", "u3"] {
        like(db, who, a, 100).await;
    }
    // Liking twice counts once; unliking what is not liked changes nothing.
    like(db, "u1", a, 200).await;
    set_like(db, "u4", a, false, 300).await;
    like(db, "u1", b, 9_000).await;
    like(db, "u2", b, 9_100).await;
    set_like(db, "u2", b, false, 9_200).await;
    let counts = popular_counts(&feed).await;
    assert_eq!(counts[0], (a, 3, Some(3)));
    assert_eq!(counts[1], (b, 1, Some(1)));
    assert_eq!(counts.len(), 9);
    assert!(
        counts[2..]
            .iter()
            .all(|&(_, likes, score)| likes == 0 && score == Some(0))
    );
    set_like(db, "u3", a, false, 400).await;
    for who in ["u1", "u2", "u3"] {
        like(db, who, c, 9_500).await;
    }
    let counts = popular_counts(&feed).await;
    assert_eq!(
        counts[..3],
        [(c, 3, Some(3)), (a, 2, Some(2)), (b, 1, Some(1))]
    );
    // A like on a private image counts for it, and shows once it is public.
    let private = image(db, "dora", "tile private", 5_000, false).await;
    like(db, "dora", private, 9_600).await;
    DieselImageRepository::new(db.database.clone())
        .change(&user("dora"), private, ImageChange::Publish, at(9_700))
        .await
        .unwrap()
        .unwrap();
    let counts = popular_counts(&feed).await;
    assert!(counts.contains(&(private, 1, Some(1))));
    // More liked images in the window than a page: the walks cross from the liked images to
    // the rest within a page and between pages.
    for (i, &id) in all[3..7].iter().enumerate() {
        like(db, "u9", id, 8_000 + i64::try_from(i).unwrap()).await;
    }
    // The most liked image of the window is not a tile: a search for tiles ranks past it.
    let other = image(db, "dora", "other thing", 1_500, true).await;
    for who in ["u1", "u2", "u3", "u4", "u5"] {
        like(db, who, other, 9_800).await;
    }
    let trending = FeedOrder::Trending { since: at(5_000) };
    let order = ids(&feed, query(trending, None)).await;
    // The other image: five likes in the window; c: three; then one each, newest first (the
    // published one, the tiles 6 to 3, b); then the rest (a's likes are older).
    let mut expected = vec![other, c, private, all[6], all[5], all[4], all[3], b];
    expected.extend([all[8], all[7], a]);
    assert_eq!(order, expected);
    for order in [FeedOrder::Popular, trending] {
        walk(&feed, order, None).await;
        walk(&feed, order, Some("tile")).await;
    }
    // Deleting a liked image takes its likes along and leaves the others' counts.
    DieselImageRepository::new(db.database.clone())
        .delete_for_user(&user("dora"), c)
        .await
        .unwrap()
        .unwrap();
    let counts = popular_counts(&feed).await;
    assert_eq!(counts[..2], [(other, 5, Some(5)), (a, 2, Some(2))]);
    assert_eq!(counts.len(), 10);
}
