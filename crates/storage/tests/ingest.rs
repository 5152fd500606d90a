//! Ingest against a wiremock file server standing in for replicate.delivery.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use picture_domain::ports::ImageSource;
use picture_storage::{ImageFormat, IngestConfig, IngestError, Ingestor};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn png(width: u32, height: u32) -> Vec<u8> {
    picture_offline::render_png("ingest test", Some(1), width, height).unwrap()
}

/// An ingestor allowed to reach the local fake (as tests configure the server).
fn ingestor(max_bytes: u64) -> Ingestor {
    Ingestor::new(IngestConfig {
        allowed_hosts: vec!["127.0.0.1".into()],
        allow_private_addresses: true,
        max_bytes,
        timeout: Duration::from_millis(700),
    })
    .unwrap()
}

async fn serve(route: &str, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_png_is_downloaded_and_measured_from_its_bytes() {
    let bytes = png(300, 200);
    let server = serve(
        "/pbxt/out-0.png",
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/octet-stream")
            .set_body_bytes(bytes.clone()),
    )
    .await;
    let image = ingestor(1 << 20)
        .fetch(&ImageSource::Url(format!(
            "{}/pbxt/out-0.png",
            server.uri()
        )))
        .await
        .unwrap();
    assert_eq!(image.format, ImageFormat::Png);
    assert_eq!((image.width, image.height), (300, 200));
    assert_eq!(image.bytes, bytes);
}

#[tokio::test]
async fn data_uris_are_decoded_and_checked() {
    let bytes = png(64, 32);
    let uri = format!("data:image/png;base64,{}", STANDARD.encode(&bytes));
    let image = ingestor(1 << 20)
        .fetch(&ImageSource::DataUri(uri))
        .await
        .unwrap();
    assert_eq!((image.width, image.height), (64, 32));
    // Replicate also sends application/octet-stream; the bytes decide.
    let octets = format!(
        "data:application/octet-stream;base64,{}",
        STANDARD.encode(&bytes)
    );
    assert!(
        ingestor(1 << 20)
            .fetch(&ImageSource::DataUri(octets))
            .await
            .is_ok()
    );
    for bad in [
        "data:image/png;base64,!!!",
        "data:image/png,rawtext",
        "data:nocomma",
    ] {
        assert_eq!(
            ingestor(1 << 20)
                .fetch(&ImageSource::DataUri(bad.into()))
                .await,
            Err(IngestError::InvalidDataUri),
            "{bad}"
        );
    }
    let not_image = format!("data:image/png;base64,{}", STANDARD.encode(b"<svg></svg>"));
    assert_eq!(
        ingestor(1 << 20)
            .fetch(&ImageSource::DataUri(not_image))
            .await,
        Err(IngestError::NotAnImage)
    );
}

#[tokio::test]
async fn oversized_outputs_are_abandoned() {
    let bytes = png(256, 256);
    let cap = (bytes.len() / 2) as u64;
    let server = serve(
        "/big.png",
        ResponseTemplate::new(200).set_body_bytes(bytes.clone()),
    )
    .await;
    assert_eq!(
        ingestor(cap)
            .fetch(&ImageSource::Url(format!("{}/big.png", server.uri())))
            .await,
        Err(IngestError::TooLarge(cap))
    );
    let uri = format!("data:image/png;base64,{}", STANDARD.encode(&bytes));
    assert_eq!(
        ingestor(cap).fetch(&ImageSource::DataUri(uri)).await,
        Err(IngestError::TooLarge(cap))
    );
}

#[tokio::test]
async fn redirects_errors_slowness_and_non_images_fail_clearly() {
    let server = MockServer::start().await;
    Mock::given(path("/redirect"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", "http://169.254.169.254/"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(path("/slow"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(png(8, 8))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    Mock::given(path("/page.html"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html></html>"))
        .mount(&server)
        .await;
    let fetch = |route: &str| {
        let source = ImageSource::Url(format!("{}{route}", server.uri()));
        async move { ingestor(1 << 20).fetch(&source).await }
    };
    assert_eq!(fetch("/redirect").await, Err(IngestError::Redirect));
    assert_eq!(fetch("/gone").await, Err(IngestError::Status(404)));
    assert_eq!(fetch("/slow").await, Err(IngestError::Timeout));
    assert_eq!(fetch("/page.html").await, Err(IngestError::NotAnImage));
}

#[tokio::test]
async fn the_default_configuration_only_reaches_replicate_delivery() {
    let server = serve(
        "/a.png",
        ResponseTemplate::new(200).set_body_bytes(png(8, 8)),
    )
    .await;
    let strict = Ingestor::new(IngestConfig::default()).unwrap();
    assert_eq!(
        strict
            .fetch(&ImageSource::Url(format!("{}/a.png", server.uri())))
            .await,
        Err(IngestError::InvalidUrl),
        "plain http to a loopback fake is refused"
    );
    let loopback = server.uri().replace("http://", "https://");
    assert_eq!(
        strict
            .fetch(&ImageSource::Url(format!("{loopback}/a.png")))
            .await,
        Err(IngestError::PrivateAddress)
    );
}
