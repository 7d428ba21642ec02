//! Read-only views computed from the records: reports, exports, OCDS releases, the change feed
//! and the opportunity feeds (Atom, iCalendar).

pub mod changes;
pub mod exports;
pub mod feeds;
pub mod journeys;
pub mod ocds;
pub mod reports;
