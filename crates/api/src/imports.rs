//! The shapes of imports in requests and responses.

use crate::problem::ProblemItem;
use catalyst_domain::Timestamp;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// An import job.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(example = "organisations")]
    pub collection: String,
    /// `ndjson` or `csv`.
    pub format: String,
    /// `all_or_nothing` or `partial`.
    pub mode: String,
    /// `receiving`, `queued`, `applying`, `succeeded` or `failed` (`validating` only from jobs run
    /// by servers before 2026-12-07, which checked every row before writing any).
    pub status: String,
    /// Size of the upload.
    pub bytes: i64,
    pub rows_processed: i64,
    pub rows_created: i64,
    pub rows_updated: i64,
    pub rows_unchanged: i64,
    pub rows_rejected: i64,
    /// Why a failed import failed.
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
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
    pub collection: String,
    /// `all_or_nothing` (default: nothing is written unless every row is good) or `partial`
    /// (good rows are written, bad ones reported).
    pub mode: Option<String>,
    /// `ndjson` or `csv`: what the file is. The spec asks for it, since the body is described
    /// as bytes (`application/octet-stream`, which generated clients send); a body sent as
    /// `application/x-ndjson` or `text/csv` may leave it out.
    pub format: String,
}

crate::list_body! {
    ImportList of ImportResource
}
