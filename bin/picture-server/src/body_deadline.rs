//! The request body's deadline (`REQUEST_BODY_TIMEOUT_SECS`): a body that has not fully arrived
//! within the timeout, counted from the moment its head was parsed (one deadline for the whole
//! body, not per chunk, so a client dripping a byte now and then cannot hold the connection
//! either), fails the request with 408 `request_timeout` and closes the connection.
//!
//! The deadline is only checked while a handler reads the body; a handler that answers without
//! reading it leaves the rest unread, and actix closes such a connection after the answer.

use std::cell::Cell;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpResponse};
use futures_core::Stream;
use tokio::time::{Instant, Sleep, sleep_until};

use crate::error::ApiError;

/// Middleware giving every request body `timeout` to arrive.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    timeout: Duration,
}

impl BodyDeadline {
    /// Bodies must arrive within `timeout` of their request's head.
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl<S, B> Transform<S, ServiceRequest> for BodyDeadline
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = BodyDeadlineService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(BodyDeadlineService {
            service,
            timeout: self.timeout,
        }))
    }
}

/// The service of [`BodyDeadline`].
pub struct BodyDeadlineService<S> {
    service: S,
    timeout: Duration,
}

type Answer<B> = Result<ServiceResponse<EitherBody<B>>, Error>;

impl<S, B> Service<ServiceRequest> for BodyDeadlineService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Answer<B>>>>;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let payload = request.take_payload();
        if matches!(payload, Payload::None) {
            request.set_payload(payload);
            let response = self.service.call(request);
            return Box::pin(
                async move { response.await.map(ServiceResponse::map_into_left_body) },
            );
        }
        let expired = Rc::new(Cell::new(false));
        let limited = DeadlineStream {
            inner: payload,
            deadline: Instant::now() + self.timeout,
            timer: None,
            expired: Rc::clone(&expired),
        };
        request.set_payload(Payload::Stream {
            payload: Box::pin(limited),
        });
        let response = self.service.call(request);
        Box::pin(async move {
            let response = response.await;
            if !expired.get() {
                return response.map(ServiceResponse::map_into_left_body);
            }
            metrics::counter!("picture_request_body_timeouts_total").increment(1);
            tracing::debug!("request body timed out");
            let request = match response {
                Ok(response) => response.into_parts().0,
                Err(_) => return Err(ApiError::RequestTimeout.into()),
            };
            let mut refusal = HttpResponse::from_error(ApiError::RequestTimeout);
            refusal
                .head_mut()
                .set_connection_type(ConnectionType::Close);
            Ok(ServiceResponse::new(request, refusal).map_into_right_body())
        })
    }
}

/// A request body that fails with a timeout once its deadline has passed.
struct DeadlineStream {
    inner: Payload,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for DeadlineStream {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired.get() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        this.expired.set(true);
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the request body did not arrive in time",
        )))))
    }
}
