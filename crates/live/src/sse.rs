//! Server-Sent Events framing (the HTML standard's `text/event-stream`).

use bytes::Bytes;

/// The content type of an event stream.
pub const CONTENT_TYPE: &str = "text/event-stream";

/// One event: `event: <name>`, `id: <id>` when given, one `data:` line per line of `data`, and
/// the blank line that ends it. `name` and `id` must not contain line breaks (ours never do:
/// fixed names and numbers); JSON from serde has none either, but any are split into
/// `data:` lines as the standard requires.
pub fn event(name: &str, id: Option<i64>, data: &str) -> Bytes {
    let mut frame = String::with_capacity(data.len() + name.len() + 32);
    frame.push_str("event: ");
    frame.push_str(name);
    frame.push('\n');
    if let Some(id) = id {
        frame.push_str("id: ");
        frame.push_str(&id.to_string());
        frame.push('\n');
    }
    for line in data.split('\n') {
        frame.push_str("data: ");
        frame.push_str(line.strip_suffix('\r').unwrap_or(line));
        frame.push('\n');
    }
    frame.push('\n');
    Bytes::from(frame)
}

/// A comment line, ignored by clients: the heartbeat that keeps proxies from closing an idle
/// stream.
pub fn comment(text: &str) -> Bytes {
    Bytes::from(format!(": {}\n\n", text.replace(['\r', '\n'], " ")))
}

/// How long a client waits before reconnecting, in milliseconds.
pub fn retry(millis: u64) -> Bytes {
    Bytes::from(format!("retry: {millis}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_has_its_name_id_and_data_lines() {
        assert_eq!(
            event("generation", Some(7), r#"{"a":1}"#),
            Bytes::from("event: generation\nid: 7\ndata: {\"a\":1}\n\n")
        );
        assert_eq!(
            event("end", None, "x\ny"),
            Bytes::from("event: end\ndata: x\ndata: y\n\n")
        );
    }

    #[test]
    fn comments_and_retry_are_single_lines() {
        assert_eq!(comment("ping\nx"), Bytes::from(": ping x\n\n"));
        assert_eq!(retry(3000), Bytes::from("retry: 3000\n\n"));
    }
}
