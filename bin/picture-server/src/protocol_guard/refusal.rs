//! The answer to a refused head, written by the guard itself when actix-http closes the
//! connection: the JSON error shape with `Connection: close`, then the socket's write half shut,
//! then what the client still sends read and dropped (closing a socket with unread bytes makes
//! the kernel reset it, which can destroy the answer before the client reads it). All of it
//! within one deadline.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use actix_web::ResponseError;
use actix_web::body::MessageBody;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Sleep, sleep};

use crate::error::ApiError;

/// Past this much, what the client still sends is not waited for.
const MAX_DRAINED: usize = 1024 * 1024;

/// The security headers every answer of the app carries (`middleware::security_headers`).
const SECURITY_HEADERS: &str = "x-content-type-options: nosniff\r\nx-frame-options: DENY\r\n\
    referrer-policy: no-referrer\r\n\
    content-security-policy: default-src 'none'; frame-ancestors 'none'\r\n\
    cross-origin-resource-policy: cross-origin\r\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Write,
    Shutdown,
    Drain,
    Done,
}

/// A refusal on its way to the client.
pub struct Refusal {
    answer: Vec<u8>,
    written: usize,
    drained: usize,
    phase: Phase,
    deadline: Pin<Box<Sleep>>,
}

impl Refusal {
    /// The answer to `error`, to be delivered within `closing_time` of now.
    pub fn new(error: &ApiError, closing_time: Duration) -> Self {
        Self {
            answer: answer(error),
            written: 0,
            drained: 0,
            phase: Phase::Write,
            deadline: Box::pin(sleep(closing_time)),
        }
    }

    /// Writes the answer, shuts the write half and drains the read half of `io`; ready when
    /// done, when the client is gone, or at the deadline.
    pub fn poll_deliver<S>(&mut self, io: &mut S, cx: &mut Context<'_>) -> Poll<io::Result<()>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.phase = Phase::Done;
        }
        while self.phase != Phase::Done {
            let step = ready!(self.poll_step(io, cx));
            if step.is_err() {
                self.phase = Phase::Done;
            }
        }
        Poll::Ready(Ok(()))
    }

    fn poll_step<S>(&mut self, io: &mut S, cx: &mut Context<'_>) -> Poll<io::Result<()>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let io = Pin::new(io);
        match self.phase {
            Phase::Write => {
                let written = ready!(io.poll_write(cx, &self.answer[self.written..]))?;
                if written == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.written += written;
                if self.written == self.answer.len() {
                    self.phase = Phase::Shutdown;
                }
            }
            Phase::Shutdown => {
                ready!(io.poll_shutdown(cx))?;
                self.phase = Phase::Drain;
            }
            Phase::Drain => {
                let mut scrap = [0u8; 4096];
                let mut scrap = ReadBuf::new(&mut scrap);
                ready!(io.poll_read(cx, &mut scrap))?;
                self.drained += scrap.filled().len();
                if scrap.filled().is_empty() || self.drained > MAX_DRAINED {
                    self.phase = Phase::Done;
                }
            }
            Phase::Done => {}
        }
        Poll::Ready(Ok(()))
    }
}

/// The raw HTTP/1.1 answer to `error`: its JSON body, as the app would send it.
fn answer(error: &ApiError) -> Vec<u8> {
    let response = error.error_response();
    let status = response.status();
    let body = response.into_body().try_into_bytes().unwrap_or_default();
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n{SECURITY_HEADERS}date: {date}\r\n\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("Error"),
        body.len(),
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}
