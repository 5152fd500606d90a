//! Sizes: `cover`, `contain` and `fill` on a non-square original; odd sizes snapped up to the
//! allowed ones (64, 128, 256, 384, 512, 768, 1024), anything above 1024 to 1024; queries that
//! snap alike share one rendering.

use picture_tests::{TestApp, on_both_databases};

use super::{COUNTERS, RENDERS, generated, key_of, metric, uploaded, variant};

on_both_databases!(
    cover_contain_and_fill_fit_a_landscape_original,
    odd_sizes_are_snapped_up_and_share_one_rendering,
);

const WEBP: Option<&str> = Some("image/webp");

async fn cover_contain_and_fill_fit_a_landscape_original(app: TestApp) {
    let _rendering = COUNTERS.read().await;
    let token = app.token("sizes-landscape", None);
    let image = uploaded(&app, &token, 1024, 768).await;
    let key = key_of(&image);
    for (query, size) in [
        ("width=256&height=256&resize=contain", (256, 192)),
        ("width=256&height=128&resize=fill", (256, 128)),
        ("width=256&height=256&resize=cover", (256, 256)),
        ("width=256&height=256", (256, 256)),
        // One size keeps the proportions, whatever the mode.
        ("width=512", (512, 384)),
        ("height=384&resize=fill", (512, 384)),
        // Never enlarged.
        ("width=1024&height=1024&resize=contain", (1024, 768)),
    ] {
        let served = variant(&app, &key, query, WEBP).await;
        assert_eq!(served.size(), size, "{query}");
    }
}

async fn odd_sizes_are_snapped_up_and_share_one_rendering(app: TestApp) {
    let _counting = COUNTERS.write().await;
    let token = app.token("sizes-snapped", None);
    let image = generated(&app, &token).await;
    let key = key_of(&image);
    for (query, size) in [
        ("width=300", (384, 384)),
        ("width=5000", (1024, 1024)),
        ("width=8192", (1024, 1024)),
        ("width=100&height=100", (128, 128)),
        ("width=1&height=1", (64, 64)),
        ("width=257&height=129&resize=fill", (384, 256)),
    ] {
        let served = variant(&app, &key, query, WEBP).await;
        assert_eq!(served.size(), size, "{query}");
    }
    // 200 and 250 both snap to 256: one rendering for both, and the same bytes.
    let renders = metric(&app, RENDERS).await;
    let first = variant(&app, &key, "width=200&height=200&quality=71", WEBP).await;
    assert_eq!(metric(&app, RENDERS).await, renders + 1.0);
    let second = variant(&app, &key, "width=250&height=256&quality=75", WEBP).await;
    assert_eq!(
        metric(&app, RENDERS).await,
        renders + 1.0,
        "snapped alike: not rendered again"
    );
    assert_eq!(first.bytes, second.bytes);
    assert_eq!(second.size(), (256, 256));
}
