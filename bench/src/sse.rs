//! A lightweight Server-Sent Events client for holding thousands of streams at once: a raw
//! HTTP/1.1 `GET` on a `TcpStream`, the response head checked, the body de-chunked and split
//! into events. Only each event's name and `id:` are kept (the benchmark times arrivals).

use std::net::SocketAddr;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Bytes buffered per stream: events and heartbeats are far smaller.
const READ_BUFFER: usize = 1024;
/// Longest response head or chunk-size line accepted.
const MAX_LINE: usize = 8 * 1024;

/// One event: its `event:` name (`message` when absent) and its `id:`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event's name.
    pub name: String,
    /// Its `id:` field as a number, when present and numeric.
    pub id: Option<i64>,
}

/// An open event stream.
pub struct EventStream {
    reader: BufReader<TcpStream>,
    /// The body uses chunked transfer coding.
    chunked: bool,
    /// Body bytes read but not yet split into lines.
    pending: Vec<u8>,
    /// The event being assembled.
    name: Option<String>,
    id: Option<i64>,
    /// The event has at least one field (a blank line then dispatches it).
    started: bool,
}

impl EventStream {
    /// Opens `GET path` on a fresh connection with `token` as bearer and reads the response
    /// head: an error unless it is `200` with `text/event-stream`.
    ///
    /// # Errors
    /// On a transport error or another answer.
    pub async fn open(addr: SocketAddr, path: &str, token: &str) -> anyhow::Result<Self> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Accept: text/event-stream\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut reader = BufReader::with_capacity(READ_BUFFER, stream);
        let status = read_line(&mut reader).await?.context("no response")?;
        if !status.starts_with("HTTP/1.1 200") {
            bail!("answered {status}");
        }
        let (mut chunked, mut event_stream) = (false, false);
        loop {
            let line = read_line(&mut reader)
                .await?
                .context("the response head ended early")?;
            if line.is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("transfer-encoding:") {
                chunked = value.trim() == "chunked";
            }
            if let Some(value) = lower.strip_prefix("content-type:") {
                event_stream = value.trim().starts_with("text/event-stream");
            }
        }
        if !event_stream {
            bail!("the answer is not text/event-stream");
        }
        Ok(Self {
            reader,
            chunked,
            pending: Vec::new(),
            name: None,
            id: None,
            started: false,
        })
    }

    /// The next event; `None` when the server ended the stream.
    ///
    /// # Errors
    /// On a transport error or a malformed body.
    pub async fn next(&mut self) -> anyhow::Result<Option<SseEvent>> {
        loop {
            while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line[..end]);
                if let Some(event) = self.field(line.strip_suffix('\r').unwrap_or(&line)) {
                    return Ok(Some(event));
                }
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// Takes one line of the event stream; a blank line dispatches the assembled event.
    fn field(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let event = self.started.then(|| SseEvent {
                name: self.name.take().unwrap_or_else(|| "message".into()),
                id: self.id.take(),
            });
            self.started = false;
            return event;
        }
        if line.starts_with(':') {
            return None;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "event" => {
                self.name = Some(value.to_owned());
                self.started = true;
            }
            "id" => {
                self.id = value.parse().ok();
                self.started = true;
            }
            "data" => self.started = true,
            _ => {}
        }
        None
    }

    /// Appends the next piece of the body to `pending`; false at its end.
    async fn fill(&mut self) -> anyhow::Result<bool> {
        if !self.chunked {
            let mut buffer = [0_u8; READ_BUFFER];
            let read = self.reader.read(&mut buffer).await?;
            self.pending.extend_from_slice(&buffer[..read]);
            return Ok(read > 0);
        }
        let Some(size_line) = read_line(&mut self.reader).await? else {
            return Ok(false);
        };
        let size = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16)
            .with_context(|| format!("a bad chunk size: {size_line:?}"))?;
        if size == 0 {
            return Ok(false);
        }
        let start = self.pending.len();
        self.pending.resize(start + size, 0);
        self.reader.read_exact(&mut self.pending[start..]).await?;
        let mut crlf = [0_u8; 2];
        self.reader.read_exact(&mut crlf).await?;
        Ok(true)
    }
}

/// One CRLF-terminated line without its terminator; `None` at the end of the input.
async fn read_line(reader: &mut BufReader<TcpStream>) -> anyhow::Result<Option<String>> {
    let mut line = Vec::new();
    let read = (&mut *reader)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .await?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        bail!("a line longer than {MAX_LINE} bytes, or cut off");
    }
    let text = String::from_utf8_lossy(&line);
    Ok(Some(
        text.trim_end_matches('\n')
            .trim_end_matches('\r')
            .to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    use super::*;

    /// Serves one chunked event stream whose events are split across chunks.
    async fn serve(body_chunks: &'static [&'static str]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut head = [0_u8; 1024];
            let _ = socket.read(&mut head).await.unwrap();
            let mut response = String::from(
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                 transfer-encoding: chunked\r\n\r\n",
            );
            for chunk in body_chunks {
                response.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
            }
            response.push_str("0\r\n\r\n");
            socket.write_all(response.as_bytes()).await.unwrap();
        });
        addr
    }

    #[tokio::test]
    async fn events_are_read_across_chunks_with_comments_skipped() {
        let addr = serve(&[
            "retry: 2000\n\nevent: ready\nid: 7\ndata: {}\n\n: heart",
            "beat\n\nevent: cred",
            "its\nid: 9\ndata: {\"balance\":1}\n\nevent: credits\ndata: {}\n\n",
        ])
        .await;
        let mut stream = EventStream::open(addr, "/events", "token").await.unwrap();
        let mut events = Vec::new();
        while let Some(event) = stream.next().await.unwrap() {
            events.push(event);
        }
        let expected = [("ready", Some(7)), ("credits", Some(9)), ("credits", None)];
        assert_eq!(
            events,
            expected
                .iter()
                .map(|(name, id)| SseEvent {
                    name: (*name).to_owned(),
                    id: *id
                })
                .collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn another_answer_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut head = [0_u8; 1024];
            let _ = socket.read(&mut head).await.unwrap();
            socket
                .write_all(b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
        });
        let error = EventStream::open(addr, "/events", "token")
            .await
            .err()
            .unwrap();
        assert!(error.to_string().contains("429"), "{error}");
    }
}
