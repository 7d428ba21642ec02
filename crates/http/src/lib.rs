//! Catalyst's HTTP API: the actix-web application, its handlers, RFC 9457 errors and the OpenAPI
//! document.
//!
//! The crate is in rooms, one folder each: [`resources`] (a collection's routes, handlers and
//! DTOs), [`middleware`] (what wraps every request), [`extract`] (reading a request),
//! [`read_models`] (reports, exports, OCDS, the change feed), [`workers`] (import jobs, webhook
//! delivery), [`server`] (state, the OpenAPI document, health, metrics), [`auth`] and
//! [`problem`] (every error as problem+json).
//!
//! A request's path: [`middleware::request_context`] gives it an id and logs it; a handler in a
//! resource module parses and checks it (bodies through [`extract::body`], queries through
//! [`extract::query`]), asks the domain for the rules and the persistence crate for the rows on a
//! blocking thread ([`server::state::AppState::with_connection`]), and answers; every error
//! becomes problem+json in [`problem`].

pub mod auth;
pub mod extract;
pub mod middleware;
pub mod problem;
pub mod read_models;
pub mod resources;
pub mod server;
pub mod workers;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{get, web, App, HttpResponse, HttpServer};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

pub use problem::{ApiError, Problem};
pub use server::state::AppState;

/// Where the spec is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const KEEP_ALIVE: Duration = Duration::from_secs(30);

/// Registers every documented operation, in one place for the server and the spec alike.
fn register(config: &mut ServiceConfig) {
    config
        .service(server::home::get_home)
        .service(server::health::healthz)
        .service(server::health::readyz)
        .configure(server::metrics::routes)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .service(server::root::get_api_index)
                .service(get_openapi)
                .service(auth::token::create_token)
                .service(auth::token::revoke_token)
                .service(auth::token::get_jwks)
                .service(resources::audit::list_audit_entries)
                .configure(resources::organisations::routes)
                .configure(resources::programmes::routes)
                .configure(resources::challenges::routes)
                .configure(resources::phases::routes)
                .configure(resources::applications::routes)
                .configure(resources::awards::routes)
                .configure(resources::milestones::routes)
                .configure(resources::trials::routes)
                .configure(resources::contacts::routes)
                .configure(resources::users::routes)
                .configure(resources::api_clients::routes)
                .configure(read_models::changes::routes)
                .configure(read_models::exports::routes)
                .configure(read_models::reports::routes)
                .configure(read_models::ocds::routes)
                .configure(read_models::feeds::routes)
                .configure(read_models::journeys::routes)
                .configure(resources::webhooks::routes)
                .configure(resources::imports::routes),
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
        .openapi(server::openapi::base_document())
        .configure(register)
        .split_for_parts();
    server::openapi::complete(document)
}

/// The spec as committed in `openapi/v1.json`: pretty JSON with a final newline.
pub fn openapi_json() -> String {
    spec_text(&openapi())
}

/// `document` with the domain's rules written in, as pretty JSON with a final newline.
fn spec_text(document: &utoipa::openapi::OpenApi) -> String {
    let mut document = serde_json::to_value(document).unwrap_or_default();
    server::spec_constraints::constrain(&mut document);
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
    pub webhooks: workers::webhook_delivery::DeliverySettings,
}

/// CORS for the configured origins: the methods and headers the API uses, and every response
/// header the README tells a client to read (a browser hides the rest from scripts).
fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
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

/// The server on an already bound listener. It stops gracefully on SIGTERM and SIGINT: it stops
/// accepting, lets in-flight requests finish (up to the shutdown timeout), then exits.
pub fn server(
    state: AppState,
    listener: TcpListener,
    settings: &ServerSettings,
) -> std::io::Result<Server> {
    let document = openapi();
    let routes = web::Data::new(server::openapi::RouteTable::from_document(&document));
    let spec = web::Data::new(SpecDocument(spec_text(&document)));
    actix_web::rt::spawn(workers::housekeeping::run(
        state.clone(),
        settings.change_retention,
    ));
    actix_web::rt::spawn(workers::import_engine::worker(
        state.pool.clone(),
        state.imports_queued.clone(),
    ));
    actix_web::rt::spawn(workers::webhook_delivery::run(
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
            .wrap(from_fn(middleware::conditional_get::tag_representations))
            .wrap(from_fn(middleware::idempotency::guard))
            .wrap(from_fn(middleware::rate_limit::guard))
            .wrap(Compress::default())
            .wrap(cors(&origins))
            .wrap(from_fn(middleware::security_headers::add))
            .wrap(from_fn(middleware::head::as_get))
            .wrap(from_fn(middleware::request_context::track_request))
            .configure(|config| register(&mut ServiceConfig::new(config)))
            .service(problem_type)
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::new([OPENAPI_PATH])),
            )
            .service(web::redirect("/docs", "/docs/"))
            .default_service(web::to(server::fallback::unmatched))
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
