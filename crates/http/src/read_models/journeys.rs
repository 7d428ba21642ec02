//! A supplier's journey: its applications, its awards phase by phase with their lineage, the
//! trials of its solutions and whether each was adopted, with the follow-on value. One page for
//! the question "how did this SME get on with public bodies", as JSON or CSV; each caller sees
//! what the lists show them (applications and unpublished trials only to their parties).

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use catalyst_api::journeys::{journey_of, Journey};
use catalyst_domain::{ChallengeId, Money, OrganisationId, Phase, PhaseId};
use catalyst_persistence::keyset::{After, Page, Sort};
use catalyst_persistence::{applications, awards, organisations, phases, trials, StoreError};

use crate::auth::Caller;
use crate::extract::id_path::RecordId;
use crate::extract::query::QueryParams;
use crate::problem::{ApiError, ProblemItem};
use crate::read_models::exports::text_cell;
use crate::server::state::AppState;

/// Every page of a list, in id order.
fn every<T>(
    mut page_of: impl FnMut(Option<&After>) -> Result<Page<T>, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = page_of(after.as_ref())?;
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

/// Pounds and pence, as spreadsheets read a number.
fn pounds(money: Money) -> String {
    catalyst_domain::money::decimal(money.minor_units())
}

/// The journey as CSV: a line per step (application, award, trial), oldest kind first.
fn csv(journey: &Journey) -> String {
    let mut out = String::from(
        "step,id,phase_number,status,day,amount.amount,amount.currency,parent_award_id,award_id,adopted\r\n",
    );
    let cell = |value: Option<String>| value.map(|text| text_cell(&text)).unwrap_or_default();
    let line = |out: &mut String, cells: [String; 10]| {
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    for application in &journey.applications {
        line(
            &mut out,
            [
                "application".to_owned(),
                application.id.clone(),
                cell(application.phase_number.map(|n| n.to_string())),
                application.status.to_string(),
                cell(application.submitted_on.map(|day| day.to_string())),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
        );
    }
    for award in &journey.awards {
        line(
            &mut out,
            [
                "award".to_owned(),
                award.id.clone(),
                cell(award.phase_number.map(|n| n.to_string())),
                award.status.to_string(),
                cell(award.starts_on.map(|day| day.to_string())),
                pounds(award.amount),
                award.amount.currency().to_string(),
                cell(award.parent_award_id.clone()),
                String::new(),
                String::new(),
            ],
        );
        for trial in &award.trials {
            line(
                &mut out,
                [
                    "trial".to_owned(),
                    trial.id.clone(),
                    String::new(),
                    trial.status.to_string(),
                    cell(trial.starts_on.map(|day| day.to_string())),
                    cell(trial.follow_on_value.map(pounds)),
                    cell(
                        trial
                            .follow_on_value
                            .map(|value| value.currency().to_string()),
                    ),
                    String::new(),
                    award.id.clone(),
                    cell(trial.adopted.map(|adopted| adopted.to_string())),
                ],
            );
        }
    }
    out
}

/// A supplier's journey: applications, awards by phase with their lineage, trials and adoption.
///
/// What the caller may see of it, as the lists show it: awards are public; applications are
/// seen by the supplier's own people, the challenge owners' officers and programme staff;
/// trials once public, or by their parties. `summary` counts what is listed (follow-on value in
/// pounds). `format=csv` gives a line per step (application, award, trial), amounts in pounds.
#[utoipa::path(
    tag = "organisations", operation_id = "get_supplier_journey",
    params(("id" = uuid::Uuid, Path, description = "The supplier's organisation id"),
        ("format" = Option<String>, Query, description = "`json` (default) or `csv`")),
    responses(
        (status = 200, description = "The journey: JSON, or CSV (a line per step)", content(
            (Journey = "application/json"), (String = "text/csv"))),
        (status = 400, description = "An unknown parameter or format"),
        (status = 404, description = "No such organisation"),
    )
)]
#[get("/organisations/{id}/journey")]
pub async fn get_supplier_journey(
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = QueryParams::parse(&request, &["format"])?;
    let as_csv = match params.get("format") {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::InvalidQuery(vec![ProblemItem::parameter(
                "format",
                "unknown_format",
                format!("format must be json or csv, got {other:?}"),
            )]))
        }
    };
    let supplier_id = OrganisationId::from_path(&id)?;
    let applications_seen = crate::resources::applications::private_visibility(caller.actor());
    let trials_seen = crate::resources::trials::visibility(caller.actor());
    let journey = state
        .with_read_connection(move |connection| {
            let supplier =
                organisations::find(connection, supplier_id).map_err(|error| match error {
                    StoreError::NotFound => {
                        ApiError::NotFound(format!("no organisation has id {supplier_id}"))
                    }
                    other => other.into(),
                })?;
            let application_filter = applications::ApplicationFilter {
                supplier_organisation_id: Some(supplier_id),
                ..Default::default()
            };
            let found_applications = every(|after| {
                applications::list(
                    connection,
                    &applications_seen,
                    &application_filter,
                    &Sort::ascending(applications::ApplicationSortField::Id),
                    after,
                    500,
                )
            })?;
            let award_filter = awards::AwardFilter {
                supplier_organisation_id: Some(supplier_id),
                ..Default::default()
            };
            let found_awards = every(|after| {
                awards::list(
                    connection,
                    &award_filter,
                    &Sort::ascending(awards::AwardSortField::Id),
                    after,
                    500,
                )
            })?;
            let trial_filter = trials::TrialFilter {
                supplier_organisation_id: Some(supplier_id),
                ..Default::default()
            };
            let found_trials = every(|after| {
                trials::list(
                    connection,
                    &trials_seen,
                    &trial_filter,
                    &Sort::ascending(trials::TrialSortField::Id),
                    after,
                    500,
                )
            })?;
            let mut challenge_ids: Vec<ChallengeId> = found_awards
                .iter()
                .map(|award| award.challenge_id)
                .chain(
                    found_applications
                        .iter()
                        .map(|application| application.challenge_id),
                )
                .collect();
            challenge_ids.sort_by_key(ToString::to_string);
            challenge_ids.dedup();
            let phases: HashMap<PhaseId, Phase> =
                phases::all_of_challenges(connection, &challenge_ids)?
                    .into_iter()
                    .map(|phase| (phase.id, phase))
                    .collect();
            Ok(journey_of(
                supplier,
                found_applications,
                found_awards,
                found_trials,
                &phases,
            ))
        })
        .await?;
    if as_csv {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"journey.csv\"",
            ))
            .body(csv(&journey)));
    }
    Ok(HttpResponse::Ok().json(journey))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(get_supplier_journey);
}
