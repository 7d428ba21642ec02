//! A supplier's journey: its applications, its awards phase by phase with their lineage, the
//! trials of its solutions and whether each was adopted, with the follow-on value. One page for
//! the question "how did this SME get on with public bodies", as JSON or CSV; each caller sees
//! what the lists show them (applications and unpublished trials only to their parties).

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use catalyst_domain::{
    Application, Award, ChallengeId, Money, OrganisationId, Phase, PhaseId, Scale, Trial,
};
use catalyst_persistence::keyset::{After, Page, Sort};
use catalyst_persistence::{applications, awards, organisations, phases, trials, StoreError};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

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

/// The supplier.
#[derive(Debug, Serialize, ToSchema)]
pub struct JourneySupplier {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    pub name: String,
    pub scale: Option<Scale>,
}

/// An application the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct JourneyApplication {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub challenge_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub phase_id: String,
    pub phase_number: Option<i32>,
    pub status: catalyst_domain::ApplicationStatus,
    pub submitted_on: Option<NaiveDate>,
}

/// A trial of the supplier's solution under one of its awards.
#[derive(Debug, Serialize, ToSchema)]
pub struct JourneyTrial {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    pub status: catalyst_domain::TrialStatus,
    pub starts_on: Option<NaiveDate>,
    /// Whether the host adopted it (a follow-on contract); null until decided.
    pub adopted: Option<bool>,
    pub follow_on_value: Option<Money>,
}

/// An award (a contract), where it sits in the phases and what it led to.
#[derive(Debug, Serialize, ToSchema)]
pub struct JourneyAward {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub challenge_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub phase_id: String,
    pub phase_number: Option<i32>,
    pub amount: Money,
    pub status: catalyst_domain::AwardStatus,
    pub starts_on: Option<NaiveDate>,
    /// The earlier award this one follows on from (Phase 1 to Phase 2).
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_award_id: Option<String>,
    pub trials: Vec<JourneyTrial>,
}

/// The journey in figures: what the lists below hold.
#[derive(Debug, Serialize, ToSchema)]
pub struct JourneySummary {
    pub applications_submitted: i64,
    pub phase_1_awards: i64,
    /// Awards of Phase 2 or later.
    pub phase_2_awards: i64,
    /// Phase 2 (or later) awards that follow on from one of the supplier's own earlier awards.
    pub progressed: i64,
    pub trials: i64,
    pub adopted: i64,
    /// Follow-on contracts of adopted trials, in pounds (other currencies are not added in).
    pub follow_on_value: Money,
}

/// A supplier's journey from application to adoption.
#[derive(Debug, Serialize, ToSchema)]
pub struct Journey {
    pub supplier: JourneySupplier,
    pub summary: JourneySummary,
    pub applications: Vec<JourneyApplication>,
    pub awards: Vec<JourneyAward>,
}

fn journey_of(
    supplier: catalyst_domain::Organisation,
    applications: Vec<Application>,
    awards: Vec<Award>,
    trials: Vec<Trial>,
    phases: &HashMap<PhaseId, Phase>,
) -> Journey {
    let number = |phase: PhaseId| phases.get(&phase).map(|phase| phase.fields.number);
    let mut summary = JourneySummary {
        applications_submitted: 0,
        phase_1_awards: 0,
        phase_2_awards: 0,
        progressed: 0,
        trials: 0,
        adopted: 0,
        follow_on_value: Money::zero(catalyst_domain::Currency::GBP),
    };
    let mut follow_on = 0;
    let mut trials_of: HashMap<String, Vec<JourneyTrial>> = HashMap::new();
    for trial in trials {
        let Some(award) = trial.fields.award_id else {
            continue;
        };
        summary.trials += 1;
        if trial.fields.adopted == Some(true) {
            summary.adopted += 1;
            if let Some(value) = trial.fields.follow_on_value {
                if value.currency() == catalyst_domain::Currency::GBP {
                    follow_on += value.minor_units();
                }
            }
        }
        trials_of
            .entry(award.to_string())
            .or_default()
            .push(JourneyTrial {
                id: trial.id.to_string(),
                status: trial.status,
                starts_on: trial.fields.starts_on,
                adopted: trial.fields.adopted,
                follow_on_value: trial.fields.follow_on_value,
            });
    }
    summary.follow_on_value =
        Money::gbp_pence(follow_on).unwrap_or(Money::zero(catalyst_domain::Currency::GBP));
    let own: std::collections::HashSet<String> =
        awards.iter().map(|award| award.id.to_string()).collect();
    let awards = awards
        .into_iter()
        .map(|award| {
            let phase_number = number(award.fields.phase_id);
            if phase_number.unwrap_or(1) <= 1 {
                summary.phase_1_awards += 1;
            } else {
                summary.phase_2_awards += 1;
                if award
                    .fields
                    .parent_award_id
                    .is_some_and(|parent| own.contains(&parent.to_string()))
                {
                    summary.progressed += 1;
                }
            }
            JourneyAward {
                trials: trials_of.remove(&award.id.to_string()).unwrap_or_default(),
                id: award.id.to_string(),
                challenge_id: award.challenge_id.to_string(),
                phase_id: award.fields.phase_id.to_string(),
                phase_number,
                amount: award.fields.amount,
                status: award.status,
                starts_on: award.fields.starts_on,
                parent_award_id: award.fields.parent_award_id.map(|id| id.to_string()),
            }
        })
        .collect();
    let applications = applications
        .into_iter()
        .map(|application| {
            if application.submitted_at.is_some() {
                summary.applications_submitted += 1;
            }
            JourneyApplication {
                id: application.id.to_string(),
                challenge_id: application.challenge_id.to_string(),
                phase_id: application.fields.phase_id.to_string(),
                phase_number: number(application.fields.phase_id),
                status: application.status,
                submitted_on: application
                    .submitted_at
                    .map(|at| at.as_datetime().date_naive()),
            }
        })
        .collect();
    Journey {
        supplier: JourneySupplier {
            id: supplier.id.to_string(),
            name: supplier.fields.name,
            scale: supplier.fields.scale,
        },
        summary,
        applications,
        awards,
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
