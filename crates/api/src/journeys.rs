//! A supplier's journey: its applications, its awards phase by phase with their lineage, the
//! trials of its solutions and whether each was adopted, with the follow-on value, made from the
//! records the caller may see (the http crate's `read_models/journeys.rs` reads them and writes
//! the CSV).

use std::collections::HashMap;

use catalyst_domain::{Application, Award, Money, Phase, PhaseId, Scale, Trial};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

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

/// The journey of `supplier`, from its records the caller may see.
pub fn journey_of(
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
