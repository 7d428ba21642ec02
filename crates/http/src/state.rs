//! What every handler shares: the pool and the HTTP settings.

use std::sync::Arc;

use actix_web::web;
use catalyst_persistence::{DbConnection, Pool};

use crate::auth::TokenKeys;
use crate::problem::ApiError;

#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: Pool,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    pub keys: Arc<TokenKeys>,
    /// Whether webhooks may go to private, loopback and link-local addresses.
    pub webhooks_allow_private: bool,
    /// Largest import upload, in bytes.
    pub import_limit: usize,
    /// The registered OCDS prefix of every `ocid` published (`ocds-` and six characters).
    pub ocid_prefix: String,
}

impl AppState {
    /// Runs `work` with a pooled connection on a blocking thread: diesel's calls block, and must
    /// never hold up the async executor. The connection goes back to the pool when `work` ends.
    pub async fn with_connection<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut connection = pool.get()?;
            work(&mut connection)
        })
        .await?
    }
}
