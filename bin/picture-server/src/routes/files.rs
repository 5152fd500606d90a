//! `GET /files/{key}`: images of the local file store (embedded default), public like the
//! original's bucket URLs.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use picture_domain::ports::ObjectKey;
use picture_storage::{ImageFormat, LocalStore};

use crate::dto::ErrorDto;
use crate::error::ApiError;

/// The file of `key` with its content type and long-lived cache headers; 404 for unknown or
/// unsafe keys and for any path the system cannot read as a file.
#[utoipa::path(tag = "files", params(("key" = String, Path, description = "The stored key")), responses((status = 200, description = "The image bytes", content_type = "image/png"), (status = 404, description = "Unknown key", body = ErrorDto)))]
#[get("/files/{key:.*}")]
pub async fn file(
    key: web::Path<String>,
    store: web::Data<LocalStore>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("Cannot GET /files/{key}"));
    let object = ObjectKey::from_stored(key.as_str());
    let path = store.path_of(&object).map_err(|_| not_found())?;
    let format = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(ImageFormat::from_extension)
        .ok_or_else(not_found)?;
    // Whatever the system says — no such file, a directory, a file used as a directory, a name
    // too long — the answer is the same 404: any client can provoke these, so they are not
    // errors of the server and are logged at debug level only.
    let bytes = tokio::fs::read(&path).await.map_err(|error| {
        tracing::debug!(%error, "file not served");
        not_found()
    })?;
    // An object stored with a `Cache-Control` of its own (a board's thumbnail) is served with
    // it; every other key never changes content.
    let cache_control = store
        .cache_control_of(&object)
        .await
        .unwrap_or_else(|| picture_storage::IMAGE_CACHE_CONTROL.to_owned());
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use actix_web::{App, test};

    use super::*;
    use crate::error::configure_extractors;
    use crate::log_capture::LogCapture;

    #[actix_web::test]
    async fn system_errors_are_a_404_logged_at_debug_level_only() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("users/alice.png/images");
        std::fs::create_dir_all(&images).unwrap();
        std::fs::write(images.join("x.png"), b"\x89PNG").unwrap();
        let store = LocalStore::new(dir.path(), "http://localhost");
        let app = test::init_service(
            App::new()
                .configure(configure_extractors)
                .app_data(web::Data::new(store))
                .service(file),
        )
        .await;
        let (logs, _guard) = LogCapture::start();

        let served = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/files/users/alice.png/images/x.png")
                .to_request(),
        )
        .await;
        assert_eq!(served.status(), 200);
        for (path, system_error) in [
            (
                "/files/users/alice.png/images/x.png/child.png",
                "Not a directory",
            ),
            ("/files/users/alice.png", "Is a directory"),
        ] {
            let response =
                test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
            assert_eq!(response.status(), 404, "{path}");
            let body: serde_json::Value = test::read_body_json(response).await;
            assert_eq!(body["code"], "not_found", "{path}");
            assert!(
                logs.text().contains(system_error),
                "{path}: {}",
                logs.text()
            );
        }
        for line in logs.lines() {
            let level = line["level"].as_str().unwrap_or_default();
            assert!(level == "DEBUG" || level == "TRACE", "{line}");
        }
    }
}
