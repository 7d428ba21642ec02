//! Security headers on every response: an API's answers are data, never pages to sniff, frame
//! or refer from. The documentation pages (`/docs`) run Swagger UI's scripts, so they get no
//! `Content-Security-Policy` forbidding scripts.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;

const EVERY_RESPONSE: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    // Browsers heed it only over HTTPS, which is how production serves (TLS at the proxy).
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=63072000; includeSubDomains",
    ),
];

/// Nothing in an API response may load, run or frame anything.
const API_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Middleware: adds the headers a handler did not set itself.
pub async fn add(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let documentation = request.path().starts_with("/docs");
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    for (name, value) in EVERY_RESPONSE {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if !documentation && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_CONTENT_SECURITY_POLICY),
        );
    }
    Ok(response)
}
