use picture_domain::{EventSeq, GenerationStatus, LiveChange};

use super::*;

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

fn changed(seq: i64, who: &str, generation: GenerationId) -> LiveEvent {
    LiveEvent {
        seq: EventSeq::new(seq),
        user: user(who),
        change: LiveChange::Generation {
            generation,
            status: GenerationStatus::Processing,
            progress: None,
            batch: None,
        },
    }
}

fn seq_of(message: Option<HubMessage>) -> Option<i64> {
    match message? {
        HubMessage::Event(event) => Some(event.seq.get()),
        HubMessage::Resync => Some(-1),
    }
}

#[tokio::test]
async fn events_reach_only_their_users_streams_and_watched_generation() {
    let hub = LiveHub::new(10, 8);
    let (one, two) = (GenerationId::new_random(), GenerationId::new_random());
    let mut all = hub.subscribe(&user("a"), None).unwrap();
    let mut only_two = hub.subscribe(&user("a"), Some(two)).unwrap();
    let mut other = hub.subscribe(&user("b"), None).unwrap();
    hub.dispatch(changed(1, "a", one));
    hub.dispatch(changed(2, "a", two));
    assert_eq!(seq_of(all.next().await), Some(1));
    assert_eq!(seq_of(all.next().await), Some(2));
    assert_eq!(seq_of(only_two.next().await), Some(2));
    hub.resync();
    assert_eq!(seq_of(other.next().await), Some(-1));
    assert_eq!(hub.open_streams(), 3);
    drop(other);
    assert_eq!(hub.open_streams(), 2);
    assert!(!hub.watches(&user("b")));
}

#[tokio::test]
async fn a_reader_that_falls_behind_its_buffer_is_dropped() {
    let hub = LiveHub::new(10, 2);
    let generation = GenerationId::new_random();
    let mut slow = hub.subscribe(&user("a"), None).unwrap();
    let mut quick = hub.subscribe(&user("a"), None).unwrap();
    for seq in 1..=2 {
        hub.dispatch(changed(seq, "a", generation));
        assert_eq!(seq_of(quick.next().await), Some(seq));
    }
    hub.dispatch(changed(3, "a", generation));
    assert_eq!(hub.open_streams(), 1, "the slow one is gone");
    // It still gets what was buffered, then its stream ends.
    assert_eq!(seq_of(slow.next().await), Some(1));
    assert_eq!(seq_of(slow.next().await), Some(2));
    assert!(slow.next().await.is_none());
    assert_eq!(seq_of(quick.next().await), Some(3));
}

#[tokio::test]
async fn the_instance_cap_and_shutdown_are_enforced() {
    let hub = LiveHub::new(2, 4);
    let _one = hub.subscribe(&user("a"), None).unwrap();
    let mut two = hub.subscribe(&user("b"), None).unwrap();
    assert_eq!(
        hub.subscribe(&user("c"), None).unwrap_err(),
        SubscribeError::InstanceFull
    );
    hub.shutdown();
    assert!(two.next().await.is_none(), "stopping ends every stream");
    assert_eq!(
        hub.subscribe(&user("c"), None).unwrap_err(),
        SubscribeError::ShuttingDown
    );
    assert_eq!(hub.open_streams(), 0);
}

#[tokio::test]
async fn watched_resolves_once_a_stream_opens() {
    let hub = LiveHub::new(4, 4);
    let waiting = tokio::spawn({
        let hub = hub.clone();
        async move { hub.watched().await }
    });
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    let _stream = hub.subscribe(&user("a"), None).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .unwrap()
        .unwrap();
    hub.watched().await;
}
