//! Finding the prediction a stopped server may already have created for a generation.
//!
//! Replicate has no idempotency key (`replicate-api.md` §A.12), but it echoes a prediction's
//! `webhook` (§A.5), and ours names the generation in its `generation` query parameter. So
//! the search lists `GET /predictions?created_after=…` (newest first, 100 a page, §A.2) and
//! follows `next` within this API's own list only (the token goes with every request), for at
//! most [`ReplicateProvider::MAX_LISTED_PAGES`] pages.

use chrono::{DateTime, SecondsFormat, Utc};
use picture_domain::GenerationId;
use picture_domain::ports::{ProviderError, Submission};
use reqwest::Url;
use serde::Deserialize;
use serde_json::Value;

use super::ReplicateProvider;
use crate::errors::Call;
use crate::prediction::Prediction;

/// The query parameter of our webhook URL that carries the generation id
/// (`…/api/v1/generate/webhook?generation={id}`).
const GENERATION_PARAM: &str = "generation";

/// One page of `GET /predictions`.
#[derive(Debug, Deserialize)]
struct Page {
    /// The next (older) page's full URL (`…/predictions?cursor=…`), `null` on the last page.
    #[serde(default)]
    next: Option<String>,
    /// Prediction objects, newest first; read one by one so that a prediction of another
    /// client that does not parse cannot hide ours.
    results: Vec<Value>,
}

fn parse_page(body: &[u8]) -> Result<Page, serde_json::Error> {
    serde_json::from_slice(body)
}

/// Whether `webhook` is a URL with exactly one `generation` query parameter, equal to
/// `generation` (after percent-decoding).
fn names_generation(webhook: &str, generation: &str) -> bool {
    let Ok(url) = Url::parse(webhook) else {
        return false;
    };
    let mut values = url
        .query_pairs()
        .filter(|(key, _)| key == GENERATION_PARAM)
        .map(|(_, value)| value);
    matches!((values.next(), values.next()), (Some(value), None) if value == generation)
}

/// A listed prediction's `created_at` (RFC 3339, any number of fractional digits), if it
/// parses.
fn created_at(item: &Value) -> Option<DateTime<Utc>> {
    let text = item.get("created_at")?.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// `next` when it is a page of this API's own list `list` (same scheme, host, port and path,
/// no credentials of its own); `None` for any other URL.
fn own_next(list: &Url, next: &str) -> Option<Url> {
    let next = Url::parse(next).ok()?;
    (next.origin() == list.origin()
        && next.path() == list.path()
        && next.username().is_empty()
        && next.password().is_none())
    .then_some(next)
}

/// The newest prediction in `results` created for `generation` at or after `since`
/// (predictions without a `webhook`, and ones created before `since` by a timestamp that
/// parses, are skipped).
///
/// # Errors
/// [`ProviderError::Unavailable`] when the matching prediction is not a prediction object or
/// its id is unusable.
fn matching(
    results: &[Value],
    generation: &str,
    since: DateTime<Utc>,
) -> Result<Option<Submission>, ProviderError> {
    let unexpected = |e: &dyn std::fmt::Display| {
        ProviderError::Unavailable(format!("unexpected answer from Replicate: {e}"))
    };
    let Some(item) = results.iter().find(|item| {
        item.get("webhook")
            .and_then(Value::as_str)
            .is_some_and(|webhook| names_generation(webhook, generation))
            && created_at(item).is_none_or(|created| created >= since)
    }) else {
        return Ok(None);
    };
    let prediction = Prediction::deserialize(item).map_err(|e| unexpected(&e))?;
    let prediction_id = prediction.prediction_id().map_err(|e| unexpected(&e))?;
    Ok(Some(Submission {
        prediction_id,
        state: prediction.state(),
    }))
}

impl ReplicateProvider {
    /// Most pages (of 100 predictions) one [`find_submitted`] reads. A search that reaches it,
    /// or meets a `next` outside this API's list, has not found the prediction and answers
    /// `None` (the provider cannot tell), with a warning.
    ///
    /// [`find_submitted`]: picture_domain::ports::ImageProvider::find_submitted
    pub const MAX_LISTED_PAGES: usize = 20;

    /// Lists the predictions created at or after `since`, newest first, for the first whose
    /// webhook names `generation_id`. Each page is a read with the read timeout. Paging stops
    /// at the last page, at [`Self::MAX_LISTED_PAGES`], at a `next` outside this API's list,
    /// and once a page ends with a prediction created before `since` (`created_after` is a
    /// beta filter, so it is not relied on).
    pub(super) async fn find_listed(
        &self,
        generation_id: GenerationId,
        since: DateTime<Utc>,
    ) -> Result<Option<Submission>, ProviderError> {
        let generation = generation_id.to_string();
        let list = self.url("/predictions");
        let own_list = Url::parse(&list).ok();
        let created_after = since.to_rfc3339_opts(SecondsFormat::Micros, true);
        let mut request = self
            .http
            .get(&list)
            .query(&[("created_after", created_after.as_str())]);
        for _ in 0..Self::MAX_LISTED_PAGES {
            let page = self
                .send_for(Call::Read, request, self.config.get_timeout, parse_page)
                .await?;
            if let Some(found) = matching(&page.results, &generation, since)? {
                tracing::info!(
                    generation_id = %generation_id,
                    prediction_id = %found.prediction_id,
                    "found the prediction an earlier submit created"
                );
                return Ok(Some(found));
            }
            let past_since = page
                .results
                .last()
                .and_then(created_at)
                .is_some_and(|created| created < since);
            let next = match page.next.filter(|next| !next.is_empty()) {
                Some(next) if !past_since => next,
                _ => return Ok(None),
            };
            let Some(next) = own_list.as_ref().and_then(|list| own_next(list, &next)) else {
                tracing::warn!(
                    generation_id = %generation_id,
                    "Replicate's next page is outside its API; not followed"
                );
                return Ok(None);
            };
            request = self.http.get(next);
        }
        tracing::warn!(
            generation_id = %generation_id,
            pages = Self::MAX_LISTED_PAGES,
            "stopped listing predictions at the page limit"
        );
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const GENERATION: &str = "0b6f8e0c-7d1a-4c3e-9a55-3f1e2d4c5b6a";

    #[test]
    fn only_the_exact_generation_parameter_matches() {
        let ours =
            format!("https://picture.example/api/v1/generate/webhook?generation={GENERATION}");
        assert!(names_generation(&ours, GENERATION));
        let encoded = ours.replace('-', "%2D");
        assert!(names_generation(&encoded, GENERATION));
        for other in [
            format!("{ours}0"),
            format!(
                "https://picture.example/webhook?generation={}",
                &GENERATION[..8]
            ),
            format!("https://picture.example/webhook?generations={GENERATION}"),
            format!("https://picture.example/webhook?x=1&generation=other&y={GENERATION}"),
            format!("{ours}&generation={GENERATION}"),
            format!("https://picture.example/webhook/{GENERATION}"),
            format!("https://picture.example/webhook#generation={GENERATION}"),
            "not a url".to_owned(),
        ] {
            assert!(!names_generation(&other, GENERATION), "{other}");
        }
    }

    #[test]
    fn timestamps_of_any_precision_parse_and_others_are_ignored() {
        let at = |text: &str| created_at(&json!({"created_at": text}));
        assert!(at("2023-08-16T18:57:08.36078514Z").is_some());
        assert!(at("2023-08-16T18:57:12.17042Z").is_some());
        assert!(at("2024-10-04T18:17:09.101Z").is_some());
        assert!(at("2024-10-04T18:17:09Z").is_some());
        assert!(at("2024-10-04T20:17:09.101+02:00") == at("2024-10-04T18:17:09.101Z"));
        assert!(at("yesterday").is_none());
        assert!(created_at(&json!({"created_at": 1})).is_none());
        assert!(created_at(&json!({})).is_none());
    }

    #[test]
    fn only_pages_of_the_same_list_are_followed() {
        let list = Url::parse("https://api.replicate.com/v1/predictions").unwrap();
        let own = "https://api.replicate.com/v1/predictions?cursor=cD0yMDIy";
        assert_eq!(own_next(&list, own).map(String::from).as_deref(), Some(own));
        for foreign in [
            "https://evil.example/v1/predictions?cursor=a",
            "http://api.replicate.com/v1/predictions?cursor=a",
            "https://api.replicate.com:8443/v1/predictions?cursor=a",
            "https://api.replicate.com.evil.example/v1/predictions?cursor=a",
            "https://user:pw@api.replicate.com/v1/predictions?cursor=a",
            "https://api.replicate.com/v1/predictions/abc?cursor=a",
            "https://api.replicate.com/v1/files?cursor=a",
            "/v1/predictions?cursor=a",
            "",
        ] {
            assert!(own_next(&list, foreign).is_none(), "{foreign}");
        }
    }

    #[test]
    fn the_newest_matching_prediction_since_wins() {
        let since = DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let webhook = format!("https://p.example/api/v1/generate/webhook?generation={GENERATION}");
        let results = vec![
            json!({"id": "nohook", "status": "starting", "created_at": "2024-01-01T00:00:09Z"}),
            json!({"id": "newer", "status": "processing", "webhook": webhook,
                   "created_at": "2024-01-01T00:00:05.5Z"}),
            json!({"id": "older", "status": "starting", "webhook": webhook,
                   "created_at": "2024-01-01T00:00:01Z"}),
        ];
        let found = matching(&results, GENERATION, since).unwrap().unwrap();
        assert_eq!(found.prediction_id.as_str(), "newer");
        let before = vec![
            json!({"id": "old", "status": "starting", "webhook": webhook,
                                 "created_at": "2023-12-31T23:59:59.999Z"}),
        ];
        assert_eq!(matching(&before, GENERATION, since), Ok(None));
        let undated = vec![
            json!({"id": "undated", "status": "starting", "webhook": webhook,
                                  "created_at": "soon"}),
        ];
        assert!(matching(&undated, GENERATION, since).unwrap().is_some());
        let broken = vec![json!({"id": "", "status": "starting", "webhook": webhook})];
        assert!(matches!(
            matching(&broken, GENERATION, since),
            Err(ProviderError::Unavailable(_))
        ));
    }
}
