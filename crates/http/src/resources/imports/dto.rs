//! The shapes of imports in requests and responses.

use super::*;

impl From<&Import> for ImportResource {
    fn from(import: &Import) -> Self {
        Self {
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
}

/// What became of one row.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowResultResource {
    /// The row's first line in the file (the CSV header is line 1).
    pub line: i64,
    /// `created`, `updated`, `unchanged` or `rejected`.
    pub outcome: String,
    /// The record made or changed.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub id: Option<String>,
    /// Why a rejected row was rejected: problem items, with pointers into the row.
    #[schema(value_type = Option<Vec<ProblemItem>>)]
    pub errors: Option<Box<serde_json::value::RawValue>>,
}

crate::list_body! {
    RowResultList of RowResultResource
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `QueryParams` parses them.
pub struct CreateImportParams {
    /// What the rows are: `organisations`, `challenges`, `applications`, `awards` or
    /// `payments`.
    pub(super) collection: String,
    /// `all_or_nothing` (default: nothing is written unless every row is good) or `partial`
    /// (good rows are written, bad ones reported).
    pub(super) mode: Option<String>,
    /// `ndjson` or `csv`: what the file is. The spec asks for it, since the body is described
    /// as bytes (`application/octet-stream`, which generated clients send); a body sent as
    /// `application/x-ndjson` or `text/csv` may leave it out.
    pub(super) format: String,
}

crate::list_body! {
    ImportList of ImportResource
}
