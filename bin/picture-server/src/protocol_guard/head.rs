//! One request head checked with `httparse`, the parser actix-http uses, against limits a little
//! under actix-http's, plus the framing rules actix-http enforces after parsing; and where the
//! request's body ends, so the next head can be found.

use std::mem::MaybeUninit;

use crate::error::ApiError;

/// The longest request target: `http::Uri` refuses anything longer (actix-http then answers 400).
pub const MAX_URI: usize = 65_534;
/// The longest request head. actix-http answers 431 once 128 KiB of an unfinished head are
/// buffered; refusing past 120 KiB means the guard always speaks first.
pub const MAX_HEAD: usize = 120 * 1024;
/// The most headers a request may have: actix-http's own limit, met by the same parser.
pub const MAX_HEADERS: usize = 96;
/// Room for the method and the version around a request target in an unfinished request line.
const REQUEST_LINE_SLACK: usize = 64;

/// What follows a head on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Nothing: the next head.
    None,
    /// This many bytes.
    Length(u64),
    /// A chunked body.
    Chunked,
    /// A stream until the connection ends (an upgrade or CONNECT): nothing more to check.
    Unframed,
}

/// The verdict on the bytes of one head so far.
#[derive(Debug)]
pub enum Head {
    /// More bytes are needed.
    Partial,
    /// A head of `len` bytes, followed by `body`; `last` when the connection ends after it.
    Complete {
        /// The head's length.
        len: usize,
        /// What follows it.
        body: Body,
        /// Whether the client asked to close the connection after this request.
        last: bool,
    },
    /// A head actix-http would refuse, with the answer to give.
    Refused(ApiError),
}

/// Checks the start of `bytes`, which holds one head or the beginning of one.
pub fn check(bytes: &[u8]) -> Head {
    let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut []);
    match request.parse_with_uninit_headers(bytes, &mut headers) {
        Err(httparse::Error::TooManyHeaders) => Head::Refused(ApiError::HeadersTooLarge),
        Err(_) => Head::Refused(ApiError::MalformedRequest),
        Ok(httparse::Status::Partial) => partial(bytes.len(), request.path),
        Ok(httparse::Status::Complete(len)) => complete(&request, len),
    }
}

fn partial(buffered: usize, path: Option<&str>) -> Head {
    let uri_too_long = match path {
        Some(path) => path.len() > MAX_URI,
        None => buffered > MAX_URI + REQUEST_LINE_SLACK,
    };
    if uri_too_long {
        Head::Refused(ApiError::UriTooLong)
    } else if buffered > MAX_HEAD {
        Head::Refused(ApiError::HeadersTooLarge)
    } else {
        Head::Partial
    }
}

fn complete(request: &httparse::Request<'_, '_>, len: usize) -> Head {
    if request.path.is_some_and(|path| path.len() > MAX_URI) {
        return Head::Refused(ApiError::UriTooLong);
    }
    if len > MAX_HEAD {
        return Head::Refused(ApiError::HeadersTooLarge);
    }
    match Framing::of(request) {
        Some((body, last)) => Head::Complete { len, body, last },
        None => Head::Refused(ApiError::MalformedRequest),
    }
}

/// The headers that decide the body's framing and the connection's fate.
#[derive(Default)]
struct Framing {
    lengths: usize,
    length: Option<u64>,
    encodings: usize,
    chunked: bool,
    hosts: usize,
    websocket: bool,
    close: bool,
}

impl Framing {
    /// The body and whether the connection ends after it, or `None` for a head actix-http
    /// refuses after parsing (the checks of `actix_http::h1::decoder`).
    fn of(request: &httparse::Request<'_, '_>) -> Option<(Body, bool)> {
        let http11 = request.version == Some(1);
        let mut framing = Self::default();
        for header in request.headers.iter() {
            framing.note(header.name, header.value)?;
        }
        let method = request.method.unwrap_or_default();
        let valid = framing.lengths <= 1
            && framing.hosts <= 1
            && (framing.hosts == 1 || !http11)
            && (framing.encodings == 0
                || (http11 && framing.encodings == 1 && framing.chunked && framing.lengths == 0))
            && (http11 || method != "POST" || framing.lengths == 1);
        if !valid {
            return None;
        }
        let body = if framing.chunked {
            Body::Chunked
        } else if framing.websocket {
            Body::Unframed
        } else if let Some(length) = framing.length.filter(|length| *length > 0) {
            Body::Length(length)
        } else if method == "CONNECT" && framing.length.is_none() {
            Body::Unframed
        } else {
            Body::None
        };
        Some((body, framing.close || !http11))
    }

    /// Takes one header into account; `None` for an invalid `Content-Length`.
    fn note(&mut self, name: &str, value: &[u8]) -> Option<()> {
        let value = value.trim_ascii();
        if name.eq_ignore_ascii_case("content-length") {
            self.lengths += 1;
            if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
                return None;
            }
            self.length = Some(std::str::from_utf8(value).ok()?.parse().ok()?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            self.encodings += 1;
            self.chunked = value.eq_ignore_ascii_case(b"chunked");
        } else if name.eq_ignore_ascii_case("host") {
            self.hosts += 1;
        } else if name.eq_ignore_ascii_case("upgrade") {
            self.websocket |= value.eq_ignore_ascii_case(b"websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            self.close |= value
                .split(|byte| *byte == b',')
                .any(|option| option.trim_ascii().eq_ignore_ascii_case(b"close"));
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(body: Body, last: bool, head: &[u8]) {
        let verdict = check(head);
        assert!(
            matches!(verdict, Head::Complete { len, body: b, last: l }
                if len == head.len() && b == body && l == last),
            "{verdict:?} for {}",
            String::from_utf8_lossy(head)
        );
    }

    fn refused(error: ApiError, head: &[u8]) {
        let code = error.code();
        match check(head) {
            Head::Refused(got) => assert_eq!(got.code(), code),
            other => panic!("{other:?} for {}", String::from_utf8_lossy(head)),
        }
    }

    #[test]
    fn heads_actix_accepts_are_framed_like_actix_frames_them() {
        complete(Body::None, false, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        complete(
            Body::Length(5),
            false,
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
        );
        complete(
            Body::None,
            false,
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        );
        complete(
            Body::Chunked,
            true,
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n",
        );
        complete(
            Body::Unframed,
            false,
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
        );
        complete(Body::None, true, b"GET / HTTP/1.0\r\n\r\n");
        assert!(matches!(
            check(b"GET / HTTP/1.1\r\nHost: a\r\n"),
            Head::Partial
        ));
    }

    #[test]
    fn heads_actix_refuses_are_refused_with_the_matching_code() {
        refused(ApiError::MalformedRequest, b"\x16\x03\x01\x02\x00");
        refused(ApiError::MalformedRequest, b"GET / HTTP/1.1\r\n\r\n");
        refused(
            ApiError::MalformedRequest,
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
        );
        refused(
            ApiError::MalformedRequest,
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
        );
        refused(
            ApiError::MalformedRequest,
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
        );
        refused(
            ApiError::MalformedRequest,
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
        );
        refused(ApiError::MalformedRequest, b"POST / HTTP/1.0\r\n\r\n");
        let uri = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_URI));
        refused(ApiError::UriTooLong, uri.as_bytes());
        let unfinished = format!("GET /{}", "a".repeat(MAX_URI + 100));
        refused(ApiError::UriTooLong, unfinished.as_bytes());
        let headers: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        refused(
            ApiError::HeadersTooLarge,
            format!("GET / HTTP/1.1\r\nHost: a\r\n{headers}").as_bytes(),
        );
        let huge = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}", "v".repeat(MAX_HEAD));
        refused(ApiError::HeadersTooLarge, huge.as_bytes());
    }
}
