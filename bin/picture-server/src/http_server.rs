//! The HTTP server, assembled by hand from the parts actix-web's `HttpServer` assembles:
//! actix-server's accept loop and workers, actix-http's HTTP/1 service, the app. It exists for
//! one seam `HttpServer` lacks: `HttpServer::listen` hands actix-http the bare `TcpStream`,
//! while here each connection is wrapped in a [`GuardedStream`] first (see
//! [`crate::protocol_guard`]).
//!
//! Everything else is `HttpServer`'s: the same timeouts and defaults (keep-alive 5 s, 5 s for a
//! first request head, 1 s for a client to take a closing connection), graceful shutdown
//! (connections are told when the server stops; workers get the shutdown timeout), signals,
//! per-worker connection caps and the `on_connect` hook — except that a client closing its side
//! of the connection ends the connection at once (`h1_allow_half_closed(false)`): an idle event
//! stream whose client left is otherwise only noticed when a heartbeat write fails, up to two
//! heartbeats (30 s) later, and holds its place under `EVENT_STREAMS_PER_USER` until then.
//! Like `HttpServer::listen`, it speaks HTTP/1.x only (no h2c). The app's [`AppConfig`] is the
//! default one (`HttpServer` fills in the bound address, which `AppConfig` cannot be given from
//! outside actix-web); the app reads neither its host nor its address.

use std::any::Any;
use std::fmt;
use std::net::TcpListener;
use std::time::Duration;

use actix_http::body::MessageBody;
use actix_http::error::DispatchError;
use actix_http::{HttpService, Protocol, Request, Response};
use actix_service::{
    IntoServiceFactory, ServiceFactory, ServiceFactoryExt, fn_service, map_config,
};
use actix_web::dev::{AppConfig, Extensions, Server};
use actix_web::rt::net::TcpStream;

use crate::protocol_guard::GuardedStream;

/// Time for a first request head to arrive (`HttpServer`'s default).
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for a client to take a closing connection (`HttpServer`'s default); also the time a
/// refused connection gets to take its answer.
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How the server runs.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// Worker threads.
    pub workers: usize,
    /// Open connections per worker.
    pub max_connections_per_worker: usize,
    /// Time in-flight requests get when the server stops.
    pub shutdown_timeout: Duration,
}

/// Serves `app` on `listener` with each connection guarded; `on_connect` is called with each
/// accepted `TcpStream` and the connection's data, as `HttpServer::on_connect` would;
/// `on_stopping` once when a graceful stop begins (SIGTERM), before in-flight requests get the
/// shutdown timeout (open event streams end there, so they do not hold the stop up).
///
/// # Errors
/// When the listener cannot be set up.
pub fn serve<F, I, S, B, C>(
    listener: TcpListener,
    options: ServerOptions,
    on_connect: C,
    on_stopping: impl FnOnce() + Send + 'static,
    app: F,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as actix_service::Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
    C: Fn(&dyn Any, &mut Extensions) + Send + Sync + Clone + 'static,
{
    let local_addr = listener.local_addr()?;
    let builder = Server::build()
        .workers(options.workers)
        .max_concurrent_connections(options.max_connections_per_worker)
        .shutdown_timeout(options.shutdown_timeout.as_secs());
    let stopping = builder.graceful_shutdown_signal();
    let told = stopping.clone();
    tokio::spawn(async move {
        told.notified().await;
        on_stopping();
    });
    let builder = builder.listen("picture-http", listener, move || {
        let stopping = stopping.clone();
        let on_connect = on_connect.clone();
        let app = app()
            .into_factory()
            .map_err(|error| error.into().error_response());
        let http = HttpService::build()
            .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
            .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
            .h1_allow_half_closed(false)
            .local_addr(local_addr)
            .graceful_shutdown_signal(move || {
                let stopping = stopping.clone();
                async move { stopping.notified().await }
            })
            .on_connect_ext(move |io: &GuardedStream, data: &mut Extensions| {
                on_connect(io.get_ref(), data);
            })
            .finish(map_config(app, |()| AppConfig::default()));
        fn_service(|io: TcpStream| async move {
            let peer = io.peer_addr().ok();
            let guarded = GuardedStream::new(io, CLIENT_DISCONNECT_TIMEOUT);
            Ok::<_, DispatchError>((guarded, Protocol::Http1, peer))
        })
        .and_then(http)
    })?;
    Ok(builder.run())
}
