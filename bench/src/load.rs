//! The load generator: closed-loop HTTP/1.1 keep-alive connections over loopback, each sending
//! its next request as soon as the previous answer is read whole, latencies in a histogram.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One kind of request a connection sends over and over.
#[derive(Clone)]
pub struct Target {
    /// `GET`, `POST` or `PATCH`.
    pub method: Method,
    /// Path and query.
    pub path: String,
    /// JSON body of a `POST` or `PATCH`.
    pub body: Option<Bytes>,
    /// The answer that counts as a success.
    pub expect: StatusCode,
    /// Text a successful answer's body must contain (a sync generation answers 201 whether it
    /// completed or failed).
    pub must_contain: Option<&'static str>,
    /// Further request headers (name, value).
    pub headers: Vec<(&'static str, String)>,
    /// Paths sent in turn instead of `path` (empty: always `path`); each connection starts at
    /// its own place in the list.
    pub rotation: Arc<Vec<String>>,
}

impl Target {
    /// A `GET` of `path` answered 200.
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            body: None,
            expect: StatusCode::OK,
            must_contain: None,
            headers: Vec::new(),
            rotation: Arc::new(Vec::new()),
        }
    }

    /// `GET`s of `paths` in turn, each answered 200 (`path` is the first).
    pub fn rotating(paths: Vec<String>) -> Self {
        Self {
            rotation: Arc::new(paths.clone()),
            ..Self::get(paths.into_iter().next().unwrap_or_default())
        }
    }

    /// A `POST` of `body` to `path` answered `expect`.
    pub fn post(path: impl Into<String>, body: &serde_json::Value, expect: StatusCode) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            body: Some(Bytes::from(body.to_string())),
            expect,
            must_contain: None,
            headers: Vec::new(),
            rotation: Arc::new(Vec::new()),
        }
    }

    /// A `PATCH` of `body` to `path` answered 200.
    pub fn patch(path: impl Into<String>, body: &serde_json::Value) -> Self {
        Self {
            method: Method::PATCH,
            ..Self::post(path, body, StatusCode::OK)
        }
    }

    /// The path of a connection's `turn`-th request.
    fn path_at(&self, turn: usize) -> &str {
        if self.rotation.is_empty() {
            &self.path
        } else {
            &self.rotation[turn % self.rotation.len()]
        }
    }

    /// The HTTP request to `addr` with `token` as bearer, for a connection's `turn`-th request.
    fn request(
        &self,
        addr: SocketAddr,
        token: Option<&str>,
        turn: usize,
    ) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(self.path_at(turn))
            .header(hyper::header::HOST, addr.to_string());
        if let Some(token) = token {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let body = match &self.body {
            Some(body) => {
                request = request.header(hyper::header::CONTENT_TYPE, "application/json");
                body.clone()
            }
            None => Bytes::new(),
        };
        Ok(request.body(Full::new(body))?)
    }

    /// The same with the header `name: value`.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The same, successful only when the body contains `text`.
    pub fn containing(mut self, text: &'static str) -> Self {
        self.must_contain = Some(text);
        self
    }
}

/// What a measured window produced.
pub struct Outcome {
    /// Answers with the expected status, completed inside the window.
    pub ok: u64,
    /// Other statuses, transport errors and timeouts.
    pub errors: u64,
    /// Latency of every answer inside the window, in microseconds.
    pub latency: Histogram<u64>,
    /// The window's length.
    pub elapsed: Duration,
    /// The first unexpected answer, to say what went wrong.
    pub first_error: Option<String>,
    /// Body bytes of the successful answers.
    pub bytes: u64,
}

impl Outcome {
    /// Nothing measured yet.
    pub fn empty() -> anyhow::Result<Self> {
        Ok(Self {
            ok: 0,
            errors: 0,
            latency: Histogram::new_with_bounds(1, 600_000_000, 3).context("histogram bounds")?,
            elapsed: Duration::ZERO,
            first_error: None,
            bytes: 0,
        })
    }

    /// One success that took `took`.
    pub fn record(&mut self, took: Duration) {
        self.ok += 1;
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.latency.saturating_record(micros.max(1));
    }

    /// One failure.
    pub fn fail(&mut self, why: String) {
        self.errors += 1;
        self.first_error.get_or_insert(why);
    }

    /// Adds `other`'s counts and latencies.
    pub fn merge(&mut self, other: Outcome) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.bytes += other.bytes;
        let _ = self.latency.add(&other.latency);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Successful answers per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// Body bytes of successful answers per second.
    pub fn bytes_per_second(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64()
    }

    /// Latency at `quantile` in milliseconds.
    pub fn millis(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }
}

/// The request each connection sends: connection `i` uses `tokens[i % len]`.
pub struct Load {
    /// The server.
    pub addr: SocketAddr,
    /// What to send.
    pub target: Target,
    /// Bearer tokens, spread over the connections.
    pub tokens: Arc<Vec<String>>,
    /// Longest wait for one answer before it counts as an error.
    pub timeout: Duration,
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// One request of `target` with `token` on a fresh connection: the status and the body.
pub async fn fetch(
    addr: SocketAddr,
    target: &Target,
    token: Option<&str>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let mut sender = connect(addr).await?;
    send(&mut sender, addr, target, token).await
}

/// One request of `target` with `token` on the connection `sender` (to `addr`): the status and
/// the body.
pub async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    target: &Target,
    token: Option<&str>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    sender.ready().await?;
    let response = sender.send_request(target.request(addr, token, 0)?).await?;
    let status = response.status();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

/// A keep-alive HTTP/1.1 connection to `addr`.
pub async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

impl Load {
    /// The `turn`-th request of a connection on `sender`, answered whole: `Ok` with the status
    /// and the body's length, or the transport error.
    async fn once(
        &self,
        sender: &mut SendRequest<Full<Bytes>>,
        token: Option<&str>,
        turn: usize,
    ) -> anyhow::Result<(StatusCode, usize)> {
        sender.ready().await?;
        let response = sender
            .send_request(self.target.request(self.addr, token, turn)?)
            .await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if let Some(text) = self.target.must_contain
            && status == self.target.expect
            && !contains(&body, text.as_bytes())
        {
            anyhow::bail!(
                "answered {status} without {text}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
        }
        Ok((status, body.len()))
    }

    /// Runs `connections` connections for `duration`, counting only answers that end inside it.
    pub async fn run(
        self: Arc<Self>,
        connections: usize,
        duration: Duration,
    ) -> anyhow::Result<Outcome> {
        let deadline = Instant::now() + duration;
        let workers: Vec<_> = (0..connections)
            .map(|i| {
                let load = Arc::clone(&self);
                tokio::spawn(async move { load.connection(i, deadline).await })
            })
            .collect();
        let mut total = Outcome::empty()?;
        for worker in workers {
            total.merge(worker.await??);
        }
        total.elapsed = duration;
        Ok(total)
    }

    /// One connection's closed loop until `deadline`; reconnects after a transport error.
    async fn connection(&self, index: usize, deadline: Instant) -> anyhow::Result<Outcome> {
        let token =
            (!self.tokens.is_empty()).then(|| self.tokens[index % self.tokens.len()].clone());
        let mut outcome = Outcome::empty()?;
        let mut sender = None;
        let mut turn = index;
        while Instant::now() < deadline {
            let Some(live) = sender.as_mut() else {
                match connect(self.addr).await {
                    Ok(fresh) => sender = Some(fresh),
                    Err(e) => {
                        outcome.fail(e.to_string());
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                continue;
            };
            let sent = Instant::now();
            let result =
                tokio::time::timeout(self.timeout, self.once(live, token.as_deref(), turn)).await;
            turn += 1;
            let finished = Instant::now();
            if finished > deadline {
                break;
            }
            match result {
                Ok(Ok((status, length))) if status == self.target.expect => {
                    outcome.record(finished - sent);
                    outcome.bytes += length as u64;
                }
                Ok(Ok((status, _))) => outcome.fail(format!("answered {status}")),
                Ok(Err(e)) => {
                    sender = None;
                    outcome.fail(e.to_string());
                }
                Err(_) => {
                    sender = None;
                    outcome.fail(format!("no answer within {:?}", self.timeout));
                }
            }
        }
        Ok(outcome)
    }

    /// Sends exactly one request on each of `connections` fresh connections at once and waits
    /// for every answer (the concurrent-waiters scenario).
    pub async fn burst(self: Arc<Self>, connections: usize) -> anyhow::Result<Outcome> {
        let start = Instant::now();
        let mut senders = Vec::with_capacity(connections);
        for _ in 0..connections {
            senders.push(connect(self.addr).await);
        }
        let workers: Vec<_> = senders
            .into_iter()
            .enumerate()
            .map(|(i, sender)| {
                let load = Arc::clone(&self);
                tokio::spawn(async move {
                    let token = load.tokens.get(i % load.tokens.len().max(1)).cloned();
                    let sent = Instant::now();
                    let result = match sender {
                        Ok(mut sender) => tokio::time::timeout(
                            load.timeout,
                            load.once(&mut sender, token.as_deref(), i),
                        )
                        .await
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer in time"))),
                        Err(e) => Err(e),
                    };
                    (result, sent.elapsed())
                })
            })
            .collect();
        let mut outcome = Outcome::empty()?;
        for worker in workers {
            match worker.await? {
                (Ok((status, length)), took) if status == self.target.expect => {
                    outcome.record(took);
                    outcome.bytes += length as u64;
                }
                (Ok((status, _)), _) => outcome.fail(format!("answered {status}")),
                (Err(e), _) => outcome.fail(e.to_string()),
            }
        }
        outcome.elapsed = start.elapsed();
        Ok(outcome)
    }
}
