//! The running service: shared state, the OpenAPI document, health, metrics and the
//! fallback for unknown paths.

pub mod fallback;
pub mod health;
pub mod home;
pub mod metrics;
pub mod openapi;
pub mod root;
pub mod spec_constraints;
pub mod state;
pub mod unit_of_work;
