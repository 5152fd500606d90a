//! The per-user cap counts streams across instances: with `EVENT_STREAMS_PER_USER=2`, one
//! stream on A and one on B leave no room for a third on either (429 `too_many_streams`);
//! after A is killed with SIGKILL its stream stops counting once A's liveness lapses (about
//! 30 s), and a new stream opens on B.
//!
//! Slow by design: it waits for the liveness to lapse (about 30 s).

use std::time::{Duration, Instant};

use picture_test_support::PgTestDb;

use crate::fake_replicate::FakeReplicate;
use crate::support::{Api, launch};

const USER: &str = "live-cap";
/// How long the test waits for the killed instance's stream to stop counting.
const LAPSE_WITHIN: Duration = Duration::from_secs(45);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_user_cap_spans_instances_and_forgets_a_killed_one() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeReplicate::start().await;
    let launch = launch(Some(pg.url()), dir.path(), &fake).with("EVENT_STREAMS_PER_USER", "2");
    let token = launch.token(USER);
    let mut a = launch.start("a").await;
    let b = launch.start("b").await;
    let (on_a, on_b) = (Api::on(&a), Api::on(&b));

    let _held_on_a = on_a.stream(&token, "/generate/events").await;
    let mut held_on_b = on_b.stream(&token, "/generate/events").await;
    for (name, api) in [("A", &on_a), ("B", &on_b)] {
        match api.open(&token, "/generate/events").await {
            Err((429, body)) => assert_eq!(body["code"], "too_many_streams", "{body}"),
            Err(refused) => panic!("a third stream on {name}: {refused:?}"),
            Ok(_) => panic!("a third stream opened on {name} past the cap of 2"),
        }
    }

    a.kill();
    let killed = Instant::now();
    let opened = loop {
        match on_b.open(&token, "/generate/events").await {
            Ok(watch) => break watch,
            Err((429, _)) => {}
            Err(refused) => panic!("opening on B after the kill: {refused:?}"),
        }
        assert!(
            killed.elapsed() < LAPSE_WITHIN,
            "A's stream still counts {LAPSE_WITHIN:?} after A was killed"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    eprintln!(
        "a new stream opened on B {:?} after A was killed",
        killed.elapsed()
    );
    drop(opened);
    // B's own stream was never disturbed.
    let (_, ready) = held_on_b.event(Duration::from_secs(5)).await;
    assert_eq!(ready.name, "ready", "{ready:?}");
}
