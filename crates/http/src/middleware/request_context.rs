//! The request id and access log. Every response carries `X-Request-Id` (the client's own when it
//! sent a sensible one), every error body repeats it, and every request gets one log line.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What an error response needs to know about the request it answers.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub path: String,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The context of the request being served on this task, if any.
pub fn current() -> Option<RequestContext> {
    CONTEXT.try_with(Clone::clone).ok()
}

/// A client's id is kept when it is short printable ASCII; anything else is replaced, so a log
/// line can never be forged or bloated through it.
fn acceptable_client_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let acceptable =
        !text.is_empty() && text.len() <= 128 && text.bytes().all(|byte| byte.is_ascii_graphic());
    acceptable.then(|| text.to_owned())
}

/// Middleware: assigns the request id, runs the request inside its context, logs the outcome.
pub async fn track_request(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(acceptable_client_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = request.method().clone();
    let path = request.path().to_owned();
    let context = RequestContext {
        request_id: request_id.clone(),
        path: path.clone(),
    };
    let result = CONTEXT.scope(context, next.call(request)).await;
    let mut response = match result {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(%request_id, %method, %path, %error, "request failed before a response");
            return Err(error);
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    if path.starts_with("/api/") {
        // What an API response holds can depend on who asks: caches must key on the token.
        response.headers_mut().append(
            actix_web::http::header::VARY,
            HeaderValue::from_static("Authorization"),
        );
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(state) = response
        .request()
        .app_data::<actix_web::web::Data<crate::server::state::AppState>>()
    {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| crate::server::metrics::UNMATCHED_ROUTE.to_owned());
        state
            .metrics
            .observe(method.as_str(), &route, status, elapsed);
    }
    let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(%request_id, %method, %path, status, elapsed_ms, "request");
    } else {
        tracing::info!(%request_id, %method, %path, status, elapsed_ms, "request");
    }
    Ok(response)
}
