//! `GET /metrics`: what an operator scrapes with Prometheus. Requests by route and status and
//! their latency are this process's own (each replica is scraped apart); pool usage is this
//! process's pool; the webhook outbox and the change log are read from the database, so every
//! replica reports the same figures for them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use catalyst_domain::{Actor, Scope};
use catalyst_persistence::operations::{self, Backlog};

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::server::state::AppState;

pub const TAG: &str = "operations";

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The route a request matched, as declared (`/api/v1/awards/{id}`), so that ids never become
/// labels; requests that matched no route share one label.
pub const UNMATCHED_ROUTE: &str = "unmatched";

#[derive(Debug, Default)]
struct RouteFigures {
    by_status: BTreeMap<u16, u64>,
    /// Cumulative counts are worked out when rendering; each slot counts the requests that
    /// fell in that bucket only (the last slot: above every bound).
    buckets: [u64; LATENCY_BUCKETS.len() + 1],
    seconds: f64,
    count: u64,
}

/// Figures counted as requests are served.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), RouteFigures>>,
}

impl Metrics {
    /// Counts one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let slot = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        // A poisoned lock only means another request panicked mid-count: the figures stay
        // usable, so keep counting.
        let mut routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let figures = routes
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        *figures.by_status.entry(status).or_default() += 1;
        figures.buckets[slot] += 1;
        figures.seconds += seconds;
        figures.count += 1;
    }

    fn render_requests(&self, out: &mut String) {
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        header(
            out,
            "catalyst_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route and status.",
        );
        for ((method, route), figures) in routes.iter() {
            for (status, count) in &figures.by_status {
                let _ = writeln!(
                    out,
                    "catalyst_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }
        header(
            out,
            "catalyst_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its response, by method and route.",
        );
        for ((method, route), figures) in routes.iter() {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            let mut cumulative = 0;
            for (bound, count) in LATENCY_BUCKETS.iter().zip(&figures.buckets) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "catalyst_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "catalyst_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                figures.count
            );
            let _ = writeln!(
                out,
                "catalyst_http_request_duration_seconds_sum{{{labels}}} {}",
                figures.seconds
            );
            let _ = writeln!(
                out,
                "catalyst_http_request_duration_seconds_count{{{labels}}} {}",
                figures.count
            );
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

/// A label value as the exposition format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn may_scrape(actor: &Actor) -> bool {
    actor.is_admin()
        || matches!(actor, Actor::Client { scopes, .. } if scopes.contains(&Scope::Metrics))
}

/// Prometheus metrics.
///
/// In the Prometheus text format: `catalyst_http_requests_total` (by method, route and
/// status), `catalyst_http_request_duration_seconds` (a histogram by method and route),
/// `catalyst_db_pool_*` (connections open, idle, in use, and the maximum),
/// `catalyst_database_up`, `catalyst_webhook_outbox_depth` (deliveries waiting),
/// `catalyst_webhook_deliveries_retrying` and `catalyst_webhook_deliveries_failed` (given
/// up), `catalyst_change_log_lag_changes` and `catalyst_change_log_lag_seconds`
/// (changes written by transactions still running, which the change feed cannot hand out
/// yet, and the age of the oldest). For an admin or an API client with the `metrics` scope;
/// for anyone when the server runs with `CATALYST_METRICS_PUBLIC=true`.
#[utoipa::path(
    tag = TAG, operation_id = "metrics", security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, description = "No valid access token (and the metrics are not public)"),
        (status = 403, description = "Neither an admin nor an API client with the metrics scope"),
    )
)]
#[get("/metrics")]
pub async fn metrics(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.metrics_public {
        match caller.actor() {
            Actor::Anonymous => return Err(catalyst_domain::Denied::Unauthenticated.into()),
            actor if !may_scrape(actor) => {
                return Err(ApiError::Forbidden(
                    "metrics are for admins and API clients with the metrics scope".to_owned(),
                ))
            }
            _ => {}
        }
    }
    let backlog = state
        .with_connection(|connection| Ok(operations::backlog(connection)?))
        .await;
    let mut out = String::new();
    state.metrics.render_requests(&mut out);
    let (open, idle) = state.pool.state();
    gauge(
        &mut out,
        "catalyst_db_pool_connections",
        "Database connections open in this process's pool.",
        open,
    );
    gauge(
        &mut out,
        "catalyst_db_pool_idle_connections",
        "Open connections waiting in the pool.",
        idle,
    );
    gauge(
        &mut out,
        "catalyst_db_pool_in_use_connections",
        "Connections lent to requests and workers.",
        open.saturating_sub(idle),
    );
    gauge(
        &mut out,
        "catalyst_db_pool_max_connections",
        "The pool's size limit.",
        state.pool.max_size(),
    );
    gauge(
        &mut out,
        "catalyst_database_up",
        "1 when the database answered this scrape, else 0 (and the figures read from it are left out).",
        u8::from(backlog.is_ok()),
    );
    if let Ok(backlog) = backlog {
        render_backlog(&mut out, &backlog);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out))
}

fn render_backlog(out: &mut String, backlog: &Backlog) {
    gauge(
        out,
        "catalyst_webhook_outbox_depth",
        "Webhook deliveries waiting to be sent (first attempts and retries).",
        backlog.outbox_depth,
    );
    gauge(
        out,
        "catalyst_webhook_deliveries_retrying",
        "Waiting deliveries that have failed at least once.",
        backlog.retrying,
    );
    gauge(
        out,
        "catalyst_webhook_deliveries_failed",
        "Deliveries given up after their last attempt.",
        backlog.failed,
    );
    gauge(
        out,
        "catalyst_change_log_lag_changes",
        "Changes written by transactions still running: the change feed hands them out once those commit.",
        backlog.change_lag,
    );
    gauge(
        out,
        "catalyst_change_log_lag_seconds",
        "Age of the oldest change the change feed cannot hand out yet (0 when none).",
        backlog.change_lag_seconds,
    );
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(metrics);
}
