//! `DELETE /{collection}/{id}`, written once: check the caller may delete in the collection at
//! all, parse the id, find the record as the caller sees it (404 otherwise), check the caller may
//! delete this one, their `If-Match` and that its state lets it go, then delete it in one
//! transaction with its audit record (its last resource, for the feed's audience). What differs
//! between collections (who may delete, which states stay, what goes with the record, who
//! hears of it) is a [`Deletes`] implementation, on top of the collection's [`Readable`]; the
//! documented handler comes from [`delete_endpoint!`]. The calling module imports
//! `actix_web::delete`: utoipa recognises the route attribute by that name alone.

use actix_web::HttpResponse;
use catalyst_domain::{Actor, Audience};
use catalyst_persistence::{transaction, DbConnection};

use crate::auth::Caller;
use crate::extract::conditional::IfMatch;
use crate::extract::id_path::RecordId;
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::reads::Readable;
use crate::server::state::AppState;

/// A collection whose records are deleted by id.
pub trait Deletes: Readable {
    /// Whether the caller may delete in this collection at all, before the id is looked at
    /// (default: anyone signed in; the record decides the rest).
    fn may_delete_any(actor: &Actor) -> Result<(), ApiError> {
        Ok(actor.signed_in()?)
    }
    /// Whether the caller may delete the record they see (default: `may_delete_any` decided).
    fn may_delete(_actor: &Actor, _current: &Self::Found) -> Result<(), ApiError> {
        Ok(())
    }
    /// 409 for a record whose state keeps it on record (published, paid, submitted...).
    fn must_stay(_current: &Self::Found) -> Result<(), ApiError> {
        Ok(())
    }
    /// Who hears of the delete in the change feed: who could see the record.
    fn audience(current: &Self::Found) -> Audience;
    /// Deletes the row at the version found, and whatever goes with it (their own audit
    /// records included).
    fn delete_row(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: &Self::Found,
    ) -> Result<(), ApiError>;
}

/// Deletes the record named by `id`: 204.
pub async fn delete<D: Deletes>(
    request: &actix_web::HttpRequest,
    caller: Caller,
    id: &str,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    D::may_delete_any(caller.actor())?;
    let id = D::Id::from_path(id)?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let audit = AuditContext::of(&caller);
    let seen = D::seen(caller.actor());
    state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current = D::find(connection, id, &seen)?;
                D::may_delete(caller.actor(), &current)?;
                if_match.check(D::version(&current))?;
                D::must_stay(&current)?;
                D::delete_row(connection, &audit, &current)?;
                audit.deleted(
                    connection,
                    D::ENTITY,
                    id.to_string(),
                    D::version(&current),
                    D::audience(&current),
                    &D::resource(&current),
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A documented `DELETE /{collection}/{id}` handler for a [`Deletes`] collection: `forbidden`
/// documents a 403 beyond the usual, `refused` the 409 of a record that must stay.
macro_rules! delete_endpoint {
    (
        $(#[doc = $doc:tt])*
        $name:ident: $deletes:ty, $path:tt, tag = $tag:expr,
        missing = $missing:tt
        $(, forbidden = $forbidden:tt)? $(, refused = $refused:tt)?
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, security(("bearer" = [])),
            params($crate::extract::id_path::IdPath< <$deletes as $crate::resources::reads::Readable>::Id>,
                ("If-Match" = Option<String>, Header, description = "The ETag you read")),
            responses(
                (status = 204, description = "Deleted"),
                $((status = 403, description = $forbidden),)?
                (status = 404, description = $missing),
                $((status = 409, description = $refused),)?
            )
        )]
        #[delete($path)]
        pub async fn $name(
            request: actix_web::HttpRequest,
            caller: $crate::auth::Caller,
            state: actix_web::web::Data<$crate::server::state::AppState>,
        ) -> Result<actix_web::HttpResponse, $crate::problem::ApiError> {
            $crate::resources::deletes::delete::<$deletes>(&request, caller, request.match_info().query("id"), &state).await
        }
    };
}

pub(crate) use delete_endpoint;
