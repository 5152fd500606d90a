//! The variables this adapter reads, and how: declared here once each, listed in
//! [`VARIABLES`] for the server's list of known variables.

use std::time::Duration;

use picture_vars::{InvalidSetting, Source};

use crate::OpenAiImagesConfig;

picture_vars::declare! {
    /// The images API's base URL without `/v1` (e.g. `https://api.openai.com`, or a LocalAI
    /// server); when set the OpenAI-compatible provider is configured.
    OPENAI_IMAGES_BASE_URL,
    /// The API key, sent as a bearer token; optional (self-hosted servers may need none).
    OPENAI_IMAGES_API_KEY,
    /// The models the server runs, comma-separated (e.g. `gpt-image-1,dall-e-3`); required
    /// with the base URL.
    OPENAI_IMAGES_MODELS,
    /// The whole generation call's time limit in seconds (default 120, 1 to 600).
    OPENAI_IMAGES_TIMEOUT_SECS,
}

/// Longest model name accepted.
const MAX_MODEL_CHARS: usize = 64;

/// Reads the OpenAI-compatible images settings.
#[derive(Debug, Clone, Copy)]
pub struct OpenAiImagesSettings;

impl OpenAiImagesSettings {
    /// The provider's settings when [`OPENAI_IMAGES_BASE_URL`] is set; `None` otherwise.
    ///
    /// # Errors
    /// [`InvalidSetting`] for a base URL that is not `http(s)`; a key, models or time limit
    /// without the base URL; missing, malformed or repeated model names; a time limit that is
    /// not 1 to 600 seconds. The key is never shown.
    pub fn from_source(source: &Source) -> Result<Option<OpenAiImagesConfig>, InvalidSetting> {
        let Some(base_url) = source.http_url(OPENAI_IMAGES_BASE_URL)? else {
            for var in [
                OPENAI_IMAGES_API_KEY,
                OPENAI_IMAGES_MODELS,
                OPENAI_IMAGES_TIMEOUT_SECS,
            ] {
                if source.text(var).is_some() {
                    return Err(InvalidSetting::new(
                        var,
                        "needs OPENAI_IMAGES_BASE_URL, the images API's base URL (e.g. \
                         https://api.openai.com)",
                    ));
                }
            }
            return Ok(None);
        };
        let mut config = OpenAiImagesConfig::new(base_url, models(source)?);
        config.api_key = source.secret(OPENAI_IMAGES_API_KEY);
        config.timeout = timeout(source)?;
        Ok(Some(config))
    }
}

/// [`OPENAI_IMAGES_MODELS`]: a non-empty list of distinct, plain model names.
fn models(source: &Source) -> Result<Vec<String>, InvalidSetting> {
    let models = source.list(OPENAI_IMAGES_MODELS).unwrap_or_default();
    if models.is_empty() {
        return Err(InvalidSetting::new(
            OPENAI_IMAGES_MODELS,
            "required with OPENAI_IMAGES_BASE_URL: the model names the server runs, \
             comma-separated (e.g. gpt-image-1)",
        ));
    }
    for (i, model) in models.iter().enumerate() {
        if !is_model_name(model) {
            return Err(InvalidSetting::new(
                OPENAI_IMAGES_MODELS,
                format!(
                    "{model:?} is not a model name: expected 1 to {MAX_MODEL_CHARS} of \
                     A-Z, a-z, 0-9, '.', '_', ':', '-'"
                ),
            ));
        }
        if models[..i].contains(model) {
            return Err(InvalidSetting::new(
                OPENAI_IMAGES_MODELS,
                format!("{model:?} is listed twice"),
            ));
        }
    }
    Ok(models)
}

fn is_model_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_MODEL_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// [`OPENAI_IMAGES_TIMEOUT_SECS`], 1 to 600 seconds.
fn timeout(source: &Source) -> Result<Duration, InvalidSetting> {
    let timeout = source.seconds(
        OPENAI_IMAGES_TIMEOUT_SECS,
        OpenAiImagesConfig::DEFAULT_TIMEOUT.as_secs(),
    )?;
    if timeout.is_zero() || timeout > OpenAiImagesConfig::MAX_TIMEOUT {
        return Err(InvalidSetting::new(
            OPENAI_IMAGES_TIMEOUT_SECS,
            format!(
                "must be 1 to {} seconds, got {}",
                OpenAiImagesConfig::MAX_TIMEOUT.as_secs(),
                timeout.as_secs()
            ),
        ));
    }
    Ok(timeout)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn source(pairs: &[(&str, &str)]) -> Source {
        Source::new(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        )
    }

    fn read(pairs: &[(&str, &str)]) -> Result<Option<OpenAiImagesConfig>, InvalidSetting> {
        OpenAiImagesSettings::from_source(&source(pairs))
    }

    #[test]
    fn unset_base_url_means_not_configured() {
        assert!(read(&[]).unwrap().is_none());
        assert!(read(&[("OPENAI_IMAGES_BASE_URL", " ")]).unwrap().is_none());
    }

    #[test]
    fn a_full_configuration_is_read() {
        let config = read(&[
            ("OPENAI_IMAGES_BASE_URL", "https://api.openai.com/"),
            ("OPENAI_IMAGES_API_KEY", "sk-test-123"),
            ("OPENAI_IMAGES_MODELS", " gpt-image-1 , dall-e-3,sd:v1.5_x "),
            ("OPENAI_IMAGES_TIMEOUT_SECS", "300"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.base_url, "https://api.openai.com");
        assert_eq!(
            config
                .api_key
                .as_ref()
                .map(|k| k.expose_secret().to_owned()),
            Some("sk-test-123".to_owned())
        );
        assert_eq!(config.models, ["gpt-image-1", "dall-e-3", "sd:v1.5_x"]);
        assert_eq!(config.timeout, Duration::from_secs(300));
        assert_eq!(config.longest_submit(), Duration::from_secs(300));
        assert!(config.serves("dall-e-3"));
        assert!(!config.serves("dall-e-2"));
        assert!(!format!("{config:?}").contains("sk-test-123"));
    }

    #[test]
    fn a_keyless_server_gets_the_default_timeout() {
        let config = read(&[
            ("OPENAI_IMAGES_BASE_URL", "http://localai:8080"),
            ("OPENAI_IMAGES_MODELS", "stablediffusion"),
        ])
        .unwrap()
        .unwrap();
        assert!(config.api_key.is_none());
        assert_eq!(config.timeout, OpenAiImagesConfig::DEFAULT_TIMEOUT);
    }

    #[test]
    fn settings_without_the_base_url_are_refused() {
        for var in [
            "OPENAI_IMAGES_API_KEY",
            "OPENAI_IMAGES_MODELS",
            "OPENAI_IMAGES_TIMEOUT_SECS",
        ] {
            let error = read(&[(var, "x")]).unwrap_err();
            assert_eq!(error.variable, var);
            assert!(error.reason.contains("OPENAI_IMAGES_BASE_URL"), "{error}");
            assert!(!error.to_string().contains(": x"), "{error}");
        }
    }

    #[test]
    fn bad_values_are_refused_with_a_clear_reason() {
        let base = ("OPENAI_IMAGES_BASE_URL", "https://api.openai.com");
        let refused = |pairs: &[(&str, &str)]| read(pairs).unwrap_err();

        assert_eq!(
            refused(&[("OPENAI_IMAGES_BASE_URL", "api.openai.com")]).variable,
            "OPENAI_IMAGES_BASE_URL"
        );
        let missing = refused(&[base]);
        assert_eq!(missing.variable, "OPENAI_IMAGES_MODELS");
        assert!(missing.reason.contains("required"));
        assert!(
            refused(&[base, ("OPENAI_IMAGES_MODELS", " , ,")])
                .reason
                .contains("required")
        );
        let long = "m".repeat(65);
        for bad in ["gpt image", "a/b", "dall-e-3?x=1", long.as_str()] {
            let error = refused(&[base, ("OPENAI_IMAGES_MODELS", bad)]);
            assert!(
                error.reason.contains("is not a model name"),
                "{bad}: {error}"
            );
        }
        assert!(
            read(&[base, ("OPENAI_IMAGES_MODELS", &"m".repeat(64))])
                .unwrap()
                .is_some()
        );
        let twice = refused(&[base, ("OPENAI_IMAGES_MODELS", "dall-e-3, dall-e-3")]);
        assert!(twice.reason.contains("listed twice"), "{twice}");
        for bad in ["0", "601", "soon"] {
            let error = refused(&[
                base,
                ("OPENAI_IMAGES_MODELS", "dall-e-3"),
                ("OPENAI_IMAGES_TIMEOUT_SECS", bad),
            ]);
            assert_eq!(error.variable, "OPENAI_IMAGES_TIMEOUT_SECS", "{bad}");
        }
    }

    #[test]
    fn every_variable_is_listed() {
        let names: Vec<&str> = VARIABLES.iter().map(|v| v.name()).collect();
        assert_eq!(
            names,
            [
                "OPENAI_IMAGES_BASE_URL",
                "OPENAI_IMAGES_API_KEY",
                "OPENAI_IMAGES_MODELS",
                "OPENAI_IMAGES_TIMEOUT_SECS"
            ]
        );
    }
}
