//! The audit trail: recording every write with the change it made, and reading it back
//! (`GET /api/v1/audit` for admins and programme managers, `.../{id}/history` per entity).

use actix_web::{get, web, HttpRequest, HttpResponse};
use catalyst_domain::{Audience, AuditId, Timestamp};
use catalyst_persistence::audit::{self as store, AuditFilter, AuditRecord};
use catalyst_persistence::changes::{self, NewChange, Operation};
use catalyst_persistence::DbConnection;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::extract::pagination::{collect_errors, id_cursor, parse_limit};
use crate::extract::query::QueryParams;
use crate::middleware::request_context;
use crate::problem::ApiError;

pub const TAG: &str = "audit";

/// A record as the audit trail and the change feed keep it: its collection and the resource
/// the API serves for it.
pub trait Audited {
    const ENTITY: &'static str;
    type Resource: Serialize + for<'a> From<&'a Self>;
    fn audited_id(&self) -> String;
    fn audited_version(&self) -> i64;
}

/// An [`Audited`] record that says itself who may see it in the change feed (a phase or an
/// outcome takes its audience from its challenge or trial, and is recorded with it).
pub trait OwnAudience: Audited {
    fn audited_audience(&self) -> Audience;
}

/// [`Audited`] for a record with `id` and `version` fields: its collection, its resource, and
/// where the record tells it, its audience (`|record| ...`, [`OwnAudience`]).
#[macro_export]
macro_rules! audited {
    ($record:ty: $entity:expr, $resource:ty) => {
        impl $crate::resources::audit::Audited for $record {
            const ENTITY: &'static str = $entity;
            type Resource = $resource;
            fn audited_id(&self) -> String {
                self.id.to_string()
            }
            fn audited_version(&self) -> i64 {
                self.version
            }
        }
    };
    ($record:ty: $entity:expr, $resource:ty, audience = |$this:pat_param| $audience:expr) => {
        $crate::audited!($record: $entity, $resource);
        impl $crate::resources::audit::OwnAudience for $record {
            fn audited_audience(&self) -> catalyst_domain::Audience {
                let $this = self;
                $audience
            }
        }
    };
}

/// What a write records about itself, taken on the async side (where the request context is)
/// before the work moves to a blocking thread.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub actor: String,
    pub request_id: Option<String>,
}

impl AuditContext {
    pub fn of(caller: &Caller) -> Self {
        Self {
            actor: caller.audit_name(),
            request_id: request_context::current().map(|context| context.request_id),
        }
    }

    /// Records the creation of `entity` (a collection name) in the current transaction: in the
    /// audit trail, and in the change feed for `audience`.
    pub fn created<T: Serialize>(
        &self,
        connection: &mut DbConnection,
        entity: &str,
        entity_id: String,
        version: i64,
        audience: Audience,
        after: &T,
    ) -> Result<(), ApiError> {
        let after = to_json(after)?;
        self.record(
            connection,
            Operation::Create,
            entity,
            &entity_id,
            version,
            None,
            Some(&after),
        )?;
        announce(
            connection,
            entity,
            &entity_id,
            version,
            audience,
            Operation::Create,
            Some(&after),
        )
    }

    /// [`created`](Self::created) for several records (an import's new rows), in multi-row
    /// statements: each is `(id, version, audience, state as JSON)`.
    pub fn created_all(
        &self,
        connection: &mut DbConnection,
        entity: &str,
        records: &[(String, i64, Audience, String)],
    ) -> Result<(), ApiError> {
        let audit: Vec<AuditRecord> = records
            .iter()
            .map(|(id, version, _, state)| {
                AuditRecord::new(
                    self.actor.clone(),
                    Operation::Create.as_str(),
                    entity,
                    id.clone(),
                    Some(*version),
                    None,
                    Some(state.clone()),
                    self.request_id.clone(),
                )
            })
            .collect();
        store::record_all(connection, &audit)?;
        let occurred_at = Timestamp::now();
        let feed: Vec<NewChange<'_>> = records
            .iter()
            .map(|(id, version, audience, state)| NewChange {
                entity,
                entity_id: id,
                operation: Operation::Create,
                version: *version,
                state: Some(state),
                audience: *audience,
                occurred_at,
            })
            .collect();
        changes::record_all(connection, &feed)?;
        Ok(())
    }

    /// Records a change, with the state before and after; `audience` may see the record now.
    #[allow(clippy::too_many_arguments)] // Every part is a different fact about the change.
    pub fn updated<T: Serialize>(
        &self,
        connection: &mut DbConnection,
        entity: &str,
        entity_id: String,
        version: i64,
        audience: Audience,
        (before, after): (&T, &T),
    ) -> Result<(), ApiError> {
        let (before, after) = (to_json(before)?, to_json(after)?);
        self.record(
            connection,
            Operation::Update,
            entity,
            &entity_id,
            version,
            Some(&before),
            Some(&after),
        )?;
        announce(
            connection,
            entity,
            &entity_id,
            version,
            audience,
            Operation::Update,
            Some(&after),
        )
    }

    /// Records the creation of `record` (see [`Audited`]): its audit record and its change.
    pub fn record_created<T: OwnAudience>(
        &self,
        connection: &mut DbConnection,
        record: &T,
    ) -> Result<(), ApiError> {
        self.record_created_for(connection, record, record.audited_audience())
    }

    /// [`record_created`](Self::record_created) of a record whose audience is another's.
    pub fn record_created_for<T: Audited>(
        &self,
        connection: &mut DbConnection,
        record: &T,
        audience: Audience,
    ) -> Result<(), ApiError> {
        self.created(
            connection,
            T::ENTITY,
            record.audited_id(),
            record.audited_version(),
            audience,
            &T::Resource::from(record),
        )
    }

    /// Records `current` replaced by `updated` (see [`Audited`]): the audit record of both
    /// states, and the change.
    pub fn record_updated<T: OwnAudience>(
        &self,
        connection: &mut DbConnection,
        current: &T,
        updated: &T,
    ) -> Result<(), ApiError> {
        self.record_updated_for(connection, current, updated, updated.audited_audience())
    }

    /// [`record_updated`](Self::record_updated) of a record whose audience is another's.
    pub fn record_updated_for<T: Audited>(
        &self,
        connection: &mut DbConnection,
        current: &T,
        updated: &T,
        audience: Audience,
    ) -> Result<(), ApiError> {
        self.updated(
            connection,
            T::ENTITY,
            updated.audited_id(),
            updated.audited_version(),
            audience,
            (&T::Resource::from(current), &T::Resource::from(updated)),
        )
    }

    /// Records a deletion, with the last state; the feed carries a tombstone to `audience`.
    /// `last_version` is the record's version before the delete: the delete itself is the next
    /// version, so a reader that skips what it already holds (this version or a later one)
    /// never skips a delete.
    pub fn deleted<T: Serialize>(
        &self,
        connection: &mut DbConnection,
        entity: &str,
        entity_id: String,
        last_version: i64,
        audience: Audience,
        before: &T,
    ) -> Result<(), ApiError> {
        let version = last_version + 1;
        let before = to_json(before)?;
        self.record(
            connection,
            Operation::Delete,
            entity,
            &entity_id,
            version,
            Some(&before),
            None,
        )?;
        announce(
            connection,
            entity,
            &entity_id,
            version,
            audience,
            Operation::Delete,
            None,
        )
    }

    #[allow(clippy::too_many_arguments)] // Private: the three public forms above keep calls short.
    fn record(
        &self,
        connection: &mut DbConnection,
        operation: Operation,
        entity: &str,
        entity_id: &str,
        version: i64,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<(), ApiError> {
        let record = AuditRecord::new(
            self.actor.clone(),
            operation.as_str(),
            entity,
            entity_id.to_owned(),
            Some(version),
            before.map(str::to_owned),
            after.map(str::to_owned),
            self.request_id.clone(),
        );
        store::record(connection, &record)?;
        Ok(())
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|_| ApiError::Internal)
}

/// Puts a change in the feed for `audience` (and nowhere else): with the audit record of a write,
/// or alone where a record's readers change without the record changing, such as the phases of a
/// challenge that is published, which everyone may now see.
pub fn announce(
    connection: &mut DbConnection,
    entity: &str,
    entity_id: &str,
    version: i64,
    audience: Audience,
    operation: Operation,
    state: Option<&str>,
) -> Result<(), ApiError> {
    changes::record(
        connection,
        &NewChange {
            entity,
            entity_id,
            operation,
            version,
            state,
            audience,
            occurred_at: Timestamp::now(),
        },
    )?;
    Ok(())
}

/// [`announce`] for a resource: its current state to a wider audience, or a tombstone to those
/// who lose sight of it.
#[allow(clippy::too_many_arguments)]
pub fn announce_resource<T: Serialize>(
    connection: &mut DbConnection,
    entity: &str,
    entity_id: &str,
    version: i64,
    audience: Audience,
    operation: Operation,
    resource: &T,
) -> Result<(), ApiError> {
    let state = match operation {
        Operation::Delete => None,
        _ => Some(to_json(resource)?),
    };
    announce(
        connection,
        entity,
        entity_id,
        version,
        audience,
        operation,
        state.as_deref(),
    )
}

/// One recorded change.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    pub occurred_at: Timestamp,
    /// `user:<id>`, `client:<id>` or `system`.
    #[schema(example = "user:0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b")]
    pub actor: String,
    /// `create`, `update` or `delete`.
    #[schema(example = "update")]
    pub action: String,
    #[schema(example = "organisations")]
    pub entity: String,
    #[schema(value_type = uuid::Uuid)]
    pub entity_id: String,
    /// The entity's version after the change.
    pub entity_version: Option<i64>,
    /// The entity before the change (null for a create).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The entity after the change (null for a delete).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

impl From<AuditRecord> for AuditEntry {
    fn from(record: AuditRecord) -> Self {
        let parse = |text: Option<String>| text.and_then(|text| serde_json::from_str(&text).ok());
        Self {
            id: record.id,
            occurred_at: Timestamp::from_naive_utc(record.occurred_at),
            actor: record.actor,
            action: record.action,
            entity: record.entity,
            entity_id: record.entity_id,
            entity_version: record.entity_version,
            before: parse(record.before_state),
            after: parse(record.after_state),
            request_id: record.request_id,
        }
    }
}

catalyst_api::list_body! {
    /// A page of audit entries, oldest first.
    AuditList of AuditEntry
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `QueryParams` parses them.
pub struct AuditParams {
    /// The collection, such as `organisations`.
    entity: Option<String>,
    entity_id: Option<String>,
    /// `user:<id>` or `client:<id>`.
    actor: Option<String>,
    #[param(minimum = 1, default = 50)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only changes at or after this RFC 3339 instant.
    #[param(value_type = Option<String>, format = DateTime)]
    updated_since: Option<String>,
}

/// The recorded changes of one entity, after `check` (on a connection) says the caller may see
/// it; the handlers of every resource's `/history` end here.
pub async fn entity_history<F>(
    request: &HttpRequest,
    state: &crate::server::state::AppState,
    entity: &'static str,
    entity_id: String,
    check: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<(), ApiError> + Send + 'static,
{
    let params = QueryParams::parse(request, &["limit", "cursor"])?;
    state.with_connection(check).await?;
    let filter = AuditFilter {
        entity: Some(entity.to_owned()),
        entity_id: Some(entity_id),
        actor: None,
        since: None,
    };
    Ok(HttpResponse::Ok().json(page(state, filter, &params).await?))
}

/// A page of the audit trail under `filter`, with its `limit`, `cursor` and `updated_since`
/// read from `params`.
pub async fn page(
    state: &crate::server::state::AppState,
    mut filter: AuditFilter,
    params: &QueryParams,
) -> Result<AuditList, ApiError> {
    let mut errors = Vec::new();
    filter.since =
        crate::extract::pagination::parse_updated_since(params.get("updated_since"), &mut errors);
    let limit = parse_limit(params.get("limit"))
        .map_err(|e| errors.push(e))
        .unwrap_or(0);
    // Audit ids are time-ordered UUIDs, so the last id seen is a complete cursor.
    let after = id_cursor::<AuditId>(params.get("cursor"))
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
        .map(|id| id.to_string());
    collect_errors(errors)?;
    let (records, more) = state
        .with_connection(move |connection| {
            Ok(store::list(connection, &filter, after.as_deref(), limit)?)
        })
        .await?;
    let next_cursor =
        crate::extract::pagination::next_cursor(more, &records, |record| record.id.clone());
    Ok(AuditList {
        data: records.into_iter().map(Into::into).collect(),
        next_cursor,
    })
}

/// The audit trail.
#[utoipa::path(
    tag = TAG,
    operation_id = "list_audit_entries",
    params(AuditParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Recorded changes, oldest first", body = AuditList),
        (status = 403, description = "Not an admin or programme manager"),
    )
)]
#[get("/audit")]
pub async fn list_audit_entries(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<crate::server::state::AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.actor().may_read_audit()?;
    let params = QueryParams::parse(
        &request,
        &[
            "entity",
            "entity_id",
            "actor",
            "limit",
            "cursor",
            "updated_since",
        ],
    )?;
    let filter = AuditFilter {
        entity: params.get("entity").map(str::to_owned),
        entity_id: params.get("entity_id").map(str::to_owned),
        actor: params.get("actor").map(str::to_owned),
        since: None,
    };
    Ok(HttpResponse::Ok().json(page(&state, filter, &params).await?))
}
