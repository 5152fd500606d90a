//! Request heads actix-http cannot parse, answered in the JSON error shape.
//!
//! actix-http's HTTP/1 dispatcher answers a head it cannot parse before the app runs, with an
//! empty body: 400 for a URI over 65,534 bytes or a malformed head, 431 for over 96 headers or
//! 128 KiB of head. [`GuardedStream`] sits between the socket and the dispatcher and looks at
//! each request head as its bytes flow by, with the same parser (`httparse`) and limits a
//! little under actix-http's, so it always judges a head before actix-http does. On a head
//! actix-http would refuse it stops passing bytes on (actix-http sees the connection end after
//! the requests before it), and once actix-http has answered those and closes the connection,
//! it writes the refusal itself — 414 `uri_too_long`, 431 `headers_too_large` or 400
//! `bad_request`, with `Connection: close` — then shuts the socket and drains what the client
//! still sends for a moment, so the answer is not lost to a reset.
//!
//! To find the next head on a kept-alive connection it follows each body's framing
//! (`Content-Length`, chunked). It stops checking a connection for good where it cannot follow
//! (an upgrade, CONNECT, a chunked body it does not understand) or where the client asked to
//! close it; actix-http alone judges the rest, as it did before.
//!
//! In the normal path a read costs one parse of each head that ends in it (actix-http parses it
//! again) and nothing is allocated; a head split across reads is copied into a buffer kept for
//! the connection.

mod chunked;
mod head;
mod refusal;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use self::chunked::{Chunked, Progress};
use self::head::{Body, Head};
use self::refusal::Refusal;

pub use self::head::{MAX_HEAD, MAX_HEADERS, MAX_URI};

/// A head split across reads keeps at most this much buffer capacity once it is complete.
const KEPT_CAPACITY: usize = 8 * 1024;

/// Where the guard is in the request stream.
#[derive(Debug, Clone, Copy)]
enum State {
    /// At (or inside) a head; its first bytes are buffered when they came in an earlier read.
    Head,
    /// Inside a body of known length: this many bytes left.
    Body(u64),
    /// Inside a chunked body.
    Chunked(Chunked),
    /// Not checking this connection any more.
    Unchecked,
    /// A head was refused: reads end, the refusal is written at shutdown.
    Refused,
}

/// A connection's stream, with its request heads checked before actix-http sees them.
pub struct GuardedStream<S = TcpStream> {
    inner: S,
    state: State,
    partial_head: Vec<u8>,
    refusal: Option<Refusal>,
    closing_time: Duration,
}

impl<S> GuardedStream<S> {
    /// Guards `inner`; a refused connection is given `closing_time` to take its answer.
    pub fn new(inner: S, closing_time: Duration) -> Self {
        Self {
            inner,
            state: State::Head,
            partial_head: Vec::new(),
            refusal: None,
            closing_time,
        }
    }

    /// The stream underneath.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Follows the request stream through `fresh`, bytes just read; on a head to refuse,
    /// returns how many of them come before it (and may be passed on).
    fn watch(&mut self, fresh: &[u8]) -> Option<usize> {
        let mut at = 0;
        while at < fresh.len() {
            match &mut self.state {
                State::Unchecked | State::Refused => return None,
                State::Body(left) => {
                    let available = (fresh.len() - at) as u64;
                    let taken = (*left).min(available);
                    at += usize::try_from(taken).unwrap_or(usize::MAX);
                    *left -= taken;
                    if *left == 0 {
                        self.state = State::Head;
                    }
                }
                State::Chunked(chunked) => match chunked.advance(&fresh[at..]) {
                    Progress::Inside => return None,
                    Progress::Ended(used) => {
                        at += used;
                        self.state = State::Head;
                    }
                    Progress::Lost => self.state = State::Unchecked,
                },
                State::Head => {
                    let (verdict, buffered) = if self.partial_head.is_empty() {
                        (head::check(&fresh[at..]), 0)
                    } else {
                        let buffered = self.partial_head.len();
                        self.partial_head.extend_from_slice(&fresh[at..]);
                        (head::check(&self.partial_head), buffered)
                    };
                    match verdict {
                        Head::Partial => {
                            if buffered == 0 {
                                self.partial_head.extend_from_slice(&fresh[at..]);
                            }
                            return None;
                        }
                        Head::Complete { len, body, last } => {
                            at += len - buffered;
                            self.partial_head.clear();
                            self.partial_head.shrink_to(KEPT_CAPACITY);
                            self.state = match body {
                                _ if last => State::Unchecked,
                                Body::None => State::Head,
                                Body::Length(length) => State::Body(length),
                                Body::Chunked => State::Chunked(Chunked::default()),
                                Body::Unframed => State::Unchecked,
                            };
                        }
                        Head::Refused(error) => {
                            self.partial_head = Vec::new();
                            self.refuse(&error);
                            return Some(at);
                        }
                    }
                }
            }
        }
        None
    }

    fn refuse(&mut self, error: &crate::error::ApiError) {
        metrics::counter!("picture_protocol_errors_total", "code" => error.code()).increment(1);
        tracing::debug!(code = error.code(), "request head refused");
        self.state = State::Refused;
        self.refusal = Some(Refusal::new(error, self.closing_time));
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for GuardedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.state {
            State::Unchecked => return Pin::new(&mut this.inner).poll_read(cx, buf),
            // The end of the requests, as far as actix-http is concerned.
            State::Refused => return Poll::Ready(Ok(())),
            State::Head | State::Body(_) | State::Chunked(_) => {}
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = read
            && let Some(passed) = this.watch(&buf.filled()[before..])
        {
            buf.set_filled(before + passed);
        }
        read
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for GuardedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match &mut this.refusal {
            Some(refusal) => refusal.poll_deliver(&mut this.inner, cx),
            None => Pin::new(&mut this.inner).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    use super::*;

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";

    /// Writes `parts` one by one into a guarded stream; returns what it passed on and what it
    /// answered at shutdown.
    async fn through(parts: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
        let (mut client, server) = duplex(1 << 20);
        let mut guarded = GuardedStream::new(server, Duration::from_millis(100));
        let mut passed = Vec::new();
        for part in parts {
            client.write_all(part).await.unwrap();
            let mut buffer = [0u8; 1 << 16];
            let mut got = 0;
            while got < part.len() {
                let n = guarded.read(&mut buffer).await.unwrap();
                if n == 0 {
                    break;
                }
                got += n;
                passed.extend_from_slice(&buffer[..n]);
            }
        }
        client.shutdown().await.unwrap();
        guarded.shutdown().await.unwrap();
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        (passed, answer)
    }

    #[tokio::test]
    async fn normal_requests_pass_whole_and_nothing_is_answered() {
        let sized = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
        let chunked =
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let all = [&sized[..], chunked, GET].concat();
        for split in [1, 7, 30, 50, all.len()] {
            let parts: Vec<&[u8]> = all.chunks(split).collect();
            let (passed, answer) = through(&parts).await;
            assert_eq!(passed, all, "split {split}");
            assert!(answer.is_empty(), "split {split}");
        }
    }

    #[tokio::test]
    async fn a_refused_head_is_withheld_and_answered_after_the_requests_before_it() {
        let long = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(MAX_URI));
        let (passed, answer) = through(&[GET, long.as_bytes()]).await;
        // Its first bytes may pass (actix-http only buffers an unfinished head); never all.
        assert!(passed.starts_with(GET));
        assert!(passed.len() < GET.len() + long.len(), "{}", passed.len());
        let answer = String::from_utf8(answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"),
            "{answer}"
        );
        assert!(answer.contains("\"code\":\"uri_too_long\""), "{answer}");
        assert!(answer.contains("\r\nx-frame-options: DENY\r\n"), "{answer}");
    }

    #[tokio::test]
    async fn a_body_that_looks_like_a_bad_head_is_not_judged() {
        let request = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\n\x16\x03\x01xyz";
        let (passed, answer) = through(&[request, GET]).await;
        assert_eq!(passed, [&request[..], GET].concat());
        assert!(answer.is_empty());
    }
}
