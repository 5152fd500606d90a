//! The images API's answer (`{"created": …, "data": [{"b64_json": …} | {"url": …}]}`), and
//! its normalisation into the domain's [`Submission`].

use std::borrow::Cow;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use picture_domain::ports::{ImageSource, ProviderError, ProviderState, Submission};
use picture_domain::{GenerationId, PredictionId};
use serde::Deserialize;

/// A successful answer of `POST /v1/images/generations`, borrowing its (large) base64 text
/// from the body. Only the fields Picture reads; `created`, `usage`, `revised_prompt`, … are
/// ignored.
#[derive(Debug, Deserialize)]
pub struct ImagesAnswer<'a> {
    #[serde(borrow, default)]
    data: Option<Vec<Image<'a>>>,
}

#[derive(Debug, Deserialize)]
struct Image<'a> {
    #[serde(borrow, default)]
    b64_json: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    url: Option<Cow<'a, str>>,
}

/// A body that is not an images answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed images answer: {0}")]
pub struct MalformedAnswer(String);

/// The MIME type of base64 image data, from the magic number of its first bytes: the ingest
/// reads the format from the decoded bytes and ignores this, but the URI should not lie
/// (`gpt-image-1` answers PNG, JPEG or WebP as asked by `output_format`).
fn mime_of(b64: &str) -> &'static str {
    // 16 characters decode to 12 bytes: enough for "RIFF????WEBP".
    let head = b64.get(..16).unwrap_or(b64);
    let bytes = STANDARD.decode(head).unwrap_or_default();
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}

/// `data:<mime>;base64,<b64>`, without the line breaks some encoders insert.
fn data_uri(b64: &str) -> String {
    let b64 = b64.trim();
    let unbroken: Cow<'_, str> = if b64.bytes().any(|b| b.is_ascii_whitespace()) {
        Cow::Owned(b64.chars().filter(|c| !c.is_ascii_whitespace()).collect())
    } else {
        Cow::Borrowed(b64)
    };
    let mime = mime_of(&unbroken);
    let mut uri = String::with_capacity("data:;base64,".len() + mime.len() + unbroken.len());
    uri.push_str("data:");
    uri.push_str(mime);
    uri.push_str(";base64,");
    uri.push_str(&unbroken);
    uri
}

impl<'a> ImagesAnswer<'a> {
    /// Parses an answer body.
    ///
    /// # Errors
    /// [`MalformedAnswer`] when it is not JSON or not an images answer.
    pub fn parse(body: &'a [u8]) -> Result<Self, MalformedAnswer> {
        serde_json::from_slice(body).map_err(|e| MalformedAnswer(e.to_string()))
    }

    /// The images, in the answer's order: base64 data as a `data:` URI, URLs when `http(s)`
    /// (the ingest then allows only `https` from allowed hosts). Empty entries are dropped.
    pub fn outputs(&self) -> Vec<ImageSource> {
        self.data
            .iter()
            .flatten()
            .filter_map(|image| {
                if let Some(b64) = image.b64_json.as_deref().filter(|b| !b.trim().is_empty()) {
                    Some(ImageSource::DataUri(data_uri(b64)))
                } else {
                    image
                        .url
                        .as_deref()
                        .map(str::trim)
                        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                        .map(|u| ImageSource::Url(u.to_owned()))
                }
            })
            .collect()
    }

    /// The submission for `generation_id`'s call, which took `elapsed`: succeeded with the
    /// images, under the prediction id `openai-<generation id>` (the API has no id of its own).
    ///
    /// # Errors
    /// [`ProviderError::Unavailable`] when the answer holds no image.
    pub fn submission(
        &self,
        generation_id: &GenerationId,
        elapsed: Duration,
    ) -> Result<Submission, ProviderError> {
        let outputs = self.outputs();
        if outputs.is_empty() {
            return Err(ProviderError::Unavailable(
                "the images API answered with no image".to_owned(),
            ));
        }
        Ok(Submission {
            prediction_id: prediction_id(generation_id)?,
            state: ProviderState::Succeeded {
                outputs,
                predict_time: Some(elapsed),
            },
        })
    }
}

/// `openai-<generation id>`.
pub(crate) fn prediction_id(generation_id: &GenerationId) -> Result<PredictionId, ProviderError> {
    PredictionId::parse(format!("openai-{generation_id}"))
        .map_err(|_| ProviderError::Unavailable("cannot name the prediction".to_owned()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn outputs(value: serde_json::Value) -> Vec<ImageSource> {
        let body = value.to_string();
        ImagesAnswer::parse(body.as_bytes()).unwrap().outputs()
    }

    #[test]
    fn base64_images_become_data_uris_typed_by_their_magic_number() {
        let png = STANDARD.encode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        let jpeg = STANDARD.encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F']);
        let webp = STANDARD.encode(b"RIFF\x24\0\0\0WEBPVP8 ");
        let other = STANDARD.encode(b"<svg></svg>");
        assert_eq!(
            outputs(
                json!({"created": 1, "data": [{"b64_json": png}, {"b64_json": jpeg},
                                                  {"b64_json": webp}, {"b64_json": other}]})
            ),
            [
                ImageSource::DataUri(format!("data:image/png;base64,{png}")),
                ImageSource::DataUri(format!("data:image/jpeg;base64,{jpeg}")),
                ImageSource::DataUri(format!("data:image/webp;base64,{webp}")),
                ImageSource::DataUri(format!("data:application/octet-stream;base64,{other}")),
            ]
        );
    }

    #[test]
    fn line_breaks_in_base64_are_removed() {
        let png = STANDARD.encode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        let broken = format!("{}\n{}\n", &png[..8], &png[8..]);
        assert_eq!(
            outputs(json!({"data": [{"b64_json": broken}]})),
            [ImageSource::DataUri(format!("data:image/png;base64,{png}"))]
        );
    }

    #[test]
    fn urls_are_kept_when_http_and_empty_entries_dropped() {
        assert_eq!(
            outputs(
                json!({"data": [{"url": "https://oaidalleapiprodscus.blob.core.windows.net/a.png"},
                                     {"url": "file:///etc/passwd"}, {"b64_json": ""}, {},
                                     {"revised_prompt": "x"}]})
            ),
            [ImageSource::Url(
                "https://oaidalleapiprodscus.blob.core.windows.net/a.png".into()
            )]
        );
        assert!(outputs(json!({"data": null})).is_empty());
        assert!(outputs(json!({"created": 1})).is_empty());
    }

    #[test]
    fn an_answer_without_image_is_unavailable_and_garbage_malformed() {
        let body = json!({"data": []}).to_string();
        let answer = ImagesAnswer::parse(body.as_bytes()).unwrap();
        assert!(matches!(
            answer.submission(&GenerationId::new_random(), Duration::ZERO),
            Err(ProviderError::Unavailable(m)) if m.contains("no image")
        ));
        assert!(ImagesAnswer::parse(b"<html>").is_err());
        assert!(ImagesAnswer::parse(b"{\"data\": 3}").is_err());
    }

    #[test]
    fn the_prediction_id_names_the_generation() {
        let id = GenerationId::new_random();
        assert_eq!(prediction_id(&id).unwrap().as_str(), format!("openai-{id}"));
    }
}
