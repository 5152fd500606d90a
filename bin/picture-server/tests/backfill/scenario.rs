//! The scenario both backends run: interrupted, resumed, and run once more for nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::command::{Finished, Setup, Summary, files_of, per_second};
use crate::database::{Connection, Hashed};
use crate::fixture::{self, Fixture, GOOD_IMAGES, IMAGES, MISSING};

/// The first run is stopped once this many images have a blurhash.
const STOP_AFTER: i64 = 200;
/// Every row the backfill can hash: the good images and the board.
const GOOD_ROWS: usize = GOOD_IMAGES + 1;
/// The length of a 4×3 blurhash: size, maximum, DC (4) and 11 AC components (2 each).
const HASH_LEN: usize = 28;
/// The command under test, 50 rows per listing query.
const BACKFILL: [&str; 4] = ["images", "backfill", "--batch", "50"];

/// How the first run is stopped.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// Ctrl-C: it says so and exits 0.
    Sigint,
    /// Killed: it says nothing.
    Sigkill,
}

/// Migrates `database`, writes the fixture, runs the backfill until 200 images are hashed,
/// stops it with `stop`, then runs it to the end and once more, asserting what each run did.
pub async fn stopped_then_resumed(database: &str, dir: &Path, stop: Stop) {
    let setup = Setup {
        database: database.to_owned(),
        data_dir: dir.join("data"),
        output_dir: dir.to_owned(),
    };
    setup.run("migrate", &["migrate"]).await.assert_success();
    let mut connection = Connection::open(database).await;
    let fixture = fixture::prepare(&mut connection, &files_of(&setup.data_dir)).await;

    let (first, after_first) = first_run(&setup, &mut connection, stop).await;
    assert_eq!(first.remaining(), (IMAGES + 1) as u64, "{}", first.stdout);
    assert_consistent_prefix(&after_first, &fixture);
    let first_hashes: BTreeMap<String, String> = after_first
        .into_iter()
        .filter_map(|Hashed { id, blurhash }| blurhash.map(|hash| (id, hash)))
        .collect();
    assert_eq!(
        connection.board_hash(&fixture.board).await,
        None,
        "images come first"
    );
    let first_count = first_hashes.len();
    assert!(
        (STOP_AFTER as usize..GOOD_IMAGES).contains(&first_count),
        "stopped before the end: {first_count} hashed"
    );

    let second = setup.run("second", &BACKFILL).await;
    second.assert_success();
    assert_eq!(second.remaining(), (IMAGES + 1 - first_count) as u64);
    assert_eq!(
        second.summary(),
        Some(Summary {
            hashed: (GOOD_ROWS - first_count) as u64,
            failed: (IMAGES - GOOD_IMAGES) as u64,
            already_hashed: 0
        }),
        "{}",
        second.stdout
    );
    assert_eq!(
        second.log_lines("no stored object: no blurhash"),
        MISSING,
        "{}",
        second.log
    );
    assert_eq!(
        second.log_lines("blurhash not computed"),
        IMAGES - GOOD_IMAGES - MISSING,
        "{}",
        second.log
    );
    assert_eq!(second.stdout.lines().count(), 3, "{}", second.stdout);
    assert!(!second.drew_a_bar(), "a bar off a terminal: {}", second.log);

    let after_second = connection.image_hashes().await;
    assert_complete(&after_second, &first_hashes, &fixture);
    let board = connection.board_hash(&fixture.board).await;
    assert_valid(
        board.as_deref().unwrap_or_default(),
        "the board's thumbnail",
    );
    assert_eq!(
        board.as_ref(),
        Some(&fixture.board_expected),
        "the board's own hash"
    );

    let third = setup.run("third", &BACKFILL).await;
    third.assert_success();
    assert_eq!(third.remaining(), (IMAGES - GOOD_IMAGES) as u64);
    assert_eq!(
        third.summary(),
        Some(Summary {
            hashed: 0,
            failed: (IMAGES - GOOD_IMAGES) as u64,
            already_hashed: 0
        }),
        "{}",
        third.stdout
    );
    assert_eq!(
        connection.image_hashes().await,
        after_second,
        "the third changed nothing"
    );

    let second_count = GOOD_ROWS - first_count;
    eprintln!(
        "{stop:?}: first run hashed {first_count} in {:.2?} ({:.0} rows/s, process start \
         included); second hashed {second_count} in {:.2?} ({:.0} rows/s); third {:.2?}",
        first.elapsed,
        per_second(first_count, first.elapsed),
        second.elapsed,
        per_second(second_count, second.elapsed),
        third.elapsed,
    );
}

/// Runs the backfill until [`STOP_AFTER`] images are hashed, stops it with `stop`: how it
/// ended, and the images' rows after it.
async fn first_run(
    setup: &Setup,
    connection: &mut Connection,
    stop: Stop,
) -> (Finished, Vec<Hashed>) {
    let mut running = setup.start("first", &BACKFILL);
    let deadline = Instant::now() + Duration::from_secs(120);
    while connection.hashed_images().await < STOP_AFTER {
        assert!(
            running.is_running(),
            "the first run ended before {STOP_AFTER} were hashed"
        );
        assert!(Instant::now() < deadline, "{STOP_AFTER} not hashed in time");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    match stop {
        Stop::Sigint => running.interrupt(),
        Stop::Sigkill => running.kill(),
    }
    let first = running.finished_within(Duration::from_secs(10)).await;
    match stop {
        Stop::Sigint => {
            first.assert_success();
            assert!(
                first
                    .stdout
                    .contains("\ninterrupted: what was hashed is kept; run again to go on\n"),
                "{}",
                first.stdout
            );
            assert_eq!(
                first.summary(),
                None,
                "interrupted, no summary: {}",
                first.stdout
            );
        }
        Stop::Sigkill => assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&first.status),
            Some(9)
        ),
    }
    (first, connection.image_hashes().await)
}

/// The first run's hashes are valid and on good images only; as it walks the images in id
/// order, every good image up to the last one it hashed has one (`rows` in id order).
fn assert_consistent_prefix(rows: &[Hashed], fixture: &Fixture) {
    let last = rows
        .iter()
        .rev()
        .find(|row| row.blurhash.is_some())
        .map(|row| row.id.clone())
        .unwrap_or_default();
    for Hashed { id, blurhash } in rows {
        match blurhash {
            Some(hash) => {
                assert!(!fixture.bad.contains(id), "bad image {id} got {hash}");
                assert_valid(hash, id);
                assert_eq!(
                    Some(hash),
                    fixture.expected.get(id),
                    "image {id}'s own hash"
                );
            }
            None => assert!(
                fixture.bad.contains(id) || *id > last,
                "good image {id}, before the last hashed {last}, has none"
            ),
        }
    }
}

/// After the second run: every good image has a valid blurhash, those of the first run
/// unchanged; the bad ones have none.
fn assert_complete(rows: &[Hashed], first: &BTreeMap<String, String>, fixture: &Fixture) {
    assert_eq!(rows.len(), IMAGES);
    for Hashed { id, blurhash } in rows {
        if fixture.bad.contains(id) {
            assert_eq!(blurhash, &None, "bad image {id}");
            continue;
        }
        let Some(hash) = blurhash else {
            panic!("good image {id} has no blurhash");
        };
        assert_valid(hash, id);
        assert_eq!(
            Some(hash),
            fixture.expected.get(id),
            "image {id}'s own hash"
        );
        if let Some(before) = first.get(id) {
            assert_eq!(hash, before, "image {id} hashed twice");
        }
    }
}

/// `hash` is a 4×3 blurhash that decodes.
fn assert_valid(hash: &str, of: &str) {
    assert_eq!(hash.len(), HASH_LEN, "{of}: {hash:?}");
    assert!(hash.starts_with('L'), "{of}: {hash:?} is not 4×3");
    assert!(
        blurhash::decode(hash, 8, 6, 1.0).is_ok(),
        "{of}: {hash:?} does not decode"
    );
}
