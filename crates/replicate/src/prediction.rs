//! Replicate's prediction object, and its normalisation into the domain's [`ProviderState`].

use std::time::Duration;

use picture_domain::ports::{ImageSource, ProviderState};
use picture_domain::{PredictionId, Progress};
use serde::Deserialize;
use serde_json::Value;

/// Longest provider error message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 500;

/// A prediction as Replicate returns it (create, get, cancel, webhook). Only the fields
/// Picture reads; everything else is ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Prediction {
    /// Replicate's id.
    pub id: String,
    /// `starting`, `processing`, `succeeded`, `failed`, `canceled` or `aborted`.
    pub status: String,
    /// Model-specific: a list of URIs, a single URI, `null`, or absent.
    #[serde(default)]
    pub output: Option<Value>,
    /// The failure text, if any.
    #[serde(default)]
    pub error: Option<Value>,
    /// What the model printed so far (progress bars included); `None` before it ran (and for
    /// anything but a string, which never makes the prediction unusable).
    #[serde(default, deserialize_with = "text_or_none")]
    pub logs: Option<String>,
    #[serde(default)]
    metrics: Option<Metrics>,
}

/// A string as itself, any other JSON value as `None`.
fn text_or_none<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => Some(text),
        _ => None,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Metrics {
    #[serde(default)]
    predict_time: Option<f64>,
}

/// A prediction body that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PredictionError {
    /// Not JSON, or not a prediction object.
    #[error("malformed prediction: {0}")]
    Malformed(String),
    /// The `id` is not a usable prediction id.
    #[error("invalid prediction id")]
    InvalidId,
}

impl Prediction {
    /// Parses a prediction body.
    ///
    /// # Errors
    /// [`PredictionError::Malformed`] when it is not a prediction object.
    pub fn parse(body: &[u8]) -> Result<Self, PredictionError> {
        serde_json::from_slice(body).map_err(|e| PredictionError::Malformed(e.to_string()))
    }

    /// Its id.
    ///
    /// # Errors
    /// [`PredictionError::InvalidId`] when the id is empty, too long or not printable.
    pub fn prediction_id(&self) -> Result<PredictionId, PredictionError> {
        PredictionId::parse(self.id.clone()).map_err(|_| PredictionError::InvalidId)
    }

    /// The images it produced, normalised: a single URI becomes a list; only `http(s)://` URLs
    /// and `data:` URIs are kept. (Plain `http` is dropped later by the ingest, which accepts
    /// only `https` outside tests.)
    pub fn outputs(&self) -> Vec<ImageSource> {
        let candidates: Vec<&str> = match &self.output {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            Some(Value::Object(object)) => object
                .get("url")
                .and_then(Value::as_str)
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        candidates
            .into_iter()
            .filter_map(|uri| {
                if uri.starts_with("https://") || uri.starts_with("http://") {
                    Some(ImageSource::Url(uri.to_owned()))
                } else if uri.starts_with("data:") {
                    Some(ImageSource::DataUri(uri.to_owned()))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The step counter of the last progress bar in its [`logs`](Self::logs), if any
    /// (see the crate's README).
    pub fn progress(&self) -> Option<Progress> {
        self.logs.as_deref().and_then(crate::progress::parse)
    }

    fn error_message(&self) -> String {
        let text = match &self.error {
            Some(Value::String(text)) if !text.trim().is_empty() => text.trim().to_owned(),
            Some(Value::Null) | None => "Generation failed".to_owned(),
            Some(other) => other.to_string(),
        };
        text.chars().take(MAX_MESSAGE_CHARS).collect()
    }

    /// The domain's view of it. `processing` stays processing even when outputs are already
    /// present (Replicate's sync answers): the result is settled by a terminal status. A
    /// `processing` prediction carries its [`progress`](Self::progress); `starting` and
    /// statuses Replicate may add carry none.
    pub fn state(&self) -> ProviderState {
        match self.status.as_str() {
            "starting" => ProviderState::Starting,
            "succeeded" => {
                let outputs = self.outputs();
                if outputs.is_empty() {
                    ProviderState::Failed {
                        message: "The provider returned no image".to_owned(),
                    }
                } else {
                    ProviderState::Succeeded {
                        outputs,
                        predict_time: self
                            .metrics
                            .as_ref()
                            .and_then(|m| m.predict_time)
                            .filter(|t| t.is_finite() && *t >= 0.0)
                            .map(Duration::from_secs_f64),
                    }
                }
            }
            "failed" => ProviderState::Failed {
                message: self.error_message(),
            },
            "canceled" | "aborted" => ProviderState::Canceled,
            "processing" => ProviderState::Processing {
                progress: self.progress(),
            },
            // Any status Replicate may add: not final.
            _ => ProviderState::Processing { progress: None },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn prediction(value: Value) -> Prediction {
        Prediction::parse(value.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_list_or_a_single_uri_is_normalised_and_other_schemes_dropped() {
        let list = prediction(json!({"id": "a", "status": "succeeded",
            "output": ["https://replicate.delivery/x/out-0.png", "ftp://elsewhere/x.png",
                       "data:image/png;base64,AAAA", 42, "file:///etc/passwd"]}));
        assert_eq!(
            list.outputs(),
            [
                ImageSource::Url("https://replicate.delivery/x/out-0.png".into()),
                ImageSource::DataUri("data:image/png;base64,AAAA".into()),
            ]
        );
        let single = prediction(json!({"id": "a", "status": "succeeded",
            "output": "https://replicate.delivery/y/out.webp"}));
        assert_eq!(single.outputs().len(), 1);
        let object = prediction(json!({"id": "a", "status": "succeeded",
            "output": {"url": "https://replicate.delivery/z.png"}}));
        assert_eq!(object.outputs().len(), 1);
        let none = prediction(json!({"id": "a", "status": "starting"}));
        assert!(none.outputs().is_empty());
    }

    #[test]
    fn statuses_map_to_states() {
        let state = |status: &str, extra: Value| {
            let mut body = json!({"id": "a", "status": status});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            prediction(body).state()
        };
        assert_eq!(state("starting", json!({})), ProviderState::Starting);
        assert_eq!(
            state(
                "processing",
                json!({"output": ["https://replicate.delivery/a.png"]})
            ),
            ProviderState::Processing { progress: None }
        );
        assert_eq!(
            state(
                "succeeded",
                json!({"output": ["https://replicate.delivery/a.png"],
                                      "metrics": {"predict_time": 0.83}})
            ),
            ProviderState::Succeeded {
                outputs: vec![ImageSource::Url("https://replicate.delivery/a.png".into())],
                predict_time: Some(Duration::from_secs_f64(0.83)),
            }
        );
        assert_eq!(
            state("succeeded", json!({"output": null})),
            ProviderState::Failed {
                message: "The provider returned no image".into()
            }
        );
        assert_eq!(
            state("failed", json!({"error": "All generated images contained NSFW content. Try running it again with a different prompt."})),
            ProviderState::Failed {
                message: "All generated images contained NSFW content. Try running it again with a different prompt.".into()
            }
        );
        assert_eq!(
            state("failed", json!({"error": null})),
            ProviderState::Failed {
                message: "Generation failed".into()
            }
        );
        assert_eq!(state("canceled", json!({})), ProviderState::Canceled);
        assert_eq!(state("aborted", json!({})), ProviderState::Canceled);
        assert_eq!(
            state("brand-new", json!({})),
            ProviderState::Processing { progress: None }
        );
    }

    #[test]
    fn a_processing_prediction_carries_the_progress_of_its_logs() {
        let processing = |logs: Value| {
            prediction(json!({"id": "a", "status": "processing", "logs": logs})).state()
        };
        assert_eq!(
            processing(json!(
                "Using seed: 42\n  0%|          | 0/4 [00:00<?, ?it/s]\r 25%|██▌       | 1/4 [00:00<00:01,  2.61it/s]\r 50%|█████     | 2/4 [00:00<00:00,  2.93it/s]\n"
            )),
            ProviderState::Processing {
                progress: Some(Progress::new(2, 4).unwrap())
            }
        );
        assert_eq!(
            processing(json!("Using seed: 42\n")),
            ProviderState::Processing { progress: None }
        );
        assert_eq!(
            processing(Value::Null),
            ProviderState::Processing { progress: None }
        );
        let starting = prediction(json!({"id": "a", "status": "starting",
            "logs": "100%|██████████| 30/30 [00:05<00:00,  5.32it/s]"}));
        assert_eq!(starting.state(), ProviderState::Starting);
        assert_eq!(starting.progress(), Some(Progress::new(30, 30).unwrap()));
        let odd_logs = prediction(json!({"id": "a", "status": "processing", "logs": {"x": 1}}));
        assert_eq!(
            odd_logs.state(),
            ProviderState::Processing { progress: None }
        );
        let unknown = prediction(json!({"id": "a", "status": "brand-new",
            "logs": "100%|██████████| 30/30 [00:05<00:00,  5.32it/s]"}));
        assert_eq!(
            unknown.state(),
            ProviderState::Processing { progress: None }
        );
    }

    #[test]
    fn malformed_bodies_and_ids_are_errors() {
        assert!(Prediction::parse(b"not json").is_err());
        assert!(Prediction::parse(b"{\"status\": \"succeeded\"}").is_err());
        let bad_id = prediction(json!({"id": "", "status": "starting"}));
        assert_eq!(bad_id.prediction_id(), Err(PredictionError::InvalidId));
    }

    #[test]
    fn long_error_messages_are_truncated() {
        let long = prediction(json!({"id": "a", "status": "failed", "error": "x".repeat(5000)}));
        match long.state() {
            ProviderState::Failed { message } => assert_eq!(message.len(), MAX_MESSAGE_CHARS),
            other => panic!("unexpected {other:?}"),
        }
    }
}
