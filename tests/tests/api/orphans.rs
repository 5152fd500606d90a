//! The orphan sweep: a stored image no row points at is deleted once it is older than the
//! grace; an image with a row, a young object and other layouts stay.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use picture_server::settings::RawSettings;
use picture_tests::{TestApp, on_both_databases};
use serde_json::Value;

on_both_databases!(with super::sweep_every_second; an_old_orphan_file_is_swept_and_everything_else_stays);

fn sweep_every_second(raw: &mut RawSettings) {
    raw.set("ORPHAN_SWEEP_INTERVAL_SECS", "1");
}

/// Writes `bytes` to `path` (creating its directory) and, when given, dates it `age` ago.
fn file(path: &Path, age: Option<Duration>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"not an image of anyone's").unwrap();
    if let Some(age) = age {
        age_file(path, age);
    }
}

fn age_file(path: &Path, age: Duration) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
}

async fn an_old_orphan_file_is_swept_and_everything_else_stays(app: TestApp) {
    let token = app.token("swept", None);
    let model = app.default_model_id().await;
    let generated: Value = app
        .generate(&token, &model, true)
        .await
        .json()
        .await
        .unwrap();
    let url = generated["image"]["publicUrl"].as_str().unwrap();
    let (_, key) = url.split_once("/files/").unwrap();
    let files = app.settings.database.data_dir.join("files");
    let hour = Duration::from_secs(3600);
    // The real image is as old as the orphan: only its row keeps it.
    let image: PathBuf = files.join(key);
    age_file(&image, hour);
    let images = image.parent().unwrap();
    let orphan = images.join(format!("{}.png", uuid::Uuid::new_v4()));
    let young = images.join(format!("{}.png", uuid::Uuid::new_v4()));
    let upload = files.join("users/swept/uploads/original.png");
    let elsewhere = files.join("avatars/swept.png");
    file(&orphan, Some(hour));
    file(&young, None);
    file(&upload, Some(hour));
    file(&elsewhere, Some(hour));
    // Bounded wait: passes run every second.
    let mut waited = 0;
    while orphan.exists() {
        assert!(
            waited < 300,
            "the orphan {} was not swept",
            orphan.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    for kept in [&image, &young, &upload, &elsewhere] {
        assert!(kept.exists(), "{} was deleted", kept.display());
    }
    assert_eq!(app.get(&format!("/files/{key}"), None).await.status(), 200);
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("picture_orphan_objects_deleted_total"),
        "{metrics}"
    );
}
