//! A batch request: the raw input from a client, parsed into a [`BatchRequest`] whose every
//! prompt is a valid generation request. The shared settings and each prompt's own fields are
//! checked by the same rules as `POST /generate` ([`GenerationRequest::parse`]); every invalid
//! field is reported at once, a prompt's under `prompts[i]`.

use crate::ids::ModelId;
use crate::params::{GenerationRequest, RawGenerationRequest};
use crate::text::ModelVersion;
use crate::validation::{Collector, ValidationErrors};

use super::MAX_BATCH_PROMPTS;

/// Longest batch name, in characters.
pub const MAX_BATCH_NAME_CHARS: usize = 200;

/// One prompt of a batch as a client sent it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawBatchPrompt {
    /// `text` (required).
    pub text: Option<String>,
    /// `negativePrompt`.
    pub negative_prompt: Option<String>,
    /// `seed`.
    pub seed: Option<f64>,
    /// `tags` (accepted, as by the original backend; not applied to the images).
    pub tags: Vec<String>,
}

/// A batch request as a client sent it: the prompts and the `sharedSettings`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawBatchRequest {
    /// `prompts` (required, 1 to [`MAX_BATCH_PROMPTS`]).
    pub prompts: Option<Vec<RawBatchPrompt>>,
    /// `sharedSettings.modelId` (required).
    pub model_id: Option<String>,
    /// `sharedSettings.modelVersion`: `""` and `null` both mean the catalogue's version.
    pub model_version: Option<String>,
    /// `sharedSettings.width`.
    pub width: Option<f64>,
    /// `sharedSettings.height`.
    pub height: Option<f64>,
    /// `sharedSettings.steps`.
    pub steps: Option<f64>,
    /// `sharedSettings.guidanceScale` (a float).
    pub guidance_scale: Option<f64>,
    /// `batchName`.
    pub batch_name: Option<String>,
}

/// One validated prompt of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchPrompt {
    /// The generation request it stands for (shared settings included, never waiting).
    pub request: GenerationRequest,
}

/// A validated batch request.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    /// The name the client gave, trimmed (`None`: one is made up).
    pub name: Option<String>,
    /// The shared model.
    pub model_id: ModelId,
    /// The shared provider model version.
    pub model_version: Option<ModelVersion>,
    /// The prompts, in order.
    pub prompts: Vec<BatchPrompt>,
}

impl BatchRequest {
    /// Parses a raw batch request, reporting every invalid field at once.
    ///
    /// # Errors
    /// A [`ValidationErrors`] with one message per invalid or missing field.
    pub fn parse(raw: RawBatchRequest) -> Result<Self, ValidationErrors> {
        let model_version = raw.model_version.filter(|v| !v.trim().is_empty());
        // The shared settings, checked once with a placeholder prompt.
        let shared = RawGenerationRequest {
            prompt: Some("shared settings".to_owned()),
            model_id: raw.model_id,
            width: raw.width,
            height: raw.height,
            steps: raw.steps,
            guidance_scale: raw.guidance_scale,
            model_version,
            ..RawGenerationRequest::default()
        };
        let shared_checked = GenerationRequest::parse(shared.clone());
        let prompts = match raw.prompts {
            None => Err(ValidationErrors::single("prompts must be an array")),
            Some(prompts) if prompts.is_empty() => Err(ValidationErrors::single(
                "prompts must contain at least 1 elements",
            )),
            Some(prompts) if prompts.len() > MAX_BATCH_PROMPTS => Err(ValidationErrors::single(
                format!("prompts must contain no more than {MAX_BATCH_PROMPTS} elements"),
            )),
            Some(prompts) => parse_prompts(prompts, &shared),
        };
        let name = raw
            .batch_name
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty());
        let name_checked = match &name {
            Some(name) if name.chars().count() > MAX_BATCH_NAME_CHARS => {
                Err(ValidationErrors::single(format!(
                    "batchName must be shorter than or equal to {MAX_BATCH_NAME_CHARS} characters"
                )))
            }
            // PostgreSQL cannot store NUL. Other control characters stay: the mobile client
            // names a batch after the start of its prompt, which may span lines.
            Some(name) if name.contains('\u{0}') => Err(ValidationErrors::single(
                "batchName must not contain NUL characters",
            )),
            _ => Ok(()),
        };
        Collector::default()
            .note(&shared_checked)
            .note(&prompts)
            .note(&name_checked)
            .finish()?;
        let shared = shared_checked?;
        Ok(Self {
            name,
            model_id: shared.model_id,
            model_version: shared.model_version,
            prompts: prompts?,
        })
    }
}

/// Each prompt with the shared settings, as a generation request. A prompt's own fields are
/// checked apart from the shared ones (with a placeholder model), so each message names the
/// prompt it is about and a shared setting's is not repeated for every prompt.
fn parse_prompts(
    prompts: Vec<RawBatchPrompt>,
    shared: &RawGenerationRequest,
) -> Result<Vec<BatchPrompt>, ValidationErrors> {
    let mut parsed = Vec::with_capacity(prompts.len());
    let mut messages = Vec::new();
    for (index, prompt) in prompts.into_iter().enumerate() {
        let own = RawGenerationRequest {
            prompt: prompt.text,
            model_id: Some(ModelId::from_uuid(uuid::Uuid::nil()).to_string()),
            negative_prompt: prompt.negative_prompt,
            seed: prompt.seed,
            ..RawGenerationRequest::default()
        };
        match GenerationRequest::parse(own.clone()) {
            Err(errors) => messages.extend(
                errors
                    .into_messages()
                    .into_iter()
                    .map(|m| format!("prompts[{index}].{}", m.replacen("prompt ", "text ", 1))),
            ),
            Ok(_) => {
                if let Ok(request) = GenerationRequest::parse(RawGenerationRequest {
                    prompt: own.prompt,
                    negative_prompt: own.negative_prompt,
                    seed: own.seed,
                    ..shared.clone()
                }) {
                    parsed.push(BatchPrompt { request });
                }
            }
        }
    }
    let mut collector = Collector::default();
    for message in messages {
        collector.note(&Err::<(), _>(ValidationErrors::single(message)));
    }
    collector.finish().map(|()| parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(text: &str) -> RawBatchPrompt {
        RawBatchPrompt {
            text: Some(text.to_owned()),
            ..RawBatchPrompt::default()
        }
    }

    fn raw(prompts: Vec<RawBatchPrompt>) -> RawBatchRequest {
        RawBatchRequest {
            prompts: Some(prompts),
            model_id: Some("6f0c2b8e-3a1d-4c5e-9f7a-0b1c2d3e4f50".into()),
            model_version: Some(String::new()),
            width: Some(1024.0),
            height: Some(768.0),
            steps: Some(4.0),
            guidance_scale: Some(7.5),
            batch_name: None,
        }
    }

    #[test]
    fn the_mobile_clients_body_is_accepted() {
        let mut with_seed = prompt("a fox");
        with_seed.seed = Some(42.0);
        with_seed.tags = vec!["animals".into()];
        let request = BatchRequest::parse(raw(vec![prompt("a lighthouse"), with_seed])).unwrap();
        assert_eq!(request.prompts.len(), 2);
        assert_eq!(request.model_version, None, "\"\" is no version");
        let second = &request.prompts[1].request;
        assert_eq!(second.prompt.as_str(), "a fox");
        assert_eq!(second.seed, Some(42));
        assert_eq!(second.guidance_scale, Some(7.5));
        assert_eq!((second.width, second.height), (Some(1024), Some(768)));
        assert!(!second.wait_for_result);
    }

    #[test]
    fn empty_and_oversized_batches_are_refused() {
        let empty = BatchRequest::parse(raw(vec![])).unwrap_err();
        assert!(empty.messages()[0].contains("at least 1"), "{empty:?}");
        let many = BatchRequest::parse(raw(vec![prompt("x"); MAX_BATCH_PROMPTS + 1])).unwrap_err();
        assert!(many.messages()[0].contains("no more than 50"), "{many:?}");
        assert!(BatchRequest::parse(raw(vec![prompt("x"); MAX_BATCH_PROMPTS])).is_ok());
    }

    #[test]
    fn a_name_with_nul_is_refused_and_one_with_a_line_break_kept() {
        let mut bad = raw(vec![prompt("x")]);
        bad.batch_name = Some("a\u{0}b".to_owned());
        let errors = BatchRequest::parse(bad).unwrap_err();
        assert!(errors.messages()[0].starts_with("batchName"), "{errors:?}");
        let mut fine = raw(vec![prompt("x")]);
        fine.batch_name = Some("  Quick: a fox\nin snow... (2x) ".to_owned());
        assert_eq!(
            BatchRequest::parse(fine).unwrap().name.as_deref(),
            Some("Quick: a fox\nin snow... (2x)")
        );
    }

    #[test]
    fn each_bad_prompt_is_named_and_a_bad_shared_setting_reported_once() {
        let mut bad = raw(vec![prompt("fine"), prompt("  "), prompt("also fine")]);
        bad.steps = Some(0.5);
        let errors = BatchRequest::parse(bad).unwrap_err();
        let messages = errors.messages();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages.iter().any(|m| m.starts_with("steps")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.starts_with("prompts[1].")),
            "{messages:?}"
        );
    }
}
