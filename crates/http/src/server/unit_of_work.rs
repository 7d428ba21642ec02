//! A request's unit of work: one database transaction, opened by a middleware before the handler
//! runs and ended once the response is known, so that what the middleware writes (an
//! idempotency key and the response kept for its retries) and what the handler writes (the
//! record, its audit record and its change) share one commit: one fsync instead of three.
//!
//! Handlers do not see it. [`AppState::with_connection`](crate::server::state::AppState) runs
//! its work on the unit's connection while the handler's future is inside [`UnitOfWork::scope`]
//! (a task-local, so nothing spawned from the handler inherits it), and the handler's own
//! transaction becomes a savepoint inside the unit's (`write_transaction` sees one open).

use std::future::Future;
use std::sync::Arc;

use actix_web::web;
use catalyst_persistence::database::{begin_write, commit, rollback, PooledConnection};
use catalyst_persistence::{DbConnection, Pool, StoreError};
use tokio::sync::Mutex;

use crate::problem::ApiError;

tokio::task_local! {
    static CURRENT: Arc<UnitOfWork>;
}

/// An open write transaction on a connection of its own, lent to each piece of work in turn.
pub struct UnitOfWork {
    /// `None` once the connection is lost: work that panicked took it down with it.
    connection: Arc<Mutex<Option<PooledConnection>>>,
}

impl UnitOfWork {
    /// Takes a connection and opens the transaction (on SQLite this waits for the write lock).
    pub async fn begin(pool: &Pool) -> Result<Arc<Self>, ApiError> {
        let pool = pool.clone();
        let connection = web::block(move || -> Result<PooledConnection, ApiError> {
            let mut connection = pool.get()?;
            begin_write(&mut connection).map_err(StoreError::from)?;
            Ok(connection)
        })
        .await??;
        Ok(Arc::new(Self {
            connection: Arc::new(Mutex::new(Some(connection))),
        }))
    }

    /// The unit the running request's future is inside, if any.
    pub fn current() -> Option<Arc<Self>> {
        CURRENT.try_with(Arc::clone).ok()
    }

    /// Runs `future` (the rest of the request) with this unit as the current one.
    pub async fn scope<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        CURRENT.scope(Arc::clone(self), future).await
    }

    /// Runs `work` on the unit's connection, on a blocking thread; pieces of work take turns.
    /// The blocking thread holds the unit's lock and puts the connection back itself, so that
    /// work whose caller stops waiting (a request extractor's load, dropped when another
    /// extractor fails) still finishes before the next piece starts, and the unit can commit.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let mut slot = Arc::clone(&self.connection).lock_owned().await;
        web::block(move || {
            // A panic in `work` drops the connection inside its open transaction; the pool
            // then discards it, and the slot stays empty so that the unit cannot commit.
            let Some(mut connection) = slot.take() else {
                return Err(ApiError::Internal);
            };
            let done = work(&mut connection);
            if matches!(done, Err(ApiError::Unavailable)) {
                connection.mark_lost();
            }
            *slot = Some(connection);
            done
        })
        .await?
    }

    /// Runs `last` on the unit's connection, then commits; if `last` fails, rolls back.
    pub async fn commit_after<F>(&self, last: F) -> Result<(), ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<(), ApiError> + Send + 'static,
    {
        self.run(|connection| match last(connection) {
            Ok(()) => commit(connection).map_err(|error| ApiError::from(StoreError::from(error))),
            Err(error) => {
                // The connection goes back to the pool clean; `last`'s error is the one to tell.
                let _ = rollback(connection);
                Err(error)
            }
        })
        .await
    }

    /// Undoes everything the unit did.
    pub async fn roll_back(&self) -> Result<(), ApiError> {
        self.run(|connection| {
            rollback(connection).map_err(|error| ApiError::from(StoreError::from(error)))
        })
        .await
    }
}
