//! Property tests of provider outputs given as data URIs: whatever the text, the ingestor
//! answers with a measured image or a clear refusal, never a panic.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use picture_domain::ports::ImageSource;
use picture_storage::{IngestConfig, Ingestor};
use proptest::prelude::*;

fn fetch(uri: String) -> Result<(u32, u32), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ingestor = Ingestor::new(IngestConfig {
        max_bytes: 4096,
        ..IngestConfig::default()
    })
    .unwrap();
    runtime
        .block_on(ingestor.fetch(&ImageSource::DataUri(uri)))
        .map(|image| (image.width, image.height))
        .map_err(|e| e.to_string())
}

proptest! {
    #[test]
    fn any_text_is_an_image_or_a_refusal(uri in any::<String>()) {
        let _ = fetch(uri);
    }

    #[test]
    fn any_base64_payload_is_an_image_or_a_refusal(
        mime in "(image/(png|jpeg|webp|gif)|text/plain|)",
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        png_header in any::<bool>(),
    ) {
        let mut payload = bytes;
        if png_header {
            let mut header = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
            header.extend(payload);
            payload = header;
        }
        let uri = format!("data:{mime};base64,{}", STANDARD.encode(&payload));
        if let Ok((width, height)) = fetch(uri) {
            prop_assert!(width > 0 && height > 0);
        }
    }
}
