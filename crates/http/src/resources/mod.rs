//! The API's collections, a module each: its routes and handlers (its shapes are catalyst_api's,
//! re-exported). Beside them, what they share: reads, updates, transitions and deletes written
//! once ([`reads`], [`updates`], [`transitions`], [`deletes`]), partner keys and upserts in
//! [`upsert`], the audit trail in [`audit`], and here, responses with ETags, ids in bodies and
//! the store-error mapping.

pub mod api_clients;
pub mod applications;
pub mod audit;
pub mod awards;
pub mod challenges;
pub mod contacts;
pub mod creates;
pub mod deletes;
pub mod imports;
pub mod milestones;
pub mod organisations;
pub mod outcomes;
pub mod phases;
pub mod programmes;
pub mod reads;
pub mod transitions;
pub mod trials;
pub mod updates;
pub mod upsert;
pub mod users;
pub mod webhooks;

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde::Serialize;

use crate::extract::conditional::etag;
use catalyst_domain::FieldViolation;
use catalyst_persistence::StoreError;

use crate::problem::{ApiError, ProblemItem};

// The body shapes' helpers live with the shapes (catalyst_api); handlers name them from here.
pub use catalyst_api::{
    collect_field_id, external_id_bodies, external_ids, optional_patch, parent_id,
    patched_external_ids, present, required_patch, ExternalIdBody, TransitionRequest,
};

/// An id in a body member: a 422 naming the member when it is not a UUID.
pub fn field_id<T: std::str::FromStr>(text: &str, path: &str) -> Result<T, ApiError> {
    let mut errors = catalyst_domain::ValidationErrors::default();
    collect_field_id(text, path, &mut errors).ok_or_else(|| errors.into())
}

/// 200 (or another status) with the resource and its ETag.
pub fn with_etag<B: Serialize>(status: StatusCode, version: i64, body: &B) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// 200 with a record as it now is: its `ETag` and representation.
pub fn current_record<R: audit::Audited>(record: &R) -> HttpResponse {
    with_etag(
        StatusCode::OK,
        record.audited_version(),
        &R::Resource::from(record),
    )
}

/// 201 for a record just made: `Location` (`/api/v1/{collection}/{id}`), `ETag` and its
/// representation.
pub fn created_record<R: audit::Audited>(record: &R) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/{}/{}", R::ENTITY, record.audited_id()),
        ))
        .insert_header((header::ETAG, etag(record.audited_version())))
        .json(R::Resource::from(record))
}

/// The `{source}/{id}` of a `by-external-id` path, checked.
pub fn external_key(source: &str, key: &str) -> Result<catalyst_domain::ExternalId, ApiError> {
    let mut errors = catalyst_domain::ValidationErrors::default();
    let source_ok = catalyst_domain::external_id::validate_source(source, "source", &mut errors);
    let key_ok = catalyst_domain::external_id::validate_key(key, "id", &mut errors);
    if source_ok && key_ok {
        Ok(catalyst_domain::ExternalId {
            source: source.to_owned(),
            id: key.to_owned(),
        })
    } else {
        Err(ApiError::InvalidPathParameter(
            errors
                .violations()
                .iter()
                .map(|violation| violation.detail.clone())
                .collect::<Vec<_>>()
                .join("; "),
        ))
    }
}

/// How a collection's store errors read to its clients: the one mapping, and each collection's
/// words for it (its record's name, its own unique rule, what a foreign key means to it).
pub struct StoreErrors {
    /// "challenge", as in "no such challenge".
    pub record: &'static str,
    /// The collection's own unique rule, if any (external ids are every collection's).
    pub duplicate: Option<UniqueMember>,
    pub foreign_key: ForeignKey,
}

/// A member that must be unique, and how a conflict on it is explained.
pub struct UniqueMember {
    pub member: &'static str,
    pub detail: &'static str,
}

/// What a foreign-key failure means for a collection.
pub enum ForeignKey {
    /// The database's own error (nothing refers to these records).
    Unexpected,
    /// Other records still refer to this one: a delete is a 409 `referenced`.
    Referenced(&'static str),
    /// A referenced record in the body does not exist: a 422 on this member.
    Missing {
        member: &'static str,
        detail: &'static str,
    },
}

impl StoreErrors {
    pub fn map(&self, error: StoreError) -> ApiError {
        let record = self.record;
        match (error, &self.duplicate, &self.foreign_key) {
            (StoreError::NotFound, _, _) => ApiError::NotFound(format!("no such {record}")),
            (
                StoreError::Duplicate {
                    constraint: catalyst_persistence::external_ids::UNIQUE_CONSTRAINT,
                },
                _,
                _,
            ) => duplicate_external_id(record),
            (StoreError::Duplicate { .. }, Some(unique), _) => ApiError::Conflict(ProblemItem {
                pointer: Some(format!("#/{}", unique.member)),
                parameter: None,
                code: "duplicate".to_owned(),
                detail: unique.detail.to_owned(),
            }),
            (StoreError::VersionMismatch { current }, _, _) => ApiError::PreconditionFailed(
                format!("the {record} changed meanwhile: its current version is {current}"),
            ),
            (StoreError::ForeignKey, _, ForeignKey::Referenced(detail)) => {
                ApiError::Conflict(ProblemItem {
                    pointer: None,
                    parameter: None,
                    code: "referenced".to_owned(),
                    detail: (*detail).to_owned(),
                })
            }
            (StoreError::ForeignKey, _, ForeignKey::Missing { member, detail }) => {
                ApiError::Validation(FieldViolation::new(member, "not_found", *detail).into())
            }
            (other, _, _) => other.into(),
        }
    }
}

/// The conflict of an external id that names another record already (`record`: "organisation").
pub fn duplicate_external_id(record: &str) -> ApiError {
    ApiError::Conflict(ProblemItem {
        pointer: Some("#/external_ids".to_owned()),
        parameter: None,
        code: "duplicate".to_owned(),
        detail: format!("another {record} already has this external id"),
    })
}

/// [`patched_external_ids`], then every violation of the patch so far (its fields' and its
/// keys') at once.
pub fn checked_patch_keys(
    patch: &Option<Option<Vec<ExternalIdBody>>>,
    current: &[catalyst_domain::ExternalId],
    mut errors: catalyst_domain::ValidationErrors,
) -> Result<Vec<catalyst_domain::ExternalId>, ApiError> {
    let keys = patched_external_ids(patch, current, &mut errors);
    Ok(errors.into_result(keys)?)
}
