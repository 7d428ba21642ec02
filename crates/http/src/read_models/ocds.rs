//! Open Contracting Data Standard 1.1: `/api/v1/ocds/releases` (a release package) and
//! `/api/v1/ocds/records/{ocid}` (a record package with its compiled release).
//!
//! Each phase of a published challenge is one contracting process (an SBRI phase is its own
//! competition): `ocid` = the configured prefix + the phase's id. Its release holds the tender
//! (the challenge's problem in that phase, its budget and dates), the awards and their
//! contracts, the contracts' milestones, and the payments as implementation transactions. A
//! later phase names the one before as a `prior` related process. Drafts are never published.

use std::collections::HashMap;

use actix_web::{get, web, HttpRequest, HttpResponse};
use catalyst_domain::{Award, Milestone, Phase, PhaseId, Timestamp};
use catalyst_persistence::challenges::Visibility;
use catalyst_persistence::keyset::Sort;
use catalyst_persistence::phases::{PhaseFilter, PhaseSortField};
use catalyst_persistence::{
    awards, challenges, milestones, organisations, phases, programmes, DbConnection, StoreError,
};
use serde_json::json;
use utoipa::IntoParams;

use catalyst_api::ocds::{publisher, release, time, Process};

use crate::extract::pagination::{decode_cursor, encode_cursor, KeyKind};
use crate::extract::query::QueryParams;
use crate::problem::{ApiError, ProblemItem};
use crate::server::state::AppState;

pub const TAG: &str = "ocds";

const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 20;
/// Cursors of the release list (one order, no filters).
const CURSOR_SCOPE: &str = "ocds-releases";

fn not_found() -> ApiError {
    ApiError::NotFound("no published contracting process has this ocid".to_owned())
}

/// Reads one phase's process, if its challenge is published.
fn load(connection: &mut DbConnection, phase: Phase) -> Result<Option<Process>, ApiError> {
    let challenge = challenges::find(connection, phase.fields.challenge_id)?;
    if !challenge.is_published() {
        return Ok(None);
    }
    let programme = programmes::find(connection, challenge.fields.programme_id)?;
    let previous = if phase.fields.number > 1 {
        phases::find_by_number(connection, challenge.id, phase.fields.number - 1)?
    } else {
        None
    };
    let mut found = Vec::new();
    let mut after = None;
    let sort = Sort::ascending(awards::AwardSortField::Id);
    loop {
        let page = awards::list(
            connection,
            &awards::AwardFilter {
                phase_id: Some(phase.id),
                ..awards::AwardFilter::default()
            },
            &sort,
            after.as_ref(),
            500,
        )?;
        found.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // Every milestone of the phase's awards in one query, not one per award.
    let award_ids: Vec<_> = found.iter().map(|award| award.id).collect();
    let mut by_award: HashMap<_, Vec<Milestone>> = HashMap::new();
    for milestone in milestones::all_of_awards(connection, &award_ids)? {
        by_award
            .entry(milestone.fields.award_id)
            .or_default()
            .push(milestone);
    }
    let with_milestones: Vec<(Award, Vec<Milestone>)> = found
        .into_iter()
        .map(|award| {
            let milestones = by_award.remove(&award.id).unwrap_or_default();
            (award, milestones)
        })
        .collect();
    let mut ids = vec![
        challenge.fields.owner_organisation_id,
        programme.fields.funder_organisation_id,
    ];
    ids.extend(
        with_milestones
            .iter()
            .map(|(award, _)| award.fields.supplier_organisation_id),
    );
    let mut organisations = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(entry) =
            organisations.entry(id.to_string())
        {
            entry.insert(organisations::find(connection, id)?);
        }
    }
    Ok(Some(Process {
        phase,
        previous,
        challenge,
        programme,
        awards: with_milestones,
        organisations,
    }))
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `QueryParams` parses them.
pub struct ReleaseParams {
    /// Processes per package: 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<i64>,
    /// The `links.next` of the previous package carries it.
    cursor: Option<String>,
}

/// OCDS releases: one per contracting process (each phase of a published challenge), as a
/// release package.
///
/// Pages through the processes in id order: `links.next` is the next page. Validates against
/// the OCDS 1.1.5 release package schema. Public: only published data.
#[utoipa::path(
    tag = TAG, operation_id = "ocds_releases", params(ReleaseParams),
    responses(
        (status = 200, description = "A release package", content_type = "application/json", body = Object),
        (status = 400, description = "A bad limit or cursor"),
    )
)]
#[get("/ocds/releases")]
pub async fn ocds_releases(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = QueryParams::parse(&request, &["limit", "cursor"])?;
    let limit = match params.get("limit") {
        None => DEFAULT_PAGE,
        Some(text) => match text.parse::<usize>() {
            Ok(limit) if (1..=MAX_PAGE).contains(&limit) => limit,
            _ => {
                return Err(ApiError::InvalidQuery(vec![ProblemItem::parameter(
                    "limit",
                    "invalid_limit",
                    format!("limit is a whole number from 1 to {MAX_PAGE}"),
                )]))
            }
        },
    };
    let after = params
        .get("cursor")
        .map(|cursor| {
            decode_cursor(cursor, CURSOR_SCOPE, &[KeyKind::Text])
                .map_err(|problem| ApiError::InvalidQuery(vec![problem]))
        })
        .transpose()?;
    let prefix = state.ocid_prefix.clone();
    let (releases, next) = state
        .with_read_connection(move |connection| {
            let page = phases::list(
                connection,
                &Visibility::PublishedAnd(Vec::new()),
                &PhaseFilter::default(),
                &Sort::ascending(PhaseSortField::Id),
                after.as_ref(),
                limit,
            )?;
            let mut releases = Vec::new();
            for phase in page.items {
                if let Some(process) = load(connection, phase)? {
                    releases.push(release(&prefix, &process));
                }
            }
            Ok((releases, page.next))
        })
        .await?;
    let base = crate::extract::links::base_url(&request);
    let mut package = json!({
        "uri": format!("{base}{}", request.uri()),
        "version": "1.1",
        "publishedDate": published_date(&releases),
        "publisher": publisher(),
        "releases": releases,
    });
    if let Some(next) = next {
        let cursor = encode_cursor(&next, CURSOR_SCOPE);
        package["links"] =
            json!({"next": format!("{base}/api/v1/ocds/releases?limit={limit}&cursor={cursor}")});
    }
    Ok(HttpResponse::Ok().json(package))
}

/// A package made on demand is dated by the last change to what it holds (the schema's
/// `publishedDate`), not by the moment it is asked for: so it changes, and so does its
/// `ETag`, only when its releases do. An empty package is dated now.
fn published_date(releases: &[serde_json::Value]) -> String {
    releases
        .iter()
        .filter_map(|release| release["date"].as_str())
        .max()
        .map_or_else(|| time(Timestamp::now()), str::to_owned)
}

/// One contracting process as an OCDS record package: its release and the compiled release.
#[utoipa::path(
    tag = TAG, operation_id = "ocds_record",
    params(("ocid" = String, Path, description = "The process's Open Contracting ID: the prefix and a phase's id")),
    responses(
        (status = 200, description = "A record package", content_type = "application/json", body = Object),
        (status = 404, description = "No published process has this ocid"),
    )
)]
#[get("/ocds/records/{ocid}")]
pub async fn ocds_record(
    request: HttpRequest,
    ocid: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let prefix = state.ocid_prefix.clone();
    let phase_id: PhaseId = ocid
        .strip_prefix(&format!("{prefix}-"))
        .and_then(|id| id.parse().ok())
        .ok_or_else(not_found)?;
    let compiled = state
        .with_read_connection(move |connection| {
            let phase = match phases::find(connection, phase_id) {
                Ok(phase) => phase,
                Err(StoreError::NotFound) => return Err(not_found()),
                Err(error) => return Err(error.into()),
            };
            let process = load(connection, phase)?.ok_or_else(not_found)?;
            Ok(release(&prefix, &process))
        })
        .await?;
    let base = crate::extract::links::base_url(&request);
    let package_url = format!("{base}/api/v1/ocds/records/{ocid}");
    let mut compiled_release = compiled.clone();
    compiled_release["tag"] = json!(["compiled"]);
    Ok(HttpResponse::Ok().json(json!({
        "uri": package_url,
        "version": "1.1",
        "publishedDate": published_date(std::slice::from_ref(&compiled)),
        "publisher": publisher(),
        "records": [{
            "ocid": compiled_release["ocid"],
            "releases": [compiled],
            "compiledRelease": compiled_release,
        }],
    })))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(ocds_releases).service(ocds_record);
}
