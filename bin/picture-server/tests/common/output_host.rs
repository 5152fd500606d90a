//! The output host of the process suites' fakes of Replicate (each suite includes this file
//! with `#[path]`): a succeeded prediction's output URL is `{fake}/delivery/out.png`.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Serves a 64×64 PNG rendered from `text` at `GET /delivery/out.png` on `server`.
pub async fn mount_output_png(server: &MockServer, text: &str) {
    Mock::given(method("GET"))
        .and(path("/delivery/out.png"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/png")
                .set_body_bytes(picture_offline::render_png(text, Some(1), 64, 64).unwrap()),
        )
        .mount(server)
        .await;
}
