//! The first request of a variant renders it; the same request again is served from storage,
//! byte for byte, and a revalidation with its `ETag` is a 304.

use image::ImageFormat;
use picture_tests::{TestApp, on_both_databases};

use super::{
    COUNTERS, IMMUTABLE, RENDERS, generated, get_variant, image_of, key_of, metric, requests, vary,
};

on_both_databases!(a_variant_is_rendered_once_then_served_from_storage);

const QUERY: &str = "width=256&height=256&resize=cover&quality=80";
const WEBP_FIRST: &str = "image/webp,*/*";

async fn a_variant_is_rendered_once_then_served_from_storage(app: TestApp) {
    let _counting = COUNTERS.write().await;
    let token = app.token("first-and-stored", None);
    let image = generated(&app, &token).await;
    let key = key_of(&image);
    let original = image_of(get_variant(&app, &key, "", None).await, "the original").await;
    assert_eq!(original.size(), (1024, 1024));

    let renders = metric(&app, RENDERS).await;
    let rendered = metric(&app, &requests("rendered")).await;
    let stored = metric(&app, &requests("stored")).await;

    let first = get_variant(&app, &key, QUERY, Some(WEBP_FIRST)).await;
    let headers = first.headers().clone();
    let first = image_of(first, "first request").await;
    assert_eq!(first.format, ImageFormat::WebP);
    assert_eq!(first.content_type, "image/webp");
    assert_eq!(first.size(), (256, 256));
    assert_eq!(headers["cache-control"], IMMUTABLE);
    assert!(
        vary(&headers).contains(&"accept".to_owned()),
        "Vary: Accept"
    );
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
        "a quoted ETag: {etag}"
    );
    assert!(first.bytes.len() < original.bytes.len());
    assert_eq!(metric(&app, RENDERS).await, renders + 1.0);
    assert_eq!(metric(&app, &requests("rendered")).await, rendered + 1.0);

    let again = get_variant(&app, &key, QUERY, Some(WEBP_FIRST)).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(again.headers()["cache-control"], IMMUTABLE);
    let again = image_of(again, "second request").await;
    assert_eq!(
        again.bytes, first.bytes,
        "served from storage, the same bytes"
    );
    assert_eq!(
        metric(&app, RENDERS).await,
        renders + 1.0,
        "not rendered again"
    );
    assert_eq!(metric(&app, &requests("stored")).await, stored + 1.0);

    let revalidated = app
        .client
        .get(format!("{}/files/{key}?{QUERY}", app.address))
        .header("Accept", WEBP_FIRST)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert!(
        revalidated.bytes().await.unwrap().is_empty(),
        "a 304 has no body"
    );
    assert_eq!(metric(&app, RENDERS).await, renders + 1.0);

    // Another variant has another ETag; the original keeps its own headers and no Vary.
    let other = get_variant(
        &app,
        &key,
        "width=128&height=128&resize=cover&quality=80",
        Some(WEBP_FIRST),
    )
    .await;
    assert_ne!(other.headers()["etag"].to_str().unwrap(), etag);
    let stale = app
        .client
        .get(format!(
            "{}/files/{key}?width=128&height=128&resize=cover&quality=80",
            app.address
        ))
        .header("Accept", WEBP_FIRST)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stale.status(),
        200,
        "an ETag of another variant does not match"
    );
    // With a format named, the answer does not vary with Accept.
    let named = get_variant(
        &app,
        &key,
        &format!("{QUERY}&format=webp"),
        Some(WEBP_FIRST),
    )
    .await;
    assert_eq!(named.status(), 200);
    assert!(!vary(named.headers()).contains(&"accept".to_owned()));
}
