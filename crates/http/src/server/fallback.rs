//! Requests that no handler took: 404 for an unknown path, 405 (with `Allow`) for a known path
//! with another method, both as problem+json rather than the framework's plain text; and
//! `OPTIONS` on a known path, answered with the methods it takes (RFC 9110, section 9.3.7).
//! A browser's CORS preflight never gets here: the CORS middleware answers it.

use actix_web::http::{header, Method};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::problem::ApiError;
use crate::server::openapi::RouteTable;

pub async fn unmatched(
    request: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    match routes.allowed_methods(request.path()) {
        Some(allowed) if request.method() == Method::OPTIONS => Ok(HttpResponse::NoContent()
            .insert_header((header::ALLOW, allowed.join(", ")))
            .finish()),
        Some(allowed) => Err(ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            allowed,
        }),
        None => {
            let path = request.path();
            // A path built by joining with a final `/` is a common slip: say where to go.
            let without_slash = path.trim_end_matches('/');
            let hint = match routes.allowed_methods(without_slash) {
                Some(_) if without_slash != path && !without_slash.is_empty() => {
                    format!(" (without the final /: {without_slash})")
                }
                _ => String::new(),
            };
            Err(ApiError::RouteNotFound(format!("{path}{hint}")))
        }
    }
}
