//! A stored event (a `live_events` row, or the JSON a `picture_live` notification carries) and
//! its conversion to the domain's [`LiveEvent`].

use diesel::prelude::*;
use picture_domain::{EventSeq, GenerationStatus, LiveChange, LiveEvent, RepositoryError, UserId};
use serde::Deserialize;

use crate::error::corrupt;
use crate::schema::live_events as events;

/// `kind` of a generation's events (a status change or reported progress).
pub(crate) const GENERATION: &str = "generation";
/// `kind` of a user's credit events.
pub(crate) const CREDITS: &str = "credits";

/// The columns of an event a reader needs.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Deserialize)]
#[diesel(table_name = events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct EventRow {
    /// `None` only inside the writing transaction (PostgreSQL numbers it at commit).
    seq: Option<i64>,
    #[serde(rename = "user")]
    user_id: String,
    kind: String,
    #[serde(rename = "generation")]
    generation_id: Option<String>,
    #[serde(rename = "batch")]
    batch_id: Option<String>,
    status: Option<String>,
    progress: Option<f64>,
}

impl EventRow {
    /// Parses the payload of a `picture_live` notification:
    /// `{"seq","user","kind","generation","batch","status","progress"}`.
    pub(crate) fn from_payload(payload: &str) -> Result<Self, RepositoryError> {
        serde_json::from_str(payload).map_err(|e| corrupt("live event payload", e))
    }

    /// The domain's event.
    pub(crate) fn into_event(self) -> Result<LiveEvent, RepositoryError> {
        let seq = self
            .seq
            .filter(|seq| *seq > 0)
            .ok_or_else(|| corrupt("live event seq", format!("{:?}", self.seq)))?;
        let user = UserId::parse(self.user_id).map_err(|e| corrupt("live event user", e))?;
        let change = match self.kind.as_str() {
            CREDITS => LiveChange::Credits,
            GENERATION => LiveChange::Generation {
                generation: parse_id("live event generation", self.generation_id)?,
                status: self
                    .status
                    .as_deref()
                    .unwrap_or_default()
                    .parse::<GenerationStatus>()
                    .map_err(|e| corrupt("live event status", e))?,
                progress: self.progress.map(fraction).transpose()?,
                batch: self
                    .batch_id
                    .map(|id| parse_id("live event batch", Some(id)))
                    .transpose()?,
            },
            other => return Err(corrupt("live event kind", other)),
        };
        Ok(LiveEvent {
            seq: EventSeq::new(seq),
            user,
            change,
        })
    }
}

/// A stored id of type `T` (a UUID).
fn parse_id<T: std::str::FromStr>(what: &str, raw: Option<String>) -> Result<T, RepositoryError> {
    let raw = raw.ok_or_else(|| corrupt(what, "missing"))?;
    raw.parse().map_err(|_| corrupt(what, raw))
}

/// A stored progress: a fraction 0–1.
fn fraction(value: f64) -> Result<f64, RepositoryError> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(corrupt("live event progress", value))
    }
}

#[cfg(test)]
mod tests {
    use picture_domain::GenerationId;

    use super::*;

    fn generation_payload(status: &str, progress: &str) -> String {
        format!(
            r#"{{"seq":7,"user":"u1","kind":"generation","generation":"4f9a3c1e-1111-4222-8333-944455556666","batch":null,"status":"{status}","progress":{progress}}}"#
        )
    }

    #[test]
    fn a_notification_payload_becomes_the_event() {
        let event = EventRow::from_payload(&generation_payload("processing", "0.75"))
            .and_then(EventRow::into_event)
            .unwrap();
        let generation: GenerationId = "4f9a3c1e-1111-4222-8333-944455556666".parse().unwrap();
        assert_eq!(
            event,
            LiveEvent {
                seq: EventSeq::new(7),
                user: UserId::parse("u1").unwrap(),
                change: LiveChange::Generation {
                    generation,
                    status: GenerationStatus::Processing,
                    progress: Some(0.75),
                    batch: None,
                },
            }
        );
        let credits = r#"{"seq":8,"user":"u1","kind":"credits","generation":null,"batch":null,"status":null,"progress":null}"#;
        let event = EventRow::from_payload(credits)
            .and_then(EventRow::into_event)
            .unwrap();
        assert_eq!(
            (event.seq, event.change),
            (EventSeq::new(8), LiveChange::Credits)
        );
    }

    #[test]
    fn malformed_payloads_and_rows_are_corrupt() {
        let bad = [
            "not json".to_owned(),
            r#"{"seq":1}"#.to_owned(),
            generation_payload("exploded", "null"),
            generation_payload("processing", "1.5"),
            generation_payload("processing", "-0.1"),
            r#"{"seq":1,"user":"u1","kind":"weather","generation":null,"batch":null,"status":null,"progress":null}"#.to_owned(),
            r#"{"seq":1,"user":"u1","kind":"generation","generation":null,"batch":null,"status":"pending","progress":null}"#.to_owned(),
            r#"{"seq":1,"user":"u1","kind":"generation","generation":"nope","batch":null,"status":"pending","progress":null}"#.to_owned(),
            r#"{"seq":null,"user":"u1","kind":"credits","generation":null,"batch":null,"status":null,"progress":null}"#.to_owned(),
        ];
        for payload in bad {
            let parsed = EventRow::from_payload(&payload).and_then(EventRow::into_event);
            assert!(
                matches!(parsed, Err(RepositoryError::Corrupt(_))),
                "{payload}: {parsed:?}"
            );
        }
    }
}
