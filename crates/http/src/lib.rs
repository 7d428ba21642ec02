//! Catalyst's HTTP API: the actix-web application, its handlers, RFC 9457 errors and the OpenAPI
//! document.
//!
//! A request's path: [`request_context`] gives it an id and logs it; a handler in a resource
//! module parses and checks it (bodies through [`body`], queries through [`query`]), asks the
//! domain for the rules and the persistence crate for the rows on a blocking thread
//! ([`state::AppState::with_connection`]), and answers; every error becomes problem+json in
//! [`problem`].

pub mod api_clients;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod awards;
pub mod body;
pub mod challenges;
pub mod changes;
pub mod conditional;
pub mod contacts;
pub mod exports;
pub mod fallback;
pub mod health;
pub mod idempotency;
pub mod import_engine;
pub mod imports;
pub mod links;
pub mod lists;
pub mod metrics;
pub mod milestones;
pub mod ocds;
pub mod openapi;
pub mod organisations;
pub mod pagination;
pub mod phases;
pub mod problem;
pub mod programmes;
pub mod query;
pub mod rate_limit;
pub mod report_schemas;
pub mod reports;
pub mod request_context;
pub mod resources;
pub mod security_headers;
pub mod spec_constraints;
pub mod state;
pub mod trials;
pub mod upsert;
pub mod users;
pub mod webhook_delivery;
pub mod webhooks;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{get, middleware, web, App, HttpResponse, HttpServer};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

pub use problem::{ApiError, Problem};
pub use state::AppState;

/// Where the spec is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const KEEP_ALIVE: Duration = Duration::from_secs(30);

/// Registers every documented operation, in one place for the server and the spec alike.
fn register(config: &mut ServiceConfig) {
    config
        .service(health::healthz)
        .service(health::readyz)
        .configure(metrics::routes)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .service(get_openapi)
                .service(auth::token::create_token)
                .service(auth::token::revoke_token)
                .service(auth::token::get_jwks)
                .service(audit::list_audit_entries)
                .configure(organisations::routes)
                .configure(programmes::routes)
                .configure(challenges::routes)
                .configure(phases::routes)
                .configure(applications::routes)
                .configure(awards::routes)
                .configure(milestones::routes)
                .configure(trials::routes)
                .configure(contacts::routes)
                .configure(users::routes)
                .configure(api_clients::routes)
                .configure(changes::routes)
                .configure(exports::routes)
                .configure(reports::routes)
                .configure(ocds::routes)
                .configure(webhooks::routes)
                .configure(imports::routes),
        );
}

/// The spec as served, computed once at start.
#[derive(Debug, Clone)]
pub struct SpecDocument(pub String);

/// The OpenAPI 3.1 document of this API (the same as `openapi/v1.json`).
#[utoipa::path(
    tag = "meta",
    operation_id = "get_openapi",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
#[get("/openapi.json")]
async fn get_openapi(document: web::Data<SpecDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}

/// The OpenAPI document, exactly as the server serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, document) = App::new()
        .into_utoipa_app()
        .openapi(openapi::base_document())
        .configure(register)
        .split_for_parts();
    openapi::complete(document)
}

/// The spec as committed in `openapi/v1.json`: pretty JSON with a final newline.
pub fn openapi_json() -> String {
    spec_text(&openapi())
}

/// `document` with the domain's rules written in, as pretty JSON with a final newline.
fn spec_text(document: &utoipa::openapi::OpenApi) -> String {
    let mut document = serde_json::to_value(document).unwrap_or_default();
    spec_constraints::constrain(&mut document);
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// Human-readable description of a problem `type`.
#[get("/problems/{code}")]
async fn problem_type(code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    problem::PROBLEM_TYPES
        .iter()
        .find(|(known, _)| *known == code.as_str())
        .map(|(known, description)| {
            HttpResponse::Ok()
                .json(serde_json::json!({ "code": known, "description": description }))
        })
        .ok_or_else(|| ApiError::NotFound(format!("no problem type {:?}", code.as_str())))
}

/// Settings of the HTTP server itself.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// How long in-flight requests get to finish after SIGTERM or SIGINT.
    pub shutdown_timeout: Duration,
    /// Browser origins allowed to call the API (CORS); empty: none.
    pub cors_origins: Vec<String>,
    /// How long the change feed keeps changes; an older cursor is 410 Gone.
    pub change_retention: chrono::Duration,
    /// How webhook deliveries are sent.
    pub webhooks: webhook_delivery::DeliverySettings,
}

/// CORS for the configured origins: the methods and headers the API uses, and every response
/// header the README tells a client to read (a browser hides the rest from scripts).
fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::IF_MATCH,
            actix_web::http::header::IF_NONE_MATCH,
            actix_web::http::header::HeaderName::from_static("idempotency-key"),
            actix_web::http::header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            actix_web::http::header::ETAG,
            actix_web::http::header::LINK,
            actix_web::http::header::LOCATION,
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::CONTENT_DISPOSITION,
            actix_web::http::header::WWW_AUTHENTICATE,
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            actix_web::http::header::HeaderName::from_static("idempotent-replayed"),
            actix_web::http::header::HeaderName::from_static("ratelimit-limit"),
            actix_web::http::header::HeaderName::from_static("ratelimit-remaining"),
            actix_web::http::header::HeaderName::from_static("ratelimit-reset"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Housekeeping every ten minutes: expired idempotency keys and stale sign-in counts are
/// deleted, so those tables stay small. Any replica may do it; the deletes are idempotent.
pub async fn housekeeping(state: AppState, change_retention: chrono::Duration) {
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
            Ok(Ok((keys, counts, changes))) => {
                tracing::debug!(keys, counts, changes, "housekeeping")
            }
            Ok(Err(error)) => tracing::warn!(%error, "housekeeping failed"),
            Err(error) => tracing::warn!(%error, "housekeeping failed"),
        }
    }
}

/// The server on an already bound listener. It stops gracefully on SIGTERM and SIGINT: it stops
/// accepting, lets in-flight requests finish (up to the shutdown timeout), then exits.
pub fn server(
    state: AppState,
    listener: TcpListener,
    settings: &ServerSettings,
) -> std::io::Result<Server> {
    let document = openapi();
    let routes = web::Data::new(openapi::RouteTable::from_document(&document));
    let spec = web::Data::new(SpecDocument(spec_text(&document)));
    actix_web::rt::spawn(housekeeping(state.clone(), settings.change_retention));
    actix_web::rt::spawn(imports::worker(state.pool.clone()));
    actix_web::rt::spawn(webhook_delivery::run(
        state.pool.clone(),
        settings.webhooks.clone(),
    ));
    let state = web::Data::new(state);
    let origins = settings.cors_origins.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(routes.clone())
            .app_data(spec.clone())
            .wrap(middleware::from_fn(idempotency::guard))
            .wrap(middleware::from_fn(rate_limit::guard))
            .wrap(middleware::Compress::default())
            .wrap(cors(&origins))
            .wrap(middleware::from_fn(security_headers::add))
            .wrap(middleware::from_fn(request_context::track_request))
            .configure(|config| register(&mut ServiceConfig::new(config)))
            .service(problem_type)
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::new([OPENAPI_PATH])),
            )
            .service(web::redirect("/docs", "/docs/"))
            .default_service(web::to(fallback::unmatched))
    })
    .shutdown_timeout(settings.shutdown_timeout.as_secs())
    // A client gets this long to send a request's head, and an idle kept-alive connection is
    // closed after this: slow or silent clients cannot pile up connections.
    .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
    .keep_alive(KEEP_ALIVE)
    // Without it, a response written in pieces (compressed, streamed) on a kept-alive
    // connection waits for the client's delayed ACK: 40 ms a request.
    .tcp_nodelay(true)
    .listen(listener)?;
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}
