//! The pool: its bound, Busy and TimedOut.

use std::sync::Arc;
use std::time::Duration;

use picture_domain::ports::{ImageRenderer, RenderError};
use picture_domain::variant::{OutputFormat, Resize, VariantSpec};

use super::Renderer;
use crate::deadline::Deadline;
use crate::pipeline;
use crate::sample_photo::photo_png;
use crate::settings::ImagingSettings;

const THUMBNAIL: VariantSpec = VariantSpec {
    width: Some(256),
    height: Some(256),
    resize: Resize::Cover,
    quality: 80,
    format: OutputFormat::Webp,
};

fn one_thread(time_limit: Duration) -> Renderer {
    Renderer::new(ImagingSettings {
        threads: 1,
        time_limit,
        ..ImagingSettings::default()
    })
}

/// Waits until `renderer` has `free` free slots (polling; the test fails after 60 s).
async fn until_free(renderer: &Renderer, free: usize) {
    for _ in 0..6000 {
        if renderer.slots.available_permits() == free {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the pool never had {free} free slots");
}

#[tokio::test]
async fn a_call_that_finds_every_slot_taken_is_busy() {
    let slow = one_thread(Duration::from_secs(60));
    // Same slot, but this caller waits only 50 ms.
    let hurried = Renderer {
        settings: ImagingSettings {
            time_limit: Duration::from_millis(50),
            ..slow.settings
        },
        slots: Arc::clone(&slow.slots),
    };
    // The one slot is held (as a long render would hold it), deterministically.
    let held = Arc::clone(&slow.slots).acquire_owned().await.unwrap();
    let small = photo_png(64, 64, 41).unwrap();
    assert_eq!(
        hurried.render(small.clone(), THUMBNAIL).await,
        Err(RenderError::Busy)
    );
    assert_eq!(
        hurried.blurhash(small.clone()).await,
        Err(RenderError::Busy)
    );
    drop(held);
    let rendered = hurried.render(small, THUMBNAIL).await.unwrap();
    assert_eq!((rendered.width, rendered.height), (64, 64));
    assert_eq!(slow.slots.available_permits(), 1, "the slot is given back");
}

#[tokio::test]
async fn a_render_longer_than_the_limit_times_out_and_its_work_stops() {
    let source = photo_png(2048, 2048, 42).unwrap();
    let hurried = one_thread(Duration::from_millis(5));
    assert_eq!(
        hurried.render(source.clone(), THUMBNAIL).await,
        Err(RenderError::TimedOut)
    );
    // The abandoned work held its slot, then stopped at a stage check and gave it back.
    until_free(&hurried, 1).await;
    assert_eq!(hurried.blurhash(source).await, Err(RenderError::TimedOut));
}

#[test]
fn the_work_stops_at_its_first_stage_check_after_the_deadline() {
    let source = photo_png(64, 64, 43).unwrap();
    let passed = Deadline::after(Duration::ZERO);
    assert_eq!(
        pipeline::render(&source, &THUMBNAIL, 1_000_000, passed),
        Err(RenderError::TimedOut)
    );
    assert_eq!(
        pipeline::blurhash(&source, 1_000_000, passed),
        Err(RenderError::TimedOut)
    );
    let far = Deadline::after(Duration::MAX);
    assert!(pipeline::render(&source, &THUMBNAIL, 1_000_000, far).is_ok());
}

#[test]
fn zero_threads_count_as_one() {
    let renderer = Renderer::new(ImagingSettings {
        threads: 0,
        ..ImagingSettings::default()
    });
    assert_eq!(renderer.settings().threads, 1);
    assert_eq!(renderer.slots.available_permits(), 1);
    assert!(ImagingSettings::default().threads >= 1);
}
