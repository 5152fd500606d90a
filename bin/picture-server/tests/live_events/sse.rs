//! A Server-Sent Events client for the tests: a task reads one stream's body, parses its
//! events and stamps each with the moment it arrived.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

/// One event of a stream.
#[derive(Debug, Clone)]
pub struct Event {
    /// Its `event:` name (`message` when none).
    pub name: String,
    /// Its `id:`, if any.
    pub id: Option<String>,
    /// Its `data:`, parsed.
    pub data: Value,
}

/// What the reader saw, and when.
#[derive(Debug)]
pub enum Item {
    /// An event arrived.
    Event(Instant, Event),
    /// The body ended: `true` when the server completed the response, `false` when the
    /// connection broke.
    End(Instant, bool),
}

/// A stream being read by a task of its own.
pub struct Watch {
    items: mpsc::UnboundedReceiver<Item>,
    reader: tokio::task::JoinHandle<()>,
}

/// Parses one event block (lines without the blank separator); `None` for a block with no
/// data (comments, `retry:`).
fn parse(block: &str) -> Option<Event> {
    let (mut name, mut id, mut data) = (String::from("message"), None, Vec::new());
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = value.to_owned(),
            "id" => id = Some(value.to_owned()),
            "data" => data.push(value),
            _ => {}
        }
    }
    if data.is_empty() {
        return None;
    }
    let data = serde_json::from_str(&data.join("\n")).unwrap();
    Some(Event { name, id, data })
}

impl Watch {
    /// Reads `response`'s body until it ends.
    pub fn spawn(mut response: reqwest::Response) -> Self {
        let (sender, items) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut buffer = String::new();
            let clean = loop {
                let chunk = match response.chunk().await {
                    Ok(Some(chunk)) => chunk,
                    Ok(None) => break true,
                    Err(_) => break false,
                };
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    if let Some(event) = parse(&block) {
                        let _ = sender.send(Item::Event(Instant::now(), event));
                    }
                }
            };
            let _ = sender.send(Item::End(Instant::now(), clean));
        });
        Self { items, reader }
    }

    /// The next item within `within`; `None` when nothing came.
    pub async fn next(&mut self, within: Duration) -> Option<Item> {
        tokio::time::timeout(within, self.items.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next event within `within`; fails on the end of the stream or a timeout.
    pub async fn event(&mut self, within: Duration) -> (Instant, Event) {
        match self.next(within).await {
            Some(Item::Event(at, event)) => (at, event),
            other => panic!("expected an event within {within:?}, got {other:?}"),
        }
    }

    /// The first event (skipping others) that `wanted` accepts, within `within`; fails on the
    /// end of the stream or a timeout. The events skipped are printed.
    pub async fn until(
        &mut self,
        within: Duration,
        what: &str,
        wanted: impl Fn(&Event) -> bool,
    ) -> (Instant, Event) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(Item::Event(at, event)) if wanted(&event) => return (at, event),
                Some(Item::Event(_, event)) => {
                    eprintln!("  (skipped while waiting for {what}: {event:?})")
                }
                Some(Item::End(..)) => panic!("the stream ended before {what}"),
                None => panic!("no {what} within {within:?}"),
            }
        }
    }

    /// Waits up to `within` for the stream's end, skipping events: when it ended and whether
    /// the server completed the body, or `None`.
    pub async fn end(&mut self, within: Duration) -> Option<(Instant, bool)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(Item::End(at, clean)) => return Some((at, clean)),
                Some(Item::Event(..)) => {}
                None => return None,
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
