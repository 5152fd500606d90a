//! A fake of Replicate's prediction API (create, read, cancel) and of its output delivery host,
//! answering the shapes of `replicate-api.md`. What it answers is switched per scenario.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;

/// How prediction creates are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// At once, `starting` (the server's async submit).
    Instant,
    /// After `delay`, `succeeded` with one output of the given size.
    Image {
        /// How long the prediction "runs" while the create call is held (`Prefer: wait`).
        delay: Duration,
        /// The 1 MB output instead of the small one.
        large: bool,
    },
}

const MODE_INSTANT: usize = 0;

/// The fake, running on the harness's runtime.
pub struct FakeProvider {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<State>,
}

struct State {
    addr: SocketAddr,
    mode: AtomicUsize,
    delay_ms: AtomicU64,
    created: AtomicU64,
    busy_nanos: AtomicU64,
    large: Bytes,
    small: Bytes,
}

/// A PNG of `side`×`side` RGBA noise (incompressible, so its size is about `side² × 4`).
pub fn noise_png(side: u32) -> anyhow::Result<Vec<u8>> {
    let mut pixels = vec![0_u8; (side * side * 4) as usize];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for byte in &mut pixels {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *byte = (x >> 24) as u8;
    }
    let mut out = Vec::with_capacity(pixels.len() + 4096);
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_compression(png::Compression::Fast);
    encoder
        .write_header()?
        .write_image_data(&pixels)
        .context("encoding the noise PNG")?;
    Ok(out)
}

impl FakeProvider {
    /// Starts listening on a free loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            addr,
            mode: AtomicUsize::new(MODE_INSTANT),
            delay_ms: AtomicU64::new(0),
            created: AtomicU64::new(0),
            busy_nanos: AtomicU64::new(0),
            large: Bytes::from(noise_png(512)?),
            small: Bytes::from(picture_offline::render_png("bench", Some(1), 64, 64)?),
        });
        let serving = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, Infallible>(state.answer(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, state })
    }

    /// Switches how creates are answered.
    pub fn set_mode(&self, mode: Mode) {
        match mode {
            Mode::Instant => self.state.mode.store(MODE_INSTANT, Ordering::SeqCst),
            Mode::Image { delay, large } => {
                let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
                self.state.delay_ms.store(millis, Ordering::SeqCst);
                self.state
                    .mode
                    .store(if large { 2 } else { 1 }, Ordering::SeqCst);
            }
        }
    }

    /// The size of the large output, in bytes.
    pub fn large_size(&self) -> usize {
        self.state.large.len()
    }

    /// Its base URL as the server's `REPLICATE_API_BASE_URL`.
    pub fn api_base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Predictions created so far.
    pub fn created(&self) -> u64 {
        self.state.created.load(Ordering::SeqCst)
    }

    /// Time spent inside its handlers so far (its own work, not the delays it was told to
    /// wait), and clears it.
    pub fn take_busy(&self) -> Duration {
        Duration::from_nanos(self.state.busy_nanos.swap(0, Ordering::SeqCst))
    }
}

fn respond(status: StatusCode, content_type: &str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

fn prediction(id: &str, status: &str, output: serde_json::Value) -> Bytes {
    Bytes::from(
        json!({"id": id, "model": "black-forest-labs/flux-schnell", "version": "bench",
               "status": status, "output": output, "error": null, "logs": "",
               "metrics": {"predict_time": 0.1}})
        .to_string(),
    )
}

impl State {
    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let _ = request.into_body().collect().await;
        let is_create =
            method == Method::POST && path.starts_with("/v1/") && path.ends_with("/predictions");
        let response = if is_create {
            self.create().await
        } else if method == Method::GET && path == "/delivery/large.png" {
            respond(StatusCode::OK, "image/png", self.large.clone())
        } else if method == Method::GET && path == "/delivery/small.png" {
            respond(StatusCode::OK, "image/png", self.small.clone())
        } else if let Some(id) = path.strip_prefix("/v1/predictions/") {
            let id = id.trim_end_matches("/cancel");
            let status = if path.ends_with("/cancel") {
                "canceled"
            } else {
                "processing"
            };
            respond(
                StatusCode::OK,
                "application/json",
                prediction(id, status, json!(null)),
            )
        } else {
            respond(
                StatusCode::NOT_FOUND,
                "application/json",
                Bytes::from_static(b"{}"),
            )
        };
        let mut busy = started.elapsed();
        if is_create && self.mode.load(Ordering::SeqCst) != MODE_INSTANT {
            busy = busy.saturating_sub(Duration::from_millis(self.delay_ms.load(Ordering::SeqCst)));
        }
        self.busy_nanos.fetch_add(
            u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
        response
    }

    async fn create(&self) -> Response<Full<Bytes>> {
        let n = self.created.fetch_add(1, Ordering::SeqCst);
        let id = format!("bench{n}");
        let mode = self.mode.load(Ordering::SeqCst);
        if mode == MODE_INSTANT {
            return respond(
                StatusCode::CREATED,
                "application/json",
                prediction(&id, "starting", json!(null)),
            );
        }
        tokio::time::sleep(Duration::from_millis(self.delay_ms.load(Ordering::SeqCst))).await;
        let file = if mode == 2 { "large" } else { "small" };
        let output = json!([format!("http://{}/delivery/{file}.png", self.addr)]);
        respond(
            StatusCode::CREATED,
            "application/json",
            prediction(&id, "succeeded", output),
        )
    }
}
