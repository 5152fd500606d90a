//! A small Server-Sent Events client for the tests: reads a response chunk by chunk (each read
//! bounded by a timeout), splits frames on blank lines, and parses `event:`, `id:`, `data:`
//! (JSON), `retry:` and comments. It checks on the way that `id`s only grow.

use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest wait for one frame (the brief's generous bound; heartbeats do not count).
pub(super) const WITHIN: Duration = Duration::from_secs(5);

/// One parsed frame.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Frame {
    /// An event.
    Event(Event),
    /// A comment line (`: text`), e.g. a heartbeat.
    Comment(String),
    /// `retry: N`.
    Retry(u64),
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Event {
    /// `event:`.
    pub name: String,
    /// `id:`, when present.
    pub id: Option<i64>,
    /// `data:` lines joined, parsed as JSON.
    pub data: Value,
}

/// An open stream.
pub(super) struct Sse {
    response: reqwest::Response,
    buffer: Vec<u8>,
    ended: bool,
    last_id: Option<i64>,
}

/// A client without a total timeout (the suite's client ends every body after 10 s).
pub(super) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// `GET {address}{path}` with the bearer token when given and `extra` headers.
pub(super) async fn get(
    address: &str,
    path: &str,
    bearer: Option<&str>,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = client()
        .get(format!("{address}{path}"))
        .header("accept", "text/event-stream");
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// Opens a stream that must answer 200 `text/event-stream`.
pub(super) async fn open(
    address: &str,
    path: &str,
    bearer: Option<&str>,
    extra: &[(&str, &str)],
) -> Sse {
    let response = get(address, path, bearer, extra).await;
    let status = response.status();
    if status != 200 {
        let body = response.text().await.unwrap_or_default();
        panic!("{path}: {status} {body}");
    }
    Sse::new(response)
}

impl Sse {
    /// Wraps a 200 response, checking the stream's headers.
    pub(super) fn new(response: reqwest::Response) -> Self {
        let headers = response.headers();
        assert_eq!(
            headers["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        assert!(
            headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("no-cache")
        );
        Self {
            response,
            buffer: Vec::new(),
            ended: false,
            last_id: None,
        }
    }

    /// The next frame, or `None` at the end of the stream; panics when nothing complete
    /// arrives within `within`.
    pub(super) async fn next_frame_within(&mut self, within: Duration) -> Option<Frame> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(frame) = self.take_frame() {
                return Some(frame);
            }
            if self.ended {
                assert!(
                    self.buffer.iter().all(u8::is_ascii_whitespace),
                    "the stream ended inside a frame: {:?}",
                    String::from_utf8_lossy(&self.buffer)
                );
                return None;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.extend_from_slice(&chunk),
                Ok(Ok(None)) => self.ended = true,
                Ok(Err(error)) => panic!("reading the stream failed: {error}"),
                Err(_) => panic!("no frame within {within:?}"),
            }
        }
    }

    /// The next event (comments and `retry:` skipped), or `None` at the end of the stream;
    /// panics when none comes within [`WITHIN`].
    pub(super) async fn next_event(&mut self) -> Option<Event> {
        let deadline = Instant::now() + WITHIN;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_frame_within(left).await? {
                Frame::Event(event) => return Some(event),
                Frame::Comment(_) | Frame::Retry(_) => {}
            }
        }
    }

    /// The next event, which must come.
    pub(super) async fn event(&mut self) -> Event {
        match self.next_event().await {
            Some(event) => event,
            None => panic!("the stream ended; an event was expected"),
        }
    }

    /// The next `generation` event, skipping other kinds (`credits`).
    pub(super) async fn generation_event(&mut self) -> Event {
        loop {
            let event = self.event().await;
            if event.name == "generation" {
                return event;
            }
        }
    }

    /// Asserts that the stream ends (within [`WITHIN`]) with no further event.
    pub(super) async fn expect_end(&mut self) {
        if let Some(event) = self.next_event().await {
            panic!("the stream should have ended, got {event:?}");
        }
    }

    fn take_frame(&mut self) -> Option<Frame> {
        loop {
            let end = self.buffer.windows(2).position(|pair| pair == b"\n\n")?;
            let raw: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let text = String::from_utf8(raw).unwrap();
            if let Some(frame) = self.parse(text.trim_end_matches('\n')) {
                return Some(frame);
            }
        }
    }

    fn parse(&mut self, text: &str) -> Option<Frame> {
        let (mut name, mut id, mut data, mut comment, mut retry) =
            (None, None, Vec::new(), None, None);
        for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "" => comment = Some(value.to_owned()),
                "event" => name = Some(value.to_owned()),
                "id" => id = Some(value.parse::<i64>().unwrap()),
                "data" => data.push(value),
                "retry" => retry = Some(value.parse::<u64>().unwrap()),
                other => panic!("unknown SSE field {other:?} in {text:?}"),
            }
        }
        if data.is_empty() {
            assert!(
                name.is_none() && id.is_none(),
                "an event without data: {text:?}"
            );
            return match (comment, retry) {
                (Some(comment), None) => Some(Frame::Comment(comment)),
                (None, Some(retry)) => Some(Frame::Retry(retry)),
                (None, None) => None,
                _ => panic!("a frame mixing a comment and retry: {text:?}"),
            };
        }
        if let Some(id) = id {
            if let Some(last) = self.last_id {
                assert!(id > last, "ids must increase: {id} after {last}");
            }
            self.last_id = Some(id);
        }
        let data: Value = serde_json::from_str(&data.join("\n")).unwrap();
        Some(Frame::Event(Event {
            name: name.unwrap_or_else(|| "message".into()),
            id,
            data,
        }))
    }
}
