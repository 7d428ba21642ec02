//! `POST /{collection}` and `POST /{parent}/{id}/{collection}`, written once: every create
//! reads its JSON body, checks it (who may create, then what the body alone shows, in the order
//! the collection needs), then in one transaction writes the record with its audit record, and
//! answers 201 with the record's URL, ETag and representation. What differs between
//! collections is a [`Creates`] implementation; [`create_endpoint!`] writes the handler and its
//! OpenAPI annotation. Organisations, challenges, users, API clients and webhooks keep their own
//! (idempotent retries, totals, a secret shown once). The calling module imports
//! `actix_web::post`: utoipa recognises the route attribute by that name alone.

use actix_web::{web, HttpRequest, HttpResponse};
use catalyst_domain::Actor;
use catalyst_persistence::{transaction, DbConnection};
use serde::de::DeserializeOwned;

use crate::auth::Caller;
use crate::extract::body::{read_json, Accepts};
use crate::problem::ApiError;
use crate::resources::audit::{AuditContext, Audited};
use crate::resources::created_record;
use crate::server::state::AppState;

/// One collection's creates.
pub trait Creates: Audited + Send + Sized + 'static {
    /// The id of the record the path creates under (`()` for a top-level collection).
    type Parent: Copy + Send + 'static;
    /// The request body.
    type Body: DeserializeOwned + Send + 'static;
    /// The body checked, ready to write.
    type Checked: Send + 'static;

    /// Who may create, and what the body alone shows: every check made before the database is
    /// read, in the collection's order.
    fn checked(
        actor: &Actor,
        parent: Self::Parent,
        body: Self::Body,
    ) -> Result<Self::Checked, ApiError>;

    /// Writes the record (under every rule that needs the database) with its audit record and
    /// change, in the request's transaction.
    fn insert(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        checked: Self::Checked,
    ) -> Result<Self, ApiError>;
}

/// Creates a record as the request asks: 201 with its `Location`, `ETag` and representation.
pub async fn create<C: Creates>(
    request: HttpRequest,
    caller: Caller,
    parent: C::Parent,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: C::Body = read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    let checked = C::checked(caller.actor(), parent, body)?;
    let audit = AuditContext::of(&caller);
    let record = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                C::insert(connection, caller.actor(), &audit, checked)
            })
        })
        .await?;
    Ok(created_record(&record))
}

/// A documented create handler for a [`Creates`] collection: `under` names the parent's id
/// type for a path with `{id}`; `errors` are the responses besides 201 (the standard problems
/// are added in one place).
macro_rules! create_endpoint {
    (
        $(#[doc = $doc:tt])*
        $name:ident: $record:ty, $path:tt, $(under $parent:ty,)? tag = $tag:expr, body = $body:ty,
        created = $created:tt, resource = $resource:ty, location = $location:tt
        $(, errors = [$($error:tt),* $(,)?])?
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, security(("bearer" = [])),
            $(params($crate::extract::id_path::IdPath<$parent>),)?
            request_body(content = $body, content_type = "application/json"),
            responses(
                (status = 201, description = $created, body = $resource, headers(
                    ("Location" = String, description = $location), ("ETag" = String, description = "Its entity tag"))),
                $($($error,)*)?
            )
        )]
        #[post($path)]
        pub async fn $name(
            request: actix_web::HttpRequest,
            caller: $crate::auth::Caller,
            $(parent: $crate::extract::id_path::IdPath<$parent>,)?
            payload: actix_web::web::Payload,
            state: actix_web::web::Data<$crate::server::state::AppState>,
        ) -> Result<actix_web::HttpResponse, $crate::problem::ApiError> {
            $crate::resources::creates::create::<$record>(
                request,
                caller,
                $crate::resources::creates::create_endpoint!(@parent $(parent: $parent)?),
                payload,
                state,
            )
            .await
        }
    };
    (@parent $value:ident: $parent:ty) => { $value.0 };
    (@parent) => { () };
}

pub(crate) use create_endpoint;
