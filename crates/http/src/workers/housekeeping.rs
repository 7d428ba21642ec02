//! Housekeeping, a worker of every replica: expired idempotency keys, stale sign-in counts,
//! changes past their retention and finished import jobs are deleted, so those tables stay
//! small.

use std::time::Duration;

use actix_web::web;

use crate::server::state::AppState;

/// Housekeeping every ten minutes: expired idempotency keys and stale sign-in counts are
/// deleted, so those tables stay small. Any replica may do it; the deletes are idempotent.
pub async fn run(state: AppState, change_retention: chrono::Duration) {
    let mut ticks = tokio::time::interval(Duration::from_secs(600));
    loop {
        ticks.tick().await;
        let pool = state.pool.clone();
        let swept = web::block(
            move || -> Result<(usize, usize, usize), catalyst_persistence::StoreError> {
                let mut connection = pool.get()?;
                let now = catalyst_domain::Timestamp::now();
                let keys = catalyst_persistence::idempotency::purge_expired(&mut connection, now)?;
                let counts = catalyst_persistence::throttle::purge_stale(
                    &mut connection,
                    now,
                    chrono::Duration::hours(1),
                )?;
                let changes = catalyst_persistence::changes::prune(
                    &mut connection,
                    catalyst_domain::Timestamp::from_naive_utc(
                        now.to_naive_utc() - change_retention,
                    ),
                )?;
                catalyst_persistence::imports::purge(&mut connection, now, 30)?;
                Ok((keys, counts, changes))
            },
        )
        .await;
        match swept {
            // What was purged, when anything was: an operator sees the tables kept small.
            Ok(Ok((0, 0, 0))) => tracing::debug!("housekeeping: nothing to purge"),
            Ok(Ok((keys, counts, changes))) => tracing::info!(
                idempotency_keys = keys,
                sign_in_counts = counts,
                changes,
                "housekeeping purged"
            ),
            Ok(Err(error)) => tracing::warn!(%error, "housekeeping failed"),
            Err(error) => tracing::warn!(%error, "housekeeping failed"),
        }
    }
}
