//! Read-only views computed from the records: reports, exports, OCDS releases and the
//! change feed.

pub mod changes;
pub mod exports;
pub mod ocds;
pub mod report_schemas;
pub mod reports;
