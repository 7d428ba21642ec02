//! Black-box tests of the running server: each starts `catalyst serve` (the built binary) on a
//! fresh database and talks HTTP to it, as a client would; with `TEST_DATABASE_URL` set, every
//! test runs on SQLite and on PostgreSQL. One test binary with a module per area: linked once,
//! and its tests share the test threads (25 binaries took ~2.5 GB of disk and ran one by one).
//!
//! `cargo test --test api imports::` runs one area.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

mod auth;
mod awards;
mod backup;
mod changes;
mod charts;
mod cli;
mod competition;
mod durability;
mod exports;
mod faults;
mod feeds;
mod hostile;
mod import_batches;
mod imports;
mod matrix;
mod metrics;
mod milestones;
mod oauth;
mod ocds;
mod openapi;
mod organisations;
mod preconditions;
mod protocol;
mod rate_limits;
mod read_replica;
mod reports;
mod seed;
mod slow_clients;
mod spreadsheets;
mod supplier_reports;
mod sync;
mod upgrades;
mod upserts;
mod webhooks;
