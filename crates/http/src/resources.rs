//! Small pieces every resource module uses: ids from paths, responses with ETags, and the
//! transition request body.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::conditional::etag;
use crate::problem::ApiError;

/// An id from a path segment; anything that is not a UUID names no resource.
pub fn path_id<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound(format!("no {what} has id {text:?}: ids are UUIDs")))
}

/// An id in a body member: a 422 naming the member when it is not a UUID.
pub fn field_id<T: std::str::FromStr>(text: &str, path: &str) -> Result<T, ApiError> {
    let mut errors = catalyst_domain::ValidationErrors::default();
    collect_field_id(text, path, &mut errors).ok_or_else(|| errors.into())
}

/// An id in a body member, recording a violation among others when it is not a UUID.
pub fn collect_field_id<T: std::str::FromStr>(
    text: &str,
    path: &str,
    errors: &mut catalyst_domain::ValidationErrors,
) -> Option<T> {
    let parsed = text.parse().ok();
    if parsed.is_none() {
        errors.push(catalyst_domain::FieldViolation::new(
            path,
            "invalid_id",
            format!("{path} must be a UUID"),
        ));
    }
    parsed
}

/// 200 (or another status) with the resource and its ETag.
pub fn with_etag<B: Serialize>(status: StatusCode, version: i64, body: &B) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// 201 with `Location` and `ETag`.
pub fn created<B: Serialize>(location: String, version: i64, body: &B) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// A request to move a resource to another status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "open"}))]
pub struct TransitionRequest {
    /// The status to move to.
    pub to: String,
}

/// A required member absent from a merge patch keeps its value; `null` is refused.
pub fn required_patch<T: Clone>(
    value: &Option<Option<T>>,
    current: &T,
    path: &str,
    errors: &mut catalyst_domain::ValidationErrors,
) -> T {
    match value {
        None => current.clone(),
        Some(Some(value)) => value.clone(),
        Some(None) => {
            errors.push(catalyst_domain::FieldViolation::new(
                path,
                "required",
                format!("{path} cannot be null: it is required"),
            ));
            current.clone()
        }
    }
}

/// An optional member: absent keeps, `null` clears, a value sets.
pub fn optional_patch<T: Clone>(value: &Option<Option<T>>, current: &Option<T>) -> Option<T> {
    match value {
        None => current.clone(),
        Some(value) => value.clone(),
    }
}

/// `Some(None)` for an explicit null, `None` (by `default`) for a missing member.
pub fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}
