//! A record's id from the path's `{id}` segment, typed: `IdPath<ChallengeId>` parses it (a value
//! that is not a UUID names no record: 404) and documents it in the spec as the path's `id`
//! (`params(IdPath<ChallengeId>)`), so that neither is written per handler.

use std::future::{ready, Ready};
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
use utoipa::openapi::{ObjectBuilder, Required};

use crate::problem::ApiError;

/// An id type and what its record is called in paths' documentation and errors: implemented
/// in its collection's folder (`resources/<collection>/mod.rs`).
pub trait RecordId: FromStr {
    /// "challenge": "no challenge has id ...", "The challenge's id".
    const RECORD: &'static str;

    /// The id a path segment holds: anything that is not a UUID names no record (404).
    fn from_path(text: &str) -> Result<Self, ApiError> {
        text.parse().map_err(|_| {
            ApiError::NotFound(format!(
                "no {} has id {text:?}: ids are UUIDs",
                Self::RECORD
            ))
        })
    }
}

/// The path's `{id}` as a `T`.
#[derive(Debug, Clone, Copy)]
pub struct IdPath<T>(pub T);

impl<T: RecordId> FromRequest for IdPath<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let text = request.match_info().get("id").unwrap_or_default();
        ready(T::from_path(text).map(IdPath))
    }
}

impl<T: RecordId> utoipa::IntoParams for IdPath<T> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name("id")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(format!("The {}'s id", T::RECORD)))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
            ))
            .build()]
    }
}
