//! The process's metrics recorder (Prometheus text at `GET /metrics`). Counters are recorded
//! through the `metrics` facade wherever the event happens (ledger operations in persistence,
//! credits-service errors in its adapter, 402s here).

use std::sync::OnceLock;

use std::future::{Ready, ready};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpResponse, get, web};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use picture_persistence::Database;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the global recorder once per process and returns its handle (every server built
/// in the same process shares it).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let builder = match builder.set_buckets(&LATENCY_BUCKETS) {
                Ok(with_buckets) => with_buckets,
                Err(error) => {
                    tracing::warn!(%error, "histogram buckets refused; summaries instead");
                    PrometheusBuilder::new()
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics stays empty");
            }
            spawn_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Folds the samples the recorder keeps for each histogram into its buckets every
/// [`UPKEEP_INTERVAL`], on a thread of its own for the life of the process. Without it every
/// sample stays in memory until the next scrape: the load harness saw the server grow to 280 MiB
/// in three minutes of 60,000 requests a second with nobody scraping.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("picture-metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                handle.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the metrics upkeep thread; histograms grow until scraped");
    }
}

/// Histogram buckets (seconds) for every latency.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// `GET /metrics`: every metric in the Prometheus text format (the database pool's usage is
/// read at scrape time).
#[utoipa::path(tag = "health",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn render(
    handle: web::Data<PrometheusHandle>,
    database: web::Data<Database>,
) -> HttpResponse {
    let (in_use, idle, max) = database.pool_usage();
    metrics::gauge!("picture_db_pool_connections", "state" => "in_use").set(in_use as f64);
    metrics::gauge!("picture_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("picture_db_pool_max_connections").set(max as f64);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}

/// Middleware: counts and times every request by method, route pattern and status, and logs
/// one line per request (inside the request's span, so with its request id and user id).
pub struct RequestMetrics;

impl<S, B> Transform<S, ServiceRequest> for RequestMetrics
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = RequestMetricsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestMetricsService { service }))
    }
}

/// The service [`RequestMetrics`] wraps around the app.
pub struct RequestMetricsService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for RequestMetricsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let method = request.method().as_str().to_owned();
        let answer = self.service.call(request);
        Box::pin(async move {
            let response = answer.await?;
            let route = response
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned());
            let status = response.status().as_u16();
            let elapsed = started.elapsed();
            metrics::counter!(
                "picture_http_requests_total",
                "method" => method.clone(),
                "route" => route.clone(),
                "status" => status.to_string()
            )
            .increment(1);
            metrics::histogram!(
                "picture_http_request_duration_seconds",
                "method" => method.clone(),
                "route" => route.clone()
            )
            .record(elapsed.as_secs_f64());
            tracing::info!(
                http.method = %method,
                http.route = %route,
                http.status_code = status,
                duration_ms = elapsed.as_secs_f64() * 1000.0,
                "request finished"
            );
            Ok(response)
        })
    }
}
