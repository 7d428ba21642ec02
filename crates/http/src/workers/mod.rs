//! Work done away from a request: running import jobs, delivering webhooks, housekeeping.

pub mod housekeeping;
pub mod import_engine;
pub mod webhook_delivery;
