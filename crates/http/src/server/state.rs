//! What every handler shares: the pool and the HTTP settings.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use catalyst_persistence::{DbConnection, Pool, ReadPools};

use crate::auth::TokenKeys;
use crate::problem::ApiError;
use crate::server::unit_of_work::UnitOfWork;

#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: Pool,
    /// Reads that may lag the primary a moment: the read replica's pool when one is set.
    pub reads: ReadPools,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// How long a client may take to send a body.
    pub body_timeout: crate::extract::body::BodyTimeout,
    pub keys: Arc<TokenKeys>,
    /// Whether webhooks may go to private, loopback and link-local addresses.
    pub webhooks_allow_private: bool,
    /// Largest import upload, in bytes.
    pub import_limit: usize,
    /// The registered OCDS prefix of every `ocid` published (`ocds-` and six characters).
    pub ocid_prefix: String,
    /// Requests counted for `/metrics`.
    pub metrics: Arc<crate::server::metrics::Metrics>,
    /// Whether `/metrics` answers without a token.
    pub metrics_public: bool,
    /// Requests a minute per client.
    pub rate_limiter: Arc<crate::middleware::rate_limit::RateLimiter>,
    /// Rung when an upload is queued, so that this server's import worker starts it at once
    /// rather than at its next look (other replicas find it when they look).
    pub imports_queued: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// Runs `work` with a pooled connection on a blocking thread: diesel's calls block, and must
    /// never hold up the async executor. The connection goes back to the pool when `work` ends.
    /// Inside a request's [`UnitOfWork`], `work` runs on the unit's connection and transaction.
    pub async fn with_connection<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(unit) = UnitOfWork::current() {
            return unit.run(work).await;
        }
        let pool = self.pool.clone();
        web::block(move || {
            let mut connection = pool.get()?;
            let done = work(&mut connection);
            if matches!(done, Err(ApiError::Unavailable)) {
                connection.mark_lost();
            }
            done
        })
        .await?
    }

    /// [`Self::with_connection`] for a read that may lag the primary a moment (a report, an
    /// export, public open data): on the read replica when one is set and answering, else (or
    /// when the replica fails under it) on the primary.
    pub async fn with_read_connection<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnMut(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let reads = self.reads.clone();
        web::block(move || reads.read(|error| matches!(error, ApiError::Unavailable), work)).await?
    }

    /// Runs a read of a public list: an anonymous caller has no writes of its own to see, so
    /// its read may lag (the read replica); a caller with a token reads the primary.
    pub async fn with_list_connection<T, F>(
        &self,
        request: &HttpRequest,
        work: F,
    ) -> Result<T, ApiError>
    where
        F: FnMut(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        if request.headers().contains_key(header::AUTHORIZATION) {
            self.with_connection(work).await
        } else {
            self.with_read_connection(work).await
        }
    }
}
