//! Reconnecting with `Last-Event-ID` (or `?lastEventId=`): every later event, in order, none
//! missed; with the final event's id, 204 (the standard's "stop reconnecting").

use picture_tests::Db;

use super::fake::setup;
use super::sse::{Event, Sse, get, open};
use super::{assert_completed, assert_generation};

picture_tests::for_both_databases!(
    a_reconnect_after_the_last_event_id_misses_nothing_and_one_after_the_end_is_204,
);

/// Every event until the stream ends.
async fn rest_of(mut stream: Sse) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(event) = stream.next_event().await {
        events.push(event);
    }
    events
}

async fn a_reconnect_after_the_last_event_id_misses_nothing_and_one_after_the_end_is_204(db: Db) {
    let Some(fake) = setup(db, |_| {}).await else {
        return;
    };
    fake.mount_prediction("p-reconnect").await;
    let id = fake.start_generation().await;
    let path = format!("/api/v1/generate/{id}/events");
    let address = &fake.app.address;
    let mut first = open(address, &path, Some(&fake.token), &[]).await;
    let opened = first.event().await;
    assert_generation(&opened, &id);
    let last = opened.id.unwrap().to_string();
    drop(first);

    // Changes while the client is away.
    fake.half_way("p-reconnect").await;
    fake.succeed("p-reconnect").await;

    let by_header = rest_of(
        open(
            address,
            &path,
            Some(&fake.token),
            &[("Last-Event-ID", &last)],
        )
        .await,
    )
    .await;
    let by_query = rest_of(
        open(
            address,
            &format!("{path}?lastEventId={last}"),
            Some(&fake.token),
            &[],
        )
        .await,
    )
    .await;
    for events in [&by_header, &by_query] {
        let statuses: Vec<&str> = events
            .iter()
            .map(|event| event.data["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["processing", "completed"], "{events:?}");
        assert!(events[0].id.unwrap() > opened.id.unwrap());
        assert_generation(&events[0], &id);
        assert_eq!(events[0].data["progress"], 0.5);
        assert_completed(&events[1], &id);
    }
    let ids = |events: &[Event]| events.iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        ids(&by_header),
        ids(&by_query),
        "the same events, the same ids"
    );

    // A client that already has the final event is told to stop.
    let final_id = by_header[1].id.unwrap().to_string();
    let stop = get(
        address,
        &path,
        Some(&fake.token),
        &[("Last-Event-ID", &final_id)],
    )
    .await;
    assert_eq!(stop.status(), 204);
    let stop = get(
        address,
        &format!("{path}?lastEventId={final_id}"),
        Some(&fake.token),
        &[],
    )
    .await;
    assert_eq!(stop.status(), 204);
    // One event short of the end: the final event again, then the end.
    let before_final = rest_of(
        open(
            address,
            &path,
            Some(&fake.token),
            &[("Last-Event-ID", &by_header[0].id.unwrap().to_string())],
        )
        .await,
    )
    .await;
    assert_eq!(before_final.len(), 1, "{before_final:?}");
    assert_eq!(before_final[0].id, by_header[1].id);
}
