//! `POST /{collection}/{id}/transitions`, written once: every lifecycle move reads its body,
//! checks the caller is signed in, parses the id and the target status, finds the record as the
//! caller sees it, checks who may make this move and the caller's `If-Match`, then moves it in
//! one transaction with its audit record. What differs between collections (who may move it,
//! what else a move writes, what the answer carries) is a [`Moves`] implementation, on top of
//! the collection's [`Readable`].

use actix_web::{web, HttpRequest, HttpResponse};
use catalyst_domain::{Actor, FieldViolation, UnknownValue};
use catalyst_persistence::{transaction, DbConnection};
use serde::de::DeserializeOwned;

use crate::auth::Caller;
use crate::extract::body::{read_json, Accepts};
use crate::extract::conditional::IfMatch;
use crate::extract::id_path::RecordId;
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::reads::Readable;
use crate::server::state::AppState;

/// One collection's lifecycle moves, on top of how its records are found ([`Readable`]).
pub trait Moves: Readable {
    type Status: std::str::FromStr<Err = UnknownValue> + Copy + Send + 'static;
    /// The request body: `{"to": ...}`, and more where a move takes more.
    type Body: DeserializeOwned + Send + 'static;
    /// What the move returns to build the answer from.
    type Moved: Send + 'static;

    fn target(body: &Self::Body) -> &str;
    /// Whether the caller may make this move on the record they see.
    fn may_move(actor: &Actor, current: &Self::Found, to: Self::Status) -> Result<(), ApiError>;
    /// Makes the move under the lifecycle's rules, with its audit record and side effects.
    fn apply(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Self::Found,
        to: Self::Status,
        body: &Self::Body,
    ) -> Result<Self::Moved, ApiError>;
    fn respond(moved: Self::Moved) -> HttpResponse;
}

/// Moves the record the path's `{id}` names as the request asks.
pub async fn transition<M: Moves>(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: M::Body = read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    caller.actor().signed_in()?;
    let id = M::Id::from_path(request.match_info().query("id"))?;
    let if_match = IfMatch::from_headers(request.headers())?;
    let to: M::Status = M::target(&body).parse().map_err(|error: UnknownValue| {
        ApiError::Validation(FieldViolation::new("to", "invalid_value", error.to_string()).into())
    })?;
    let audit = AuditContext::of(&caller);
    let seen = M::seen(caller.actor());
    let moved = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let current = M::find(connection, id, &seen)?;
                M::may_move(caller.actor(), &current, to)?;
                if_match.check(M::version(&current))?;
                M::apply(connection, &audit, current, to, &body)
            })
        })
        .await?;
    Ok(M::respond(moved))
}

/// A documented `POST /{collection}/{id}/transitions` handler for a [`Moves`] collection: `body`
/// is its `Moves::Body`, `moved` and `resource` describe the answer, `refused` the 409.
macro_rules! transition_endpoint {
    (
        $(#[doc = $doc:tt])*
        $name:ident: $moves:ty, $path:tt, tag = $tag:expr, body = $body:ty,
        moved = $moved:tt, resource = $resource:ty, missing = $missing:tt, refused = $refused:tt
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, security(("bearer" = [])),
            params($crate::extract::id_path::IdPath< <$moves as $crate::resources::reads::Readable>::Id>,
                ("If-Match" = Option<String>, Header, description = "The ETag you read")),
            request_body(content = $body, content_type = "application/json"),
            responses(
                (status = 200, description = $moved, body = $resource),
                (status = 404, description = $missing),
                (status = 409, description = $refused),
            )
        )]
        #[post($path)]
        pub async fn $name(
            request: actix_web::HttpRequest,
            caller: $crate::auth::Caller,
            payload: actix_web::web::Payload,
            state: actix_web::web::Data<$crate::server::state::AppState>,
        ) -> Result<actix_web::HttpResponse, $crate::problem::ApiError> {
            $crate::resources::transitions::transition::<$moves>(request, caller, payload, state).await
        }
    };
}

pub(crate) use transition_endpoint;
