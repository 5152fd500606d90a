//! Twenty first requests of one variant at once: one rendering, twenty identical answers.

use std::time::Duration;

use picture_tests::{TestApp, on_both_databases};

use super::{COUNTERS, RENDERS, generated, image_of, key_of, metric, requests};

on_both_databases!(concurrent_first_requests_share_one_rendering);

const QUERY: &str = "width=768&height=768&resize=cover&quality=85";

async fn concurrent_first_requests_share_one_rendering(app: TestApp) {
    let _counting = COUNTERS.write().await;
    let token = app.token("concurrent", None);
    let image = generated(&app, &token).await;
    let key = key_of(&image);
    let renders = metric(&app, RENDERS).await;
    let answered = [
        metric(&app, &requests("rendered")).await,
        metric(&app, &requests("stored")).await,
        metric(&app, &requests("shared")).await,
    ];
    let url = format!("{}/files/{key}?{QUERY}", app.address);
    // Longer than the server's own wait for another's render, so that what fails is the
    // server's answer, not the harness's 10-second client.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let requests_in_flight: Vec<_> = (0..20)
        .map(|_| {
            let request = client.get(&url).header("Accept", "image/webp,*/*");
            tokio::spawn(request.send())
        })
        .collect();
    let mut bodies = Vec::new();
    for (i, request) in requests_in_flight.into_iter().enumerate() {
        let response = request.await.unwrap().unwrap();
        let served = image_of(response, &format!("request {i}")).await;
        assert_eq!(served.size(), (768, 768));
        bodies.push(served.bytes);
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "identical bytes");
    assert_eq!(
        metric(&app, RENDERS).await,
        renders + 1.0,
        "rendered exactly once"
    );
    let after = [
        metric(&app, &requests("rendered")).await,
        metric(&app, &requests("stored")).await,
        metric(&app, &requests("shared")).await,
    ];
    assert_eq!(after[0], answered[0] + 1.0, "one request rendered");
    let others = (after[1] - answered[1]) + (after[2] - answered[2]);
    assert_eq!(others, 19.0, "the other 19 waited for it or read it stored");
}
