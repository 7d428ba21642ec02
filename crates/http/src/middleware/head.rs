//! `HEAD` wherever `GET` is (RFC 9110, section 9.3.2: general-purpose servers must support
//! both). Monitors, link checkers, feed readers and `curl -I` ask with it. The request is
//! routed as a `GET`; the connection then sends the answer's status and headers, its
//! `Content-Length` and `ETag` included, without the body (actix-http omits the body of any
//! answer to a request that arrived as `HEAD`). The access log keeps the method as it arrived.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::Error;

/// Middleware: a `HEAD` request is served as the `GET` of the same resource.
pub async fn as_get(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if request.method() == Method::HEAD {
        request.head_mut().method = Method::GET;
    }
    next.call(request).await
}
