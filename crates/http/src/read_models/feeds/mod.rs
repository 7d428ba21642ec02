//! Opportunity feeds that SMEs subscribe to: the challenges open for applications as an Atom
//! feed (RFC 4287) and their application deadlines and phase dates as an iCalendar feed
//! (RFC 5545). Public, filterable by the owner's region, a theme or the owner, and cheap to poll:
//! a strong ETag from the body and a Last-Modified that moves whenever the set can have changed.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use actix_web::http::header::{self, HttpDate};
use actix_web::{get, web, HttpRequest, HttpResponse};
use catalyst_api::feeds::{atom, icalendar, Opportunity};
use catalyst_domain::{ChallengeId, Organisation, OrganisationId, Phase, Region, Timestamp};
use catalyst_persistence::{challenges, organisations, phases};
use utoipa::IntoParams;

use crate::extract::query::QueryParams;
use crate::problem::{ApiError, ProblemItem};
use crate::server::state::AppState;

pub const TAG: &str = "feeds";

/// How many challenges a feed carries at most: the most recently created.
const MOST: i64 = 200;

/// How long a poller may reuse a feed before asking again (it may revalidate for free).
const MAX_AGE_SECONDS: u32 = 300;

/// What a subscriber asked for.
struct Wanted {
    region: Option<Region>,
    theme: Option<String>,
    owner: Option<OrganisationId>,
}

fn wanted(request: &HttpRequest) -> Result<Wanted, ApiError> {
    let params = QueryParams::parse(request, &["region", "theme", "owner_id"])?;
    let mut errors = Vec::new();
    let region = params.get("region").and_then(|text| {
        text.parse::<Region>()
            .map_err(|error| {
                errors.push(ProblemItem::parameter(
                    "region",
                    "invalid_value",
                    error.to_string(),
                ))
            })
            .ok()
    });
    let owner = params.get("owner_id").and_then(|text| {
        text.parse::<OrganisationId>()
            .map_err(|_| {
                errors.push(ProblemItem::parameter(
                    "owner_id",
                    "invalid_id",
                    "owner_id must be a UUID",
                ))
            })
            .ok()
    });
    if !errors.is_empty() {
        return Err(ApiError::InvalidQuery(errors));
    }
    Ok(Wanted {
        region,
        theme: params
            .get("theme")
            .map(|theme| theme.trim().to_lowercase())
            .filter(|theme| !theme.is_empty()),
        owner,
    })
}

/// The challenges open now that the subscriber wants, newest first, and the moment the answer
/// can last have changed.
async fn opportunities(
    state: &AppState,
    wanted: Wanted,
) -> Result<(Vec<Opportunity>, Option<Timestamp>), ApiError> {
    state
        .with_read_connection(move |connection| {
            let now = Timestamp::now();
            let open = challenges::open_for_applications(connection, now, wanted.owner, MOST)?;
            let owner_ids: Vec<OrganisationId> = open
                .iter()
                .map(|challenge| challenge.fields.owner_organisation_id)
                .collect();
            let owners: HashMap<OrganisationId, Organisation> =
                organisations::find_all(connection, &owner_ids)?
                    .into_iter()
                    .map(|owner| (owner.id, owner))
                    .collect();
            let challenge_ids: Vec<ChallengeId> =
                open.iter().map(|challenge| challenge.id).collect();
            let mut phases_of: HashMap<ChallengeId, Vec<Phase>> = HashMap::new();
            for phase in phases::all_of_challenges(connection, &challenge_ids)? {
                phases_of
                    .entry(phase.fields.challenge_id)
                    .or_default()
                    .push(phase);
            }
            let mut found: Vec<Opportunity> = open
                .into_iter()
                .map(|challenge| Opportunity {
                    owner: owners.get(&challenge.fields.owner_organisation_id).cloned(),
                    phases: phases_of.remove(&challenge.id).unwrap_or_default(),
                    challenge,
                })
                .filter(|opportunity| {
                    wanted.region.is_none_or(|region| {
                        opportunity
                            .owner
                            .as_ref()
                            .and_then(|owner| owner.fields.region)
                            == Some(region)
                    })
                })
                .filter(|opportunity| {
                    wanted.theme.as_ref().is_none_or(|theme| {
                        opportunity
                            .challenge
                            .fields
                            .themes
                            .iter()
                            .any(|candidate| candidate.to_lowercase() == *theme)
                    })
                })
                .collect();
            found.sort_by(|a, b| {
                (b.published(), b.challenge.id.to_string())
                    .cmp(&(a.published(), a.challenge.id.to_string()))
            });
            let changed = challenges::open_set_changed_at(connection, now)?;
            let latest = found
                .iter()
                .map(Opportunity::updated)
                .fold(changed, |latest, updated| {
                    Some(latest.map_or(updated, |l| l.max(updated)))
                });
            Ok((found, latest))
        })
        .await
}

/// The feed's answer, with its validators: `Last-Modified` here, the `ETag` and the 304s from
/// `middleware::conditional_get`, as for every GET.
fn answer(content_type: &str, body: String, last_modified: Option<Timestamp>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.insert_header((
        header::CACHE_CONTROL,
        format!("public, max-age={MAX_AGE_SECONDS}"),
    ));
    if let Some(moment) = last_modified {
        // HTTP dates have whole seconds.
        let seconds = u64::try_from(moment.as_datetime().timestamp()).unwrap_or(0);
        let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
        response.insert_header((header::LAST_MODIFIED, HttpDate::from(modified)));
    }
    response.content_type(content_type).body(body)
}

/// The base of the links a feed gives (scheme and host as the caller reached the server).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `wanted` parses them.
pub struct FeedParams {
    /// Only challenges whose owner is in this ITL1 region, such as `yorkshire_and_the_humber`.
    region: Option<Region>,
    /// Only challenges with this theme (any case), such as `housing`.
    theme: Option<String>,
    /// Only this public body's challenges.
    #[param(value_type = Option<uuid::Uuid>)]
    owner_id: Option<String>,
}

/// Challenges open for applications, as an Atom feed (RFC 4287).
///
/// Newest first (by opening), each entry with its owner, problem statement, themes (as
/// categories), phases with their budgets and award caps, and when applications close. Public;
/// poll it with `If-None-Match` or `If-Modified-Since` (304 when nothing changed).
#[utoipa::path(
    tag = TAG, params(FeedParams,
        ("If-None-Match" = Option<String>, Header, description = "The ETag of your copy: 304 if it is current"),
        ("If-Modified-Since" = Option<String>, Header, description = "The Last-Modified of your copy: 304 if nothing changed since")),
    responses(
        (status = 200, description = "The feed", body = String, content_type = "application/atom+xml", headers(
            ("ETag" = String, description = "The feed's entity tag"),
            ("Last-Modified" = String, description = "When the set of open challenges last changed"))),
        (status = 304, description = "Not modified"),
        (status = 400, description = "An unknown parameter or a malformed filter"),
    )
)]
#[get("/feeds/challenges.atom")]
pub async fn challenges_atom(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (found, latest) = opportunities(&state, wanted(&request)?).await?;
    let self_url = format!(
        "{}{}",
        crate::extract::links::base_url(&request),
        request
            .uri()
            .path_and_query()
            .map_or("", |path| path.as_str())
    );
    let body = atom::feed(
        &crate::extract::links::base_url(&request),
        &self_url,
        &found,
        latest,
    );
    Ok(answer("application/atom+xml; charset=utf-8", body, latest))
}

/// Application deadlines and phase dates of the challenges open for applications, as an
/// iCalendar feed (RFC 5545).
///
/// One event when applications close (a moment), and one per phase with dates (all-day, from
/// its start to its end). Subscribe from a calendar application; the same filters and
/// conditional requests as the Atom feed.
#[utoipa::path(
    tag = TAG, params(FeedParams,
        ("If-None-Match" = Option<String>, Header, description = "The ETag of your copy: 304 if it is current"),
        ("If-Modified-Since" = Option<String>, Header, description = "The Last-Modified of your copy: 304 if nothing changed since")),
    responses(
        (status = 200, description = "The calendar", body = String, content_type = "text/calendar", headers(
            ("ETag" = String, description = "The calendar's entity tag"),
            ("Last-Modified" = String, description = "When the set of open challenges last changed"))),
        (status = 304, description = "Not modified"),
        (status = 400, description = "An unknown parameter or a malformed filter"),
    )
)]
#[get("/feeds/challenges.ics")]
pub async fn challenges_calendar(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (found, latest) = opportunities(&state, wanted(&request)?).await?;
    let body = icalendar::calendar(&crate::extract::links::base_url(&request), &found, latest);
    Ok(answer("text/calendar; charset=utf-8", body, latest))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(challenges_atom).service(challenges_calendar);
}
