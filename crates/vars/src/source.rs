//! The values given for the variables, and the typed getters that read them.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

use crate::{InvalidSetting, Var};

/// The values given for the variables, by name (the configuration file, then the environment,
/// already merged). Deliberately not `Debug`: it holds secrets.
#[derive(Default, Clone)]
pub struct Source {
    values: HashMap<String, String>,
}

impl Source {
    /// The values of `pairs` (name, value). A blank value means unset: this is the one place
    /// that says so (`PORT=` means the default port).
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            values: pairs
                .into_iter()
                .filter(|(_, value)| !value.trim().is_empty())
                .collect(),
        }
    }

    /// The text given for `var`, as given.
    pub fn text(&self, var: Var) -> Option<String> {
        self.values.get(var.name()).cloned()
    }

    /// The text given for `var`, else `default`.
    pub fn text_or(&self, var: Var, default: &str) -> String {
        self.text(var).unwrap_or_else(|| default.to_owned())
    }

    /// The secret given for `var`, wrapped so it never prints.
    pub fn secret(&self, var: Var) -> Option<SecretString> {
        self.text(var).map(SecretString::from)
    }

    /// `var` parsed as a `T` (surrounding blanks ignored), else `default`.
    ///
    /// # Errors
    /// [`InvalidSetting`] "expected {expected}, got {value:?}" when it does not parse.
    pub fn parse<T: FromStr>(
        &self,
        var: Var,
        default: T,
        expected: &str,
    ) -> Result<T, InvalidSetting> {
        match self.values.get(var.name()) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|_| InvalidSetting::new(var, format!("expected {expected}, got {raw:?}"))),
        }
    }

    /// `var` as a whole number of seconds, else `default` seconds.
    ///
    /// # Errors
    /// [`InvalidSetting`] when it is not a number of seconds.
    pub fn seconds(&self, var: Var, default: u64) -> Result<Duration, InvalidSetting> {
        self.parse(var, default, "a number of seconds")
            .map(Duration::from_secs)
    }

    /// `var` as `true` or `false`, else `default`.
    ///
    /// # Errors
    /// [`InvalidSetting`] for any other value.
    pub fn flag(&self, var: Var, default: bool) -> Result<bool, InvalidSetting> {
        self.parse(var, default, "true or false")
    }

    /// `var` as an `http(s)` URL without its trailing slashes; `None` when unset.
    ///
    /// # Errors
    /// [`InvalidSetting`] when it is not an `http://` or `https://` URL.
    pub fn http_url(&self, var: Var) -> Result<Option<String>, InvalidSetting> {
        self.values
            .get(var.name())
            .map(|raw| {
                let trimmed = raw.trim().trim_end_matches('/').to_owned();
                if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
                    Ok(trimmed)
                } else {
                    Err(InvalidSetting::new(
                        var,
                        format!("expected an http(s) URL, got {raw:?}"),
                    ))
                }
            })
            .transpose()
    }

    /// `var` as a comma-separated list (items trimmed, empty items dropped); `None` when unset.
    pub fn list(&self, var: Var) -> Option<Vec<String>> {
        self.values.get(var.name()).map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const PORT: Var = Var::new("PORT");
    const URL: Var = Var::new("URL");
    const LIST: Var = Var::new("LIST");

    fn source(pairs: &[(&str, &str)]) -> Source {
        Source::new(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        )
    }

    #[test]
    fn a_blank_value_is_unset() {
        let blank = source(&[("PORT", " "), ("URL", "")]);
        assert_eq!(blank.parse(PORT, 7u16, "a port"), Ok(7));
        assert_eq!(blank.http_url(URL), Ok(None));
        assert!(blank.text(PORT).is_none());
    }

    #[test]
    fn a_bad_value_names_its_variable_and_shows_what_was_given() {
        let bad = source(&[("PORT", "http"), ("URL", "example.com")]);
        assert_eq!(
            bad.parse(PORT, 7u16, "a port").map_err(|e| e.to_string()),
            Err("invalid setting PORT: expected a port, got \"http\"".to_owned())
        );
        assert_eq!(bad.http_url(URL).map_err(|e| e.variable), Err("URL"));
    }

    #[test]
    fn values_are_read_as_their_type() {
        let given = source(&[
            ("PORT", " 8080 "),
            ("URL", "https://a.example//"),
            ("LIST", "a, b ,,c"),
        ]);
        assert_eq!(given.parse(PORT, 7u16, "a port"), Ok(8080));
        assert_eq!(given.seconds(PORT, 1), Ok(Duration::from_secs(8080)));
        assert_eq!(
            given.http_url(URL),
            Ok(Some("https://a.example".to_owned()))
        );
        assert_eq!(
            given.list(LIST),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(given.text_or(Var::new("UNSET"), "x"), "x");
        assert_eq!(
            given.secret(LIST).map(|s| s.expose_secret().to_owned()),
            Some("a, b ,,c".to_owned())
        );
        assert!(given.flag(LIST, false).is_err());
    }
}
