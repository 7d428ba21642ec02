//! The audit trail: who changed what, when, from what to what. Written in the same transaction as
//! the change it records, so neither exists without the other.

use catalyst_domain::{AuditId, Timestamp};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::database::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::schema::audit_log;

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct AuditRecord {
    pub id: String,
    pub occurred_at: NaiveDateTime,
    /// `user:<id>`, `client:<id>` or `system`.
    pub actor: String,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// The collection name, such as `organisations`.
    pub entity: String,
    pub entity_id: String,
    pub entity_version: Option<i64>,
    /// JSON of the entity before the change (none for a create).
    pub before_state: Option<String>,
    /// JSON of the entity after the change (none for a delete).
    pub after_state: Option<String>,
    pub request_id: Option<String>,
}

impl AuditRecord {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        actor: String,
        action: &str,
        entity: &str,
        entity_id: String,
        entity_version: Option<i64>,
        before_state: Option<String>,
        after_state: Option<String>,
        request_id: Option<String>,
    ) -> Self {
        Self {
            id: AuditId::generate().to_string(),
            occurred_at: Timestamp::now().to_naive_utc(),
            actor,
            action: action.to_owned(),
            entity: entity.to_owned(),
            entity_id,
            entity_version,
            before_state,
            after_state,
            request_id,
        }
    }
}

pub fn record(connection: &mut DbConnection, record: &AuditRecord) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values(record)
        .execute(connection)?;
    Ok(())
}

/// Records several changes in multi-row statements (an import's new rows).
pub fn record_all(
    connection: &mut DbConnection,
    records: &[AuditRecord],
) -> Result<(), StoreError> {
    insert_rows!(connection, audit_log::table, records);
    Ok(())
}

/// Filters for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    /// Only changes at or after this instant.
    pub since: Option<Timestamp>,
}

/// Records oldest first, after the record id `after` (ids are time-ordered).
pub fn list(
    connection: &mut DbConnection,
    filter: &AuditFilter,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<AuditRecord>, bool), StoreError> {
    // No record's collection, id or actor holds a NUL, and PostgreSQL's text cannot hold one
    // to compare: such a filter matches nothing.
    let texts = [&filter.entity, &filter.entity_id, &filter.actor];
    if texts
        .iter()
        .any(|text| text.as_deref().is_some_and(|text| text.contains('\0')))
    {
        return Ok((Vec::new(), false));
    }
    let mut query = audit_log::table
        .select(AuditRecord::as_select())
        .order(audit_log::id.asc())
        .into_boxed::<MultiBackend>();
    if let Some(entity) = &filter.entity {
        query = query.filter(audit_log::entity.eq(entity.clone()));
    }
    if let Some(entity_id) = &filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(entity_id.clone()));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_log::actor.eq(actor.clone()));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_log::occurred_at.ge(since.to_naive_utc()));
    }
    if let Some(after) = after {
        query = query.filter(audit_log::id.gt(after.to_owned()));
    }
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    let mut records: Vec<AuditRecord> = query.limit(fetch).load(connection)?;
    let more = records.len() > limit;
    records.truncate(limit);
    Ok((records, more))
}
