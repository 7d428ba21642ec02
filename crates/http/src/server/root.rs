//! `GET /api/v1`: the API's front door, linking what a newcomer (or a crawler) looks for first:
//! the documentation, the spec, the opportunity feeds, the collections and the reports.

use std::collections::BTreeMap;

use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

/// Where things are, as paths on this server.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiIndex {
    /// `Catalyst`.
    pub name: String,
    /// What this service is, in a sentence.
    pub description: String,
    /// Named links: `documentation`, `openapi`, `opportunities_atom`, `opportunities_calendar`,
    /// `changes`, `ocds_releases`, each collection and each report.
    pub links: BTreeMap<String, String>,
}

/// The links, in the order a reader meets them.
pub const LINKS: [(&str, &str); 27] = [
    ("documentation", "/docs/"),
    ("openapi", "/api/v1/openapi.json"),
    ("opportunities_atom", "/api/v1/feeds/challenges.atom"),
    ("opportunities_calendar", "/api/v1/feeds/challenges.ics"),
    ("organisations", "/api/v1/organisations"),
    ("programmes", "/api/v1/programmes"),
    ("challenges", "/api/v1/challenges"),
    ("phases", "/api/v1/phases"),
    ("applications", "/api/v1/applications"),
    ("awards", "/api/v1/awards"),
    ("milestones", "/api/v1/milestones"),
    ("trials", "/api/v1/trials"),
    ("funding_report", "/api/v1/reports/funding"),
    ("sme_share_report", "/api/v1/reports/sme-share"),
    ("pipeline_report", "/api/v1/reports/pipeline"),
    ("trials_report", "/api/v1/reports/trials"),
    ("payment_times_report", "/api/v1/reports/payment-times"),
    ("funnel_report", "/api/v1/reports/funnel"),
    ("funding_chart", "/api/v1/reports/funding.svg"),
    ("sme_share_chart", "/api/v1/reports/sme-share.svg"),
    ("payment_times_chart", "/api/v1/reports/payment-times.svg"),
    ("funnel_chart", "/api/v1/reports/funnel.svg"),
    ("changes", "/api/v1/changes"),
    ("ocds_releases", "/api/v1/ocds/releases"),
    ("token", "/api/v1/auth/token"),
    ("jwks", "/api/v1/auth/jwks.json"),
    ("health", "/healthz"),
];

/// The API's index: links to its documentation, spec, feeds, collections and reports.
#[utoipa::path(
    tag = "meta", operation_id = "get_api_index",
    responses((status = 200, description = "Where things are", body = ApiIndex))
)]
#[get("")]
pub async fn get_api_index() -> HttpResponse {
    HttpResponse::Ok().json(ApiIndex {
        name: "Catalyst".to_owned(),
        description: "A record of public bodies' innovation challenges (SBRI): what was asked, the phases in which SMEs were contracted, the money committed and paid, and the trials of their solutions.".to_owned(),
        links: LINKS
            .iter()
            .map(|(name, path)| ((*name).to_owned(), (*path).to_owned()))
            .collect(),
    })
}
