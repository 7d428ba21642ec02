//! Bulk imports (`/api/v1/imports`): a file of NDJSON or CSV rows, uploaded as a stream into
//! the database, processed as a job by any replica, and reported row by row.
//!
//! All-or-nothing (the default) writes every row in one transaction, each checked against the
//! rows before it; if any is rejected, the rest are still checked so that the report names them
//! all, and everything is undone: a failure or a crash leaves nothing behind. `mode=partial`
//! writes in batches, a failed row undone alone, and resumes after the last committed batch if
//! the worker dies.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use catalyst_domain::{Actor, ImportCollection, Timestamp};
use catalyst_persistence::imports::{self as store, Counts, Import};
use catalyst_persistence::{transaction, DbConnection, StoreError};
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::extract::body::BodyChunks;
use crate::extract::query::QueryParams;
use crate::middleware::idempotency::KeyClaim;
use crate::problem::{ApiError, ProblemItem};
use crate::server::state::AppState;

pub use catalyst_api::imports::*;

pub const TAG: &str = "imports";

/// Upload chunks: large enough to keep the row count low, small enough to stay out of memory.
const CHUNK_BYTES: usize = 256 * 1024;
/// Rows written per transaction in partial mode, and between progress reports.
const BATCH_ROWS: usize = 500;
/// How long a worker's claim lasts without a progress report.
const LEASE_SECONDS: i64 = 300;

/// Who may import into `collection`: whoever may create its records.
fn may_import(actor: &Actor, collection: ImportCollection) -> Result<(), ApiError> {
    match collection {
        ImportCollection::Organisations => Ok(actor.may_create_organisation()?),
        // Each row is checked against its supplier.
        ImportCollection::Applications => {
            let applies = actor.runs_programmes()
                || actor.has_role(catalyst_domain::Role::Supplier)
                || actor.has_scope(catalyst_domain::Scope::Write);
            if applies {
                Ok(())
            } else {
                Err(ApiError::Forbidden(
                    "applications are imported by suppliers, programme staff and clients with the write scope".to_owned(),
                ))
            }
        }
        // Each row is checked against its owner; the job is for those who manage challenges.
        ImportCollection::Challenges | ImportCollection::Awards | ImportCollection::Payments => {
            let manages = actor.runs_programmes()
                || actor.has_role(catalyst_domain::Role::AuthorityOfficer)
                || actor.has_scope(catalyst_domain::Scope::Write);
            if manages {
                Ok(())
            } else {
                Err(ApiError::Forbidden(
                    format!("{collection} are imported by programme staff, authority officers and clients with the write scope"),
                ))
            }
        }
    }
}

fn owns(caller: &Caller, import: &Import) -> bool {
    caller.actor().owns(&import.owner)
}

fn find_own(connection: &mut DbConnection, caller: &Caller, id: &str) -> Result<Import, ApiError> {
    let not_found = || ApiError::NotFound("no such import".to_owned());
    // Ids are UUIDs: anything else (a NUL, which PostgreSQL's text cannot hold) names none.
    let id = uuid::Uuid::try_parse(id)
        .map_err(|_| not_found())?
        .to_string();
    let import = store::find(connection, &id).map_err(|error| match error {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    if owns(caller, &import) {
        Ok(import)
    } else {
        Err(not_found())
    }
}

fn parameter_error(name: &str, code: &str, detail: impl Into<String>) -> ApiError {
    ApiError::InvalidQuery(vec![ProblemItem::parameter(name, code, detail)])
}

/// Import a file of rows.
///
/// Send the file as the body (`Content-Type: application/x-ndjson` or `text/csv`, or any type
/// with `format=ndjson` or `format=csv`, as generated clients send bytes); it is
/// stored as it arrives, never held whole in memory, and processed as a job: poll the
/// `Location` for progress, then read `/results` for what became of each row (rejected rows
/// with their line and the reasons). A row that names an `external_ids` key already known
/// updates that record; others create one. CSV columns for organisations: `name`, `kind`,
/// `scale`, `region`, `identifier_scheme`, `identifier_id`, `website`, `external_source`,
/// `external_id`; for challenges (made as drafts): `programme_id`, `owner_organisation_id`,
/// `reference`, `title`, `problem_statement`, `themes` (`;`-separated), `documents`
/// (`Title <https://...>`, `;`-separated), `opens_at`, `closes_at`, `external_source`,
/// `external_id`; for applications (made as drafts):
/// `phase_id`, `supplier_organisation_id`, `amount_requested.amount` (minor units),
/// `amount_requested.currency`, `summary`, `external_source`, `external_id`; for awards (each
/// claims its phase's budget as `POST` does): `phase_id`, `application_id`,
/// `contract_reference`, `amount.amount`, `amount.currency`, `vat_included` (`true` or
/// `false`), `starts_on`, `ends_on`, `parent_award_id`, `external_source`, `external_id`; for
/// payments (each pays an invoiced milestone, named by its id, by a partner's key, or by both
/// when they agree): `milestone_id`, `milestone_source`, `milestone_external_id`, `paid_on`,
/// `amount.amount`, `amount.currency` (when given, the milestone's tranche); the `payments`
/// export writes these columns. In NDJSON a payment is `{"milestone_id": ...}` and/or
/// `{"milestone_external_id": {"source": ..., "id": ...}}` with `paid_on` and an optional
/// `amount`. A collection's CSV export imports back as it is: an
/// `id` names the record the row updates (one the importer may see), `identifier.scheme` and
/// `identifier.id` are read as `identifier_scheme` and `identifier_id`, the read-only columns
/// (`version`, times, `status`, derived figures) are ignored, and a cell the export guarded
/// against spreadsheet formulas (`'=...`) loses its apostrophe.
#[utoipa::path(
    tag = TAG, operation_id = "create_import", security(("bearer" = [])),
    params(CreateImportParams),
    request_body(content = String, description = "The file of rows, as bytes: NDJSON or CSV, as `format` says (`Content-Type: application/x-ndjson` or `text/csv` says it too)", content_type = "application/octet-stream"),
    responses(
        (status = 202, description = "Received and queued", body = ImportResource,
            headers(("Location" = String, description = "The import's URL, to poll"))),
        (status = 400, description = "A missing or unknown collection, mode or format"),
        (status = 403, description = "Not allowed to create these records"),
        (status = 413, description = "Larger than the import limit"),
        (status = 415, description = "Neither NDJSON nor CSV"),
    )
)]
#[post("/imports")]
pub async fn create_import(
    request: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.actor().signed_in()?;
    let params = QueryParams::parse(&request, &["collection", "mode", "format"])?;
    let collection = match params.get("collection") {
        Some(name) => name.parse::<ImportCollection>().map_err(|_| {
            parameter_error(
                "collection",
                "unknown_collection",
                format!(
                    "{name:?} cannot be imported; importable: {}",
                    ImportCollection::expected()
                ),
            )
        })?,
        None => {
            let names: Vec<&str> = ImportCollection::ALL.iter().map(|c| c.as_str()).collect();
            return Err(parameter_error(
                "collection",
                "required",
                format!("name the collection: collection={}", names.join("|")),
            ));
        }
    };
    let mode = match params.get("mode").unwrap_or("all_or_nothing") {
        mode @ ("all_or_nothing" | "partial") => mode.to_owned(),
        other => {
            return Err(parameter_error(
                "mode",
                "invalid_value",
                format!("mode is all_or_nothing or partial, got {other:?}"),
            ))
        }
    };
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let format = match (params.get("format"), content_type.as_deref()) {
        (Some(format @ ("ndjson" | "csv")), _) => format.to_owned(),
        (Some(other), _) => {
            return Err(parameter_error(
                "format",
                "invalid_value",
                format!("format is ndjson or csv, got {other:?}"),
            ))
        }
        (None, Some("application/x-ndjson" | "application/jsonl" | "application/json-lines")) => {
            "ndjson".to_owned()
        }
        (None, Some("text/csv")) => "csv".to_owned(),
        (None, other) => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send application/x-ndjson or text/csv (or say format=), got {}",
                other.unwrap_or("no Content-Type")
            )))
        }
    };
    caller.actor().signed_in()?;
    may_import(caller.actor(), collection)?;
    let owner = caller.actor().subject().ok_or(ApiError::Internal)?;
    let key = crate::middleware::idempotency::scope_of(&request, &owner)?;
    // The upload's fingerprint, for its Idempotency-Key: what it is and every byte of it.
    let mut fingerprint = Sha256::new();
    fingerprint.update(format!("{collection}\n{mode}\n{format}\n").as_bytes());
    let now = Timestamp::now().to_naive_utc();
    let import = Import {
        id: uuid::Uuid::now_v7().to_string(),
        owner,
        collection: collection.to_string(),
        format,
        mode,
        status: "receiving".to_owned(),
        bytes: 0,
        rows_processed: 0,
        rows_created: 0,
        rows_updated: 0,
        rows_unchanged: 0,
        rows_rejected: 0,
        error: None,
        claimed_until: None,
        created_at: now,
        started_at: None,
        finished_at: None,
    };
    let stored = import.clone();
    state
        .with_connection(move |connection| Ok(store::insert(connection, &stored)?))
        .await?;

    // The body goes to the database a chunk at a time.
    let limit = state.import_limit;
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_BYTES);
    let mut seq = 0i32;
    let mut bytes = 0usize;
    let failed = |state: web::Data<AppState>, id: String, error: ApiError| async move {
        let _ = state
            .with_connection(move |connection| {
                Ok(store::finish(
                    connection,
                    &id,
                    false,
                    Counts::default(),
                    Some("the upload did not complete"),
                    Timestamp::now(),
                )?)
            })
            .await;
        error
    };
    let mut pieces = BodyChunks::new(payload, state.body_timeout);
    loop {
        let piece = match pieces.next().await {
            Ok(Some(piece)) => piece,
            Ok(None) => break,
            Err(error) => return Err(failed(state, import.id.clone(), error).await),
        };
        bytes += piece.len();
        if bytes > limit {
            return Err(failed(
                state,
                import.id.clone(),
                ApiError::PayloadTooLarge { limit },
            )
            .await);
        }
        fingerprint.update(&piece);
        buffer.extend_from_slice(&piece);
        if buffer.len() >= CHUNK_BYTES {
            let chunk = std::mem::replace(&mut buffer, Vec::with_capacity(CHUNK_BYTES));
            let id = import.id.clone();
            state
                .with_connection(move |connection| {
                    Ok(store::add_chunk(connection, &id, seq, &chunk)?)
                })
                .await?;
            seq += 1;
        }
    }
    if bytes == 0 {
        return Err(failed(
            state,
            import.id.clone(),
            ApiError::InvalidBody {
                detail: "the upload is empty: send at least one row".to_owned(),
                items: Vec::new(),
            },
        )
        .await);
    }
    let id = import.id.clone();
    let total = i64::try_from(bytes).unwrap_or(i64::MAX);
    let fingerprint: String = fingerprint
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let answer = state
        .with_connection(move |connection| {
            transaction(connection, |connection| {
                if let Some(scope) = &key {
                    if let KeyClaim::Replay(stored) =
                        crate::middleware::idempotency::claim_key(connection, scope, &fingerprint)?
                    {
                        store::discard(connection, &id)?;
                        return Ok(Err(stored));
                    }
                }
                if !buffer.is_empty() {
                    store::add_chunk(connection, &id, seq, &buffer)?;
                }
                store::queue(connection, &id, total)?;
                let queued = import_resource(&store::find(connection, &id)?);
                let location = format!("/api/v1/imports/{}", queued.id);
                let body = serde_json::to_string(&queued).map_err(|_| ApiError::Internal)?;
                if let Some(scope) = &key {
                    crate::middleware::idempotency::keep_upload_response(
                        connection,
                        scope,
                        StatusCode::ACCEPTED,
                        &location,
                        &body,
                    )?;
                }
                Ok::<_, ApiError>(Ok((location, body)))
            })
        })
        .await;
    match answer {
        Ok(Ok((location, body))) => {
            state.imports_queued.notify_one();
            Ok(HttpResponse::Accepted()
                .insert_header((header::LOCATION, location))
                .content_type("application/json")
                .body(body))
        }
        Ok(Err(stored)) => Ok(crate::middleware::idempotency::replay(&stored)),
        Err(error) => {
            // A refused key (another body, or still in flight): the upload goes.
            let id = import.id.clone();
            let _ = state
                .with_connection(move |connection| Ok(store::discard(connection, &id)?))
                .await;
            Err(error)
        }
    }
}

/// List your imports, newest first (admins: everyone's). Ended imports are kept 30 days.
#[utoipa::path(
    tag = TAG, operation_id = "list_imports", security(("bearer" = [])),
    params(
        ("limit" = Option<i64>, Query, minimum = 1, description = "Page size, default 50; above 500 reads as 500"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "Imports, newest first", body = ImportList),
        (status = 400, description = "A bad limit or cursor"),
    )
)]
#[get("/imports")]
pub async fn list_imports(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.actor().signed_in()?;
    let params = QueryParams::parse(&request, &["limit", "cursor"])?;
    let mut errors = Vec::new();
    let (limit, before) =
        crate::extract::pagination::limit_and_id_cursor::<uuid::Uuid>(&params, &mut errors);
    crate::extract::pagination::collect_errors(errors)?;
    let before = before.map(|id| id.to_string());
    let owner = caller.actor().owner_filter();
    let (rows, more) = state
        .with_connection(move |connection| {
            Ok(store::list(
                connection,
                owner.as_deref(),
                before.as_deref(),
                limit,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ImportList {
        next_cursor: crate::extract::pagination::next_cursor(more, &rows, |row| row.id.clone()),
        data: rows.iter().map(import_resource).collect(),
    }))
}

/// Get an import's progress.
#[utoipa::path(
    tag = TAG, operation_id = "get_import", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The import's id")),
    responses(
        (status = 200, description = "The import", body = ImportResource),
        (status = 404, description = "No such import of yours"),
    )
)]
#[get("/imports/{id}")]
pub async fn get_import(
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.actor().signed_in()?;
    let id = id.into_inner();
    let import = state
        .with_connection(move |connection| find_own(connection, &caller, &id))
        .await?;
    Ok(HttpResponse::Ok().json(import_resource(&import)))
}

/// What became of each row, in line order.
#[utoipa::path(
    tag = TAG, operation_id = "list_import_results", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "The import's id"),
        ("outcome" = Option<String>, Query, description = "Only `created`, `updated`, `unchanged` or `rejected` rows"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "Page size, default 50; above 500 reads as 500"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "Row results", body = RowResultList),
        (status = 400, description = "A bad outcome, limit or cursor"),
        (status = 404, description = "No such import of yours"),
    )
)]
#[get("/imports/{id}/results")]
pub async fn list_import_results(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.actor().signed_in()?;
    let params = QueryParams::parse(&request, &["outcome", "limit", "cursor"])?;
    let mut errors = Vec::new();
    let outcome = match params.get("outcome") {
        None => None,
        Some(outcome @ ("created" | "updated" | "unchanged" | "rejected")) => {
            Some(outcome.to_owned())
        }
        Some(other) => {
            errors.push(ProblemItem::parameter(
                "outcome",
                "invalid_value",
                format!("outcome is created, updated, unchanged or rejected, got {other:?}"),
            ));
            None
        }
    };
    let (limit, after) =
        crate::extract::pagination::limit_and_id_cursor::<i64>(&params, &mut errors);
    crate::extract::pagination::collect_errors(errors)?;
    let id = id.into_inner();
    let (rows, more) = state
        .with_connection(move |connection| {
            let import = find_own(connection, &caller, &id)?;
            Ok(store::results(
                connection,
                &import.id,
                outcome.as_deref(),
                after,
                limit,
            )?)
        })
        .await?;
    let next_cursor =
        crate::extract::pagination::next_cursor(more, &rows, |row| row.line.to_string());
    let data = rows
        .into_iter()
        .map(|row| {
            Ok(RowResultResource {
                line: row.line,
                outcome: row.outcome,
                id: row.entity_id,
                errors: row
                    .errors
                    .map(serde_json::value::RawValue::from_string)
                    .transpose()
                    .map_err(|_| ApiError::Internal)?,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(HttpResponse::Ok().json(RowResultList { data, next_cursor }))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(create_import)
        .service(list_imports)
        .service(get_import)
        .service(list_import_results);
}

pub fn lease_from(now: Timestamp) -> Timestamp {
    Timestamp::from_naive_utc(now.to_naive_utc() + chrono::Duration::seconds(LEASE_SECONDS))
}

/// Rows per batch, for the engine.
pub const fn batch_rows() -> usize {
    BATCH_ROWS
}

/// Stores a file from disk as an import's upload (the CLI's way in), a chunk at a time.
pub fn upload_file(
    connection: &mut DbConnection,
    import: &Import,
    file: &mut impl std::io::Read,
) -> Result<i64, StoreError> {
    let mut seq = 0;
    let mut total: i64 = 0;
    let mut buffer = vec![0u8; CHUNK_BYTES];
    loop {
        let mut filled = 0;
        while filled < CHUNK_BYTES {
            match file.read(&mut buffer[filled..]) {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(error) => {
                    return Err(StoreError::Unavailable(format!(
                        "cannot read the file: {error}"
                    )))
                }
            }
        }
        if filled == 0 {
            break;
        }
        store::add_chunk(connection, &import.id, seq, &buffer[..filled])?;
        seq += 1;
        total += i64::try_from(filled).unwrap_or(0);
        if filled < CHUNK_BYTES {
            break;
        }
    }
    Ok(total)
}

/// An import job as the API shows it.
fn import_resource(import: &Import) -> ImportResource {
    ImportResource {
        id: import.id.clone(),
        collection: import.collection.clone(),
        format: import.format.clone(),
        mode: import.mode.clone(),
        status: import.status.clone(),
        bytes: import.bytes,
        rows_processed: import.rows_processed,
        rows_created: import.rows_created,
        rows_updated: import.rows_updated,
        rows_unchanged: import.rows_unchanged,
        rows_rejected: import.rows_rejected,
        error: import.error.clone(),
        created_at: Timestamp::from_naive_utc(import.created_at),
        started_at: import.started_at.map(Timestamp::from_naive_utc),
        finished_at: import.finished_at.map(Timestamp::from_naive_utc),
    }
}
