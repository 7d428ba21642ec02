//! `GET /{collection}/{id}` and `GET /{collection}/{id}/history`, written once: check the
//! caller may read the collection at all, parse the id, find the record as the caller sees it
//! (404 otherwise), then answer it with its ETag (`middleware::conditional_get` answers `If-None-Match`) or page
//! through its audit trail. What differs between collections (who may read, how visibility is
//! worked out, how the record is found) is a [`Readable`] implementation (the record's ETag and
//! resource are its `Audited` impl's); the handlers
//! themselves, with their OpenAPI annotations, come from [`get_endpoint!`] and
//! [`history_endpoint!`]: `reader = CallerToken` checks the caller's token and loads the caller on
//! the hop that reads the record, `reader = Anyone` (public collections that everyone sees alike)
//! does not look at credentials. The calling module
//! imports `actix_web::get`: utoipa recognises the route attribute by that name alone.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use catalyst_domain::Actor;
use catalyst_persistence::DbConnection;

use crate::auth::Reader;
use crate::extract::id_path::RecordId;
use crate::problem::ApiError;
use crate::resources::audit::Audited;
use crate::resources::with_etag;
use crate::server::state::AppState;

/// A collection whose records are read by id.
pub trait Readable {
    type Id: RecordId + std::fmt::Display + Copy + Send + 'static;
    /// The caller's visibility, worked out before the blocking hop.
    type Seen: Send + 'static;
    /// The record as found.
    type Found: FoundRecord + Send + 'static;

    /// The audit trail's name for the collection: its record's.
    const ENTITY: &'static str = <Record<Self> as Audited>::ENTITY;

    /// Whether the caller may read this collection at all (public ones: anyone).
    fn may_read(actor: &Actor) -> Result<(), ApiError>;
    fn seen(actor: &Actor) -> Self::Seen;
    /// The record as the caller sees it: 404 when there is none or it is not theirs to see.
    fn find(
        connection: &mut DbConnection,
        id: Self::Id,
        seen: &Self::Seen,
    ) -> Result<Self::Found, ApiError>;
    /// Its version: the ETag.
    fn version(found: &Self::Found) -> i64 {
        found.record().audited_version()
    }
    /// What the API shows of it.
    fn resource(found: &Self::Found) -> Resource<Self> {
        Resource::<Self>::from(found.record())
    }
}

/// What a read finds: a record, or a record with what was read beside it (a phase with its
/// challenge, whose visibility it has); its ETag and its resource are the record's.
pub trait FoundRecord {
    type Record: Audited;
    fn record(&self) -> &Self::Record;
}

impl<T: Audited> FoundRecord for T {
    type Record = T;
    fn record(&self) -> &T {
        self
    }
}

impl<T: Audited, Beside> FoundRecord for (T, Beside) {
    type Record = T;
    fn record(&self) -> &T {
        &self.0
    }
}

/// The record a [`Readable`] collection finds.
pub type Record<R> = <<R as Readable>::Found as FoundRecord>::Record;

/// The resource a [`Readable`] collection shows for what it finds.
pub type Resource<R> = <Record<R> as Audited>::Resource;

/// The caller's own check for a public collection's [`Readable::may_read`].
pub fn anyone(_: &Actor) -> Result<(), ApiError> {
    Ok(())
}

/// The caller's check for a collection only people signed in may read.
pub fn signed_in(actor: &Actor) -> Result<(), ApiError> {
    Ok(actor.signed_in()?)
}

/// The caller, then the record as the caller sees it, on one blocking hop.
async fn find<R: Readable>(
    reader: impl Reader,
    id: &str,
    state: &AppState,
) -> Result<(R::Id, R::Found), ApiError> {
    let id = id.to_owned();
    state
        .with_connection(move |connection| {
            let actor = reader.load(connection)?;
            R::may_read(&actor)?;
            let id = R::Id::from_path(&id)?;
            let seen = R::seen(&actor);
            Ok((id, R::find(connection, id, &seen)?))
        })
        .await
}

/// `GET /{collection}/{id}`, with its ETag (`middleware::conditional_get` answers
/// `If-None-Match`).
pub async fn get<R: Readable>(
    reader: impl Reader,
    id: &str,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let (_, found) = find::<R>(reader, id, state).await?;
    Ok(with_etag(
        StatusCode::OK,
        R::version(&found),
        &R::resource(&found),
    ))
}

/// `GET /{collection}/{id}/history`: the record's audit trail, once the caller may see it.
pub async fn history<R: Readable>(
    request: &HttpRequest,
    reader: impl Reader,
    id: &str,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let (id, _) = find::<R>(reader, id, state).await?;
    crate::resources::audit::entity_history(request, state, R::ENTITY, id.to_string(), |_| Ok(()))
        .await
}

/// A documented `GET /{collection}/{id}` handler for a [`Readable`] collection.
macro_rules! get_endpoint {
    (
        $(#[doc = $doc:tt])*
        $name:ident: $readable:ty, $path:tt, tag = $tag:expr, reader = $reader:ident, $(security = $security:tt,)?
        found = $found:tt, body = $body:ty, missing = $missing:tt
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, $(security $security,)?
            params($crate::extract::id_path::IdPath< <$readable as $crate::resources::reads::Readable>::Id>),
            responses(
                (status = 200, description = $found, body = $body),
                (status = 404, description = $missing),
            )
        )]
        #[get($path)]
        pub async fn $name(
            request: actix_web::HttpRequest,
            reader: $crate::auth::$reader,
            state: actix_web::web::Data<$crate::server::state::AppState>,
        ) -> Result<actix_web::HttpResponse, $crate::problem::ApiError> {
            $crate::resources::reads::get::<$readable>(reader, request.match_info().query("id"), &state).await
        }
    };
}

/// A documented `GET /{collection}/{id}/history` handler for a [`Readable`] collection.
macro_rules! history_endpoint {
    (
        $(#[doc = $doc:tt])*
        $name:ident: $readable:ty, $path:tt, tag = $tag:expr, reader = $reader:ident, $(security = $security:tt,)?
        missing = $missing:tt
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, $(security $security,)?
            params($crate::extract::id_path::IdPath< <$readable as $crate::resources::reads::Readable>::Id>,
                ("limit" = Option<i64>, Query, minimum = 1, description = "Page size, default 50; above 500 reads as 500"),
                ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page")),
            responses(
                (status = 200, description = "Recorded changes", body = $crate::resources::audit::AuditList),
                (status = 404, description = $missing),
            )
        )]
        #[get($path)]
        pub async fn $name(
            request: actix_web::HttpRequest,
            reader: $crate::auth::$reader,
            state: actix_web::web::Data<$crate::server::state::AppState>,
        ) -> Result<actix_web::HttpResponse, $crate::problem::ApiError> {
            $crate::resources::reads::history::<$readable>(&request, reader, request.match_info().query("id"), &state).await
        }
    };
}

/// A documented `GET /{collection}/{id}/history` handler for a collection only admins read
/// (users, API clients): 403 for anyone else, and the trail stays readable once the record is
/// deleted (it is the record of who did what), so the record itself is not looked up.
macro_rules! admin_history_endpoint {
    (
        $(#[doc = $doc:tt])*
        $name:ident: $id:ty, $entity:expr, $path:tt, tag = $tag:expr, id = $id_doc:tt
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, security(("bearer" = [])),
            params(("id" = uuid::Uuid, Path, description = $id_doc),
                ("limit" = Option<i64>, Query, minimum = 1, description = "Page size, default 50; above 500 reads as 500"),
                ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page")),
            responses(
                (status = 200, description = "Recorded changes", body = $crate::resources::audit::AuditList),
                (status = 403, description = "Not an admin"),
            )
        )]
        #[get($path)]
        pub async fn $name(
            request: actix_web::HttpRequest,
            caller: $crate::auth::Caller,
            state: actix_web::web::Data<$crate::server::state::AppState>,
        ) -> Result<actix_web::HttpResponse, $crate::problem::ApiError> {
            caller.actor().may_administer()?;
            let id = <$id as $crate::extract::id_path::RecordId>::from_path(request.match_info().query("id"))?;
            $crate::resources::audit::entity_history(&request, &state, $entity, id.to_string(), |_| Ok(())).await
        }
    };
}

pub(crate) use admin_history_endpoint;
pub(crate) use get_endpoint;
pub(crate) use history_endpoint;
