//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::ApiError;
use crate::server::state::AppState;

pub const TAG: &str = "health";

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Is the process up? Touches nothing else, so a slow database never gets a live process killed.
#[utoipa::path(
    tag = TAG,
    operation_id = "get_health",
    responses((status = 200, description = "The process is up", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Can this instance serve requests? 503 while the database cannot be reached.
#[utoipa::path(
    tag = TAG,
    operation_id = "get_readiness",
    responses(
        (status = 200, description = "Ready: the database answers", body = Health),
        (status = 503, description = "Not ready: the database cannot be reached"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let pool = state.pool.clone();
    // Not ready is not ready, whatever the database said: always 503, never 500.
    web::block(move || pool.check()).await?.map_err(|error| {
        tracing::warn!(%error, "not ready");
        ApiError::Unavailable
    })?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
