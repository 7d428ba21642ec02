//! `PATCH /{collection}/{id}`, written once: every update reads its JSON Merge Patch body,
//! checks the caller may change the collection at all, reads `If-Match`, then in one
//! transaction finds the record as the caller sees it, applies the patch (who may change what,
//! every violation at once), checks the precondition (after validation: a request wrong in
//! itself hears that first, not 412) and writes the new version with its audit record. What
//! differs between collections is an [`Updates`] implementation, on top of the collection's
//! [`Readable`].

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use catalyst_domain::Actor;
use catalyst_persistence::{transaction, DbConnection};
use serde::de::DeserializeOwned;

use crate::auth::Caller;
use crate::extract::body::{read_json, Accepts};
use crate::extract::conditional::IfMatch;
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::reads::Readable;
use crate::resources::with_etag;
use crate::server::state::AppState;

/// One collection's updates, on top of how its records are found ([`Readable`]).
pub trait Updates: Readable {
    /// The merge-patch body.
    type Patch: DeserializeOwned + Send + 'static;
    /// The patch applied and checked, ready to write.
    type Change;

    /// Whether the caller may change records of this collection at all, before any is read.
    fn may_update_any(actor: &Actor) -> Result<(), ApiError> {
        Ok(actor.signed_in()?)
    }
    /// The record as the patch leaves it: who may make this change to the record they see,
    /// then every violation at once.
    fn patched(
        connection: &mut DbConnection,
        actor: &Actor,
        current: &Self::Found,
        patch: Self::Patch,
    ) -> Result<Self::Change, ApiError>;
    /// Writes the change over the version found (nothing when it changes nothing), with its
    /// audit record and change; answers the record as it now is.
    fn write(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Self::Found,
        change: Self::Change,
    ) -> Result<Self::Found, ApiError>;
}

/// Updates the record `id` names as the request's patch asks: 200 with the record and its ETag.
pub async fn update<U: Updates>(
    request: HttpRequest,
    caller: Caller,
    id: U::Id,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let patch: U::Patch =
        read_json(&request, payload, state.body_limit, Accepts::MergePatch).await?;
    U::may_update_any(caller.actor())?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let audit = AuditContext::of(&caller);
    let seen = U::seen(caller.actor());
    let updated = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current = U::find(connection, id, &seen)?;
                let change = U::patched(connection, caller.actor(), &current, patch)?;
                if_match.check(U::version(&current))?;
                U::write(connection, &audit, current, change)
            })
        })
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        U::version(&updated),
        &U::resource(&updated),
    ))
}

/// A documented `PATCH /{collection}/{id}` handler for an [`Updates`] collection: `refused`
/// documents the 409 of a change the record's state refuses.
macro_rules! update_endpoint {
    (
        $(#[doc = $doc:tt])*
        $name:ident: $updates:ty, $path:tt, tag = $tag:expr, patch = $patch:ty,
        updated = $updated:tt, body = $body:ty, missing = $missing:tt $(, refused = $refused:tt)?
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, security(("bearer" = [])),
            params($crate::extract::id_path::IdPath< <$updates as $crate::resources::reads::Readable>::Id>,
                ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if it has changed since")),
            request_body(content = $patch, content_type = "application/merge-patch+json"),
            responses(
                (status = 200, description = $updated, body = $body),
                (status = 404, description = $missing),
                $((status = 409, description = $refused),)?
            )
        )]
        #[patch($path)]
        pub async fn $name(
            request: actix_web::HttpRequest,
            caller: $crate::auth::Caller,
            $crate::extract::id_path::IdPath(id): $crate::extract::id_path::IdPath<
                <$updates as $crate::resources::reads::Readable>::Id,
            >,
            payload: actix_web::web::Payload,
            state: actix_web::web::Data<$crate::server::state::AppState>,
        ) -> Result<actix_web::HttpResponse, $crate::problem::ApiError> {
            $crate::resources::updates::update::<$updates>(request, caller, id, payload, state).await
        }
    };
}

pub(crate) use update_endpoint;
