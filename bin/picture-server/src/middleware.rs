//! The middleware every request goes through, outermost first: tracing (the request id and
//! the request's span), request metrics, security headers, the docs page's CSP, the
//! `x-request-id` answer header, CORS, the per-IP limit, and the body deadline.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, Error, HttpMessage};
use tracing_actix_web::{RequestId, TracingLogger};

use crate::body_deadline::BodyDeadline;
use crate::ip_limit::IpLimiter;
use crate::telemetry::PictureRootSpan;

/// What the middleware needs, built once at start-up and cloned into each worker's app.
#[derive(Clone)]
pub struct Layers {
    /// The deadline of request bodies.
    pub body_deadline: BodyDeadline,
    /// The per-IP request limit.
    pub ip_limiter: IpLimiter,
    /// The origins CORS lets in.
    pub cors_origins: Vec<String>,
}

/// The docs page's policy: its own scripts, styles (Swagger UI sets some inline), images and
/// fonts, and requests back to this server only.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// A request let through (its pending answer) or refused by the IP limiter (its answer).
enum Gate<F> {
    Pass(F),
    Refused(ServiceResponse),
}

/// Headers every answer carries: no sniffing, no framing, no referrer, no caching of API
/// answers by shared caches unless a handler says otherwise.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add((
            "Content-Security-Policy",
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .add(("Cross-Origin-Resource-Policy", "cross-origin"))
}

/// Lets the listed origins in, with credentials, and shows the clients the headers they read.
fn cors(origins: &[String]) -> Cors {
    let origins = origins.to_vec();
    Cors::default()
        .allowed_origin_fn(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|o| origins.iter().any(|allowed| allowed == o))
        })
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allow_any_header()
        .expose_headers(["x-request-id", "retry-after", "x-next-cursor"])
        .supports_credentials()
        .block_on_origin_mismatch(false)
        .max_age(3600)
}

/// `app` with the whole stack around it.
pub fn wrap<T>(
    app: App<T>,
    layers: &Layers,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + use<T>>,
        Error = Error,
        InitError = (),
    > + use<T>,
>
where
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse,
            Error = Error,
            InitError = (),
        > + 'static,
{
    let ip_limiter = layers.ip_limiter.clone();
    app.wrap(layers.body_deadline)
        .wrap_fn(move |request, service| {
            let refused = ip_limiter.admit(&request).err();
            let answer = match refused {
                None => Gate::Pass(service.call(request)),
                Some(refused) => Gate::Refused(request.error_response(refused)),
            };
            async move {
                match answer {
                    Gate::Pass(response) => response.await.map(ServiceResponse::map_into_left_body),
                    Gate::Refused(refused) => Ok(refused.map_into_right_body()),
                }
            }
        })
        .wrap(cors(&layers.cors_origins))
        .wrap_fn(|request, service| {
            let request_id = request.extensions().get::<RequestId>().copied();
            let response = service.call(request);
            async move {
                let mut response = response.await?;
                if let Some(value) =
                    request_id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok())
                {
                    response
                        .headers_mut()
                        .insert(HeaderName::from_static("x-request-id"), value);
                }
                Ok(response)
            }
        })
        .wrap_fn(|request, service| {
            let docs = request.path().starts_with("/api/docs");
            let response = service.call(request);
            async move {
                let mut response = response.await?;
                if docs {
                    response.headers_mut().insert(
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static(DOCS_CSP),
                    );
                }
                Ok(response)
            }
        })
        .wrap(security_headers())
        .wrap(crate::metrics::RequestMetrics)
        .wrap(TracingLogger::<PictureRootSpan>::new())
}
