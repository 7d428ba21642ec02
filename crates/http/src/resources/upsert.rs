//! Records keyed by partners' own ids: `GET` and `PUT /api/v1/{collection}/by-external-id/
//! {source}/{id}`, and the rows of bulk imports. One path for every collection, so that a PUT,
//! an import row and a `POST` obey the same rules.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use catalyst_domain::{Actor, ExternalId, ValidationErrors};
use catalyst_persistence::{transaction, DbConnection};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::Caller;
use crate::extract::body::{read_json, Accepts};
use crate::extract::conditional::{check_if_none_match_syntax, if_none_match_matches, IfMatch};
use crate::problem::ApiError;
use crate::resources::audit::{AuditContext, Audited};
use crate::resources::external_key;
use crate::server::state::AppState;
use crate::workers::import_engine::Applied;

/// What saving a whole record came to.
pub(crate) enum Saved<T> {
    Created(T),
    Updated(T),
    Unchanged(T),
}

impl<T> Saved<T> {
    pub(crate) fn record(self) -> T {
        match self {
            Saved::Created(record) | Saved::Updated(record) | Saved::Unchanged(record) => record,
        }
    }
}

/// A representation ready to send: its entity tag and its JSON.
pub(crate) struct Reply {
    pub etag: String,
    pub json: String,
}

impl Reply {
    /// The resource at `version`, tagged with it.
    pub(crate) fn of<R: Serialize>(version: i64, resource: &R) -> Result<Self, ApiError> {
        Ok(Self {
            etag: crate::extract::conditional::etag(version),
            json: serde_json::to_string(resource).map_err(|_| ApiError::Internal)?,
        })
    }

    fn respond(self, status: StatusCode) -> HttpResponse {
        HttpResponse::build(status)
            .insert_header((header::ETAG, self.etag))
            .content_type("application/json")
            .body(self.json)
    }
}

/// A collection whose records partners key by their own ids.
/// Its URL segment and its name in the change feed are its `Audited::ENTITY`; its id, version
/// and representation are its record's.
pub(crate) trait Keyed: Audited + Sized + Send + 'static {
    /// One record, in messages ("an award").
    const NOUN: &'static str;
    /// Whether no record of the collection is public, so that reading one needs a token (401
    /// without one) rather than answering 404 to anonymous callers.
    const PRIVATE: bool = false;
    /// A whole record as a partner sends it (what `POST` takes, with the parent's id).
    type Body: DeserializeOwned + Send + 'static;
    /// The body checked on its own, before any record is read.
    type Checked: Send + 'static;

    fn external_ids(&self) -> &[ExternalId];

    /// Checks what the body alone can show; its external ids come back apart.
    fn check(body: Self::Body) -> Result<(Self::Checked, Vec<ExternalId>), ApiError>;

    /// The record `key` names if `actor` may see it; `Ok(None)` if none has the key.
    fn find_by_key(
        connection: &mut DbConnection,
        key: &ExternalId,
        actor: &Actor,
    ) -> Result<Option<Self>, ApiError>;

    /// Creates the record (`existing` is `None`) or replaces its fields, under every rule that
    /// `POST` and `PATCH` apply, with its audit record and change.
    fn save(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        existing: Option<Self>,
        checked: Self::Checked,
        external_ids: Vec<ExternalId>,
    ) -> Result<Saved<Self>, ApiError>;

    /// Its representation.
    fn reply(&self, _connection: &mut DbConnection) -> Result<Reply, ApiError> {
        Reply::of(self.audited_version(), &Self::Resource::from(self))
    }
}

/// `Keyed::external_ids` for a domain record (its `external_ids` field).
#[macro_export]
macro_rules! keyed_record_fields {
    () => {
        fn external_ids(&self) -> &[catalyst_domain::ExternalId] {
            &self.external_ids
        }
    };
}

/// A collection whose import rows may name a record by its `id`, as its CSV export writes it:
/// a spreadsheet exported, edited and imported updates the records it came from.
pub(crate) trait FoundById: Keyed {
    /// The record with this id if `actor` may see it; `Ok(None)` if there is none it may see.
    fn find_by_id(
        connection: &mut DbConnection,
        id: &str,
        actor: &Actor,
    ) -> Result<Option<Self>, ApiError>;
}

/// `FoundById` for a record: `$find` looks the parsed id up (`found` maps not-found to none).
#[macro_export]
macro_rules! found_by_id {
    ($record:ty, |$connection:ident, $id:ident, $actor:ident| $find:expr) => {
        impl $crate::resources::upsert::FoundById for $record {
            fn find_by_id(
                $connection: &mut catalyst_persistence::DbConnection,
                id: &str,
                $actor: &catalyst_domain::Actor,
            ) -> Result<Option<Self>, $crate::problem::ApiError> {
                let $id = $crate::resources::upsert::row_id(id)?;
                $crate::resources::upsert::found($find)
            }
        }
    };
}

/// An import row's `id`, as the id type it names.
pub(crate) fn row_id<I: std::str::FromStr>(id: &str) -> Result<I, ApiError> {
    id.trim().parse().map_err(|_| {
        ApiError::invalid_member(
            "#/id",
            "invalid_id",
            format!("id must be a UUID, got {id:?}"),
        )
    })
}

/// `find_by_key`'s answer from a lookup by key and a check that the caller may see the record
/// (which fails for one it may not: then the key is unknown to it, 404).
pub(crate) fn found_visible<T: Keyed, E>(
    lookup: Result<T, catalyst_persistence::StoreError>,
    key: &ExternalId,
    visible: impl FnOnce(T) -> Result<T, E>,
) -> Result<Option<T>, ApiError> {
    match found(lookup)? {
        Some(record) => visible(record).map(Some).map_err(|_| unknown_key::<T>(key)),
        None => Ok(None),
    }
}

/// 404 for a key that names no record the caller may see.
pub(crate) fn unknown_key<T: Keyed>(key: &ExternalId) -> ApiError {
    ApiError::NotFound(format!(
        "no {} you may see is known to {} as {:?}",
        T::NOUN,
        key.source,
        key.id
    ))
}

/// `GET .../by-external-id/{source}/{id}`.
pub(crate) async fn get<T: Keyed>(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if T::PRIVATE {
        caller.actor().signed_in()?;
    }
    let (source, key) = path.into_inner();
    let key = external_key(&source, &key)?;
    let reply = state
        .with_connection(move |connection| {
            T::find_by_key(connection, &key, caller.actor())?
                .ok_or_else(|| unknown_key::<T>(&key))?
                .reply(connection)
        })
        .await?;
    Ok(reply.respond(StatusCode::OK))
}

/// `PUT .../by-external-id/{source}/{id}`: 201 with a new record, 200 with a replaced (or
/// unchanged) one. `If-None-Match: *` creates only; `If-Match` replaces only that version.
pub(crate) async fn put<T: Keyed>(
    request: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (source, key) = path.into_inner();
    let key = external_key(&source, &key)?;
    let body: T::Body = read_json(&request, payload, state.body_limit, Accepts::Json).await?;
    caller.actor().signed_in()?;
    let (checked, external_ids) = T::check(body)?;
    let external_ids = catalyst_domain::external_id::with_key(external_ids, &key)
        .map_err(ValidationErrors::from)?;
    let if_match = IfMatch::from_headers(request.headers())?;
    check_if_none_match_syntax(request.headers())?;
    let headers = request.headers().clone();
    let audit = AuditContext::of(&caller);
    let (saved, reply) = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                let existing = T::find_by_key(connection, &key, caller.actor())?;
                match &existing {
                    Some(current) => {
                        if if_none_match_matches(&headers, current.audited_version())? {
                            return Err(ApiError::PreconditionFailed(format!(
                                "{} {:?} is {} already (If-None-Match: *)",
                                key.source,
                                key.id,
                                T::NOUN
                            )));
                        }
                        if_match.check(current.audited_version())?;
                    }
                    None if if_match.is_present() => {
                        return Err(ApiError::PreconditionFailed(format!(
                            "no {} is known to {} as {:?} (If-Match)",
                            T::NOUN,
                            key.source,
                            key.id
                        )))
                    }
                    None => {}
                }
                let saved = T::save(
                    connection,
                    caller.actor(),
                    &audit,
                    existing,
                    checked,
                    external_ids,
                )?;
                let created = matches!(saved, Saved::Created(_));
                let record = saved.record();
                let reply = record.reply(connection)?;
                Ok(((created, record.audited_id()), reply))
            })
        })
        .await?;
    let (created, id) = saved;
    if !created {
        return Ok(reply.respond(StatusCode::OK));
    }
    let mut response = reply.respond(StatusCode::CREATED);
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/{}/{id}", T::ENTITY))
            .map_err(|_| ApiError::Internal)?,
    );
    Ok(response)
}

/// An import row checked on its own, before any record is read.
pub(crate) struct ImportRow<T: Keyed> {
    /// The record the row names by its id (a CSV export read back), if it does.
    pub id: Option<String>,
    pub checked: T::Checked,
    pub external_ids: Vec<ExternalId>,
}

impl<T: FoundById> ImportRow<T> {
    /// Reads and checks a row's body.
    pub(crate) fn checked(mut body: serde_json::Value) -> Result<Self, ApiError> {
        let id = match body
            .as_object_mut()
            .and_then(|members| members.remove("id"))
        {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(id)) => Some(id),
            Some(_) => {
                return Err(ApiError::invalid_member(
                    "#/id",
                    "invalid_id",
                    "id must be a UUID, as a string",
                ))
            }
        };
        let body: T::Body = crate::extract::body::from_value(body)?;
        let (checked, external_ids) = T::check(body)?;
        Ok(Self {
            id,
            checked,
            external_ids,
        })
    }

    /// Creates the record, or updates the one its id or one of its keys names.
    pub(crate) fn write(
        self,
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
    ) -> Result<Applied, ApiError> {
        let mut existing = None;
        if let Some(id) = &self.id {
            match T::find_by_id(connection, id, actor)? {
                Some(record) => existing = Some(record),
                None => {
                    return Err(ApiError::invalid_member(
                        "#/id",
                        "not_found",
                        format!("no {} you may see has the id {id}", T::NOUN),
                    ))
                }
            }
        }
        for key in self.external_ids.iter().filter(|_| existing.is_none()) {
            if let Some(found) = T::find_by_key(connection, key, actor)? {
                existing = Some(found);
                break;
            }
        }
        // The row's keys win for its sources; the record keeps its other sources' keys.
        let external_ids = match &existing {
            Some(current) => {
                catalyst_domain::external_id::merged(current.external_ids(), &self.external_ids)
                    .map_err(ValidationErrors::from)?
            }
            None => self.external_ids,
        };
        Ok(
            match T::save(
                connection,
                actor,
                audit,
                existing,
                self.checked,
                external_ids,
            )? {
                Saved::Created(record) => Applied::Created(record.audited_id()),
                Saved::Updated(record) => Applied::Updated(record.audited_id()),
                Saved::Unchanged(record) => Applied::Unchanged(record.audited_id()),
            },
        )
    }
}

/// A collection whose new records can be made before any of them is written, so that an
/// import writes its new rows many to a statement (with their keys, audit records and
/// changes) instead of one at a time.
pub(crate) trait CreatedInBulk:
    FoundById<Checked: Clone> + crate::resources::audit::OwnAudience
{
    /// The new record, after every check that `save` makes of a create (who may create one,
    /// whether what it names exists: reads only); the database's own rules (unique keys) are
    /// left to `insert_all`, which fails as a whole.
    fn new_record(
        connection: &mut DbConnection,
        actor: &Actor,
        checked: Self::Checked,
        external_ids: Vec<ExternalId>,
    ) -> Result<Self, ApiError>;

    /// Stores new records and their keys in multi-row statements, with whatever else their
    /// creation changes; fails as a whole (the rows are then written one at a time).
    fn insert_all(connection: &mut DbConnection, records: &[Self]) -> Result<(), ApiError>;

    /// Whether this new record's checks read what a gathered one (made before it in the batch,
    /// not yet written) would write: then those are written first, and this row alone.
    fn reads_gathered(&self, _gathered: &[Self]) -> bool {
        false
    }
}

/// Generates the two documented handlers of a `Keyed` collection, which delegate to `get` and
/// `put` (utoipa documents each operation from its own function). The calling module imports
/// actix-web's `get` and `put`, which utoipa recognises by name.
#[macro_export]
macro_rules! by_external_id_handlers {
    (
        record: $record:ty, body: $body:ty, resource: $resource:ty, path: $path:tt,
        get_security: ($($get_security:tt)*),
        get: $get:ident, $get_doc:tt,
        put: $put:ident, $put_doc:tt
    ) => {
        #[doc = $get_doc]
        #[utoipa::path(
            tag = TAG, security($($get_security)*),
            params(
                ("source" = String, Path, description = "The partner system, such as `leeds-housing-crm`"),
                ("id" = String, Path, description = "Its key for the record"),
            ),
            responses(
                (status = 200, description = "Found", body = $resource),
                (status = 400, description = "A malformed source or key"),
                (status = 401, description = "No valid access token (always needed for private records)"),
                (status = 404, description = "No record you may see has this key"),
            )
        )]
        #[get($path)]
        pub async fn $get(
            caller: $crate::auth::Caller,
            path: actix_web::web::Path<(String, String)>,
            state: actix_web::web::Data<$crate::server::state::AppState>,
        ) -> Result<actix_web::HttpResponse, $crate::problem::ApiError> {
            $crate::resources::upsert::get::<$record>(caller, path, state).await
        }

        #[doc = $put_doc]
        #[doc = ""]
        #[doc = "An idempotent upsert for syncs: the body is a whole record, as for `POST`, with its parent's id. If no record has this key, one is created with it (201); otherwise its fields are replaced (200; the same fields change nothing), under the rules of `PATCH`. `If-None-Match: *` creates only, `If-Match` replaces only that version."]
        #[utoipa::path(
            tag = TAG, security(("bearer" = [])),
            params(
                ("source" = String, Path, description = "The partner system, such as `leeds-housing-crm`"),
                ("id" = String, Path, description = "Its key for the record"),
                ("If-Match" = Option<String>, Header, description = "Replace only this version"),
                ("If-None-Match" = Option<String>, Header, description = "`*`: create only"),
            ),
            request_body(content = $body, content_type = "application/json"),
            responses(
                (status = 200, description = "Replaced (or already so)", body = $resource, headers(("ETag" = String, description = "Its entity tag"))),
                (status = 201, description = "Created", body = $resource, headers(
                    ("Location" = String, description = "The new record's URL"),
                    ("ETag" = String, description = "Its entity tag"),
                )),
                (status = 400, description = "A malformed source or key"),
                (status = 403, description = "Not allowed"),
                (status = 404, description = "The key, or the parent, names a record you may not see"),
                (status = 409, description = "A rule would be broken, or another record has one of the external ids"),
                (status = 412, description = "If-Match or If-None-Match failed"),
                (status = 422, description = "Invalid fields, or a change of a field that is fixed"),
            )
        )]
        #[put($path)]
        pub async fn $put(
            request: actix_web::HttpRequest,
            caller: $crate::auth::Caller,
            path: actix_web::web::Path<(String, String)>,
            payload: actix_web::web::Payload,
            state: actix_web::web::Data<$crate::server::state::AppState>,
        ) -> Result<actix_web::HttpResponse, $crate::problem::ApiError> {
            $crate::resources::upsert::put::<$record>(request, caller, path, payload, state).await
        }
    };
}

/// A field that a record keeps for life differs in a whole-record write.
pub(crate) fn fixed<V: PartialEq>(
    given: &V,
    current: &V,
    field: &str,
    why: &str,
    errors: &mut ValidationErrors,
) {
    if given != current {
        errors.push(catalyst_domain::FieldViolation::new(
            field,
            "immutable",
            why.to_owned(),
        ));
    }
}

/// A lookup by key as `find_by_key` answers it: a record, none, or a failure.
pub(crate) fn found<T>(
    lookup: Result<T, catalyst_persistence::StoreError>,
) -> Result<Option<T>, ApiError> {
    match lookup {
        Ok(record) => Ok(Some(record)),
        Err(catalyst_persistence::StoreError::NotFound) => Ok(None),
        Err(error) => Err(error.into()),
    }
}
