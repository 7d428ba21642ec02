//! The shapes of outcomes in requests and responses.

use crate::present;
use catalyst_domain::{Outcome, OutcomeKind, Timestamp};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A measured outcome of a trial.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutcomeResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub trial_id: String,
    pub kind: OutcomeKind,
    pub metric: String,
    pub unit: Option<String>,
    pub baseline: Option<f64>,
    pub target: Option<f64>,
    pub actual: Option<f64>,
    /// Whether the actual value reached the target, in the direction from the baseline.
    pub met_target: Option<bool>,
    pub measured_on: Option<NaiveDate>,
    pub notes: Option<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Outcome> for OutcomeResource {
    fn from(outcome: &Outcome) -> Self {
        let fields = &outcome.fields;
        Self {
            id: outcome.id.to_string(),
            trial_id: fields.trial_id.to_string(),
            kind: fields.kind,
            metric: fields.metric.clone(),
            unit: fields.unit.clone(),
            baseline: fields.baseline,
            target: fields.target,
            actual: fields.actual,
            met_target: fields.met_target(),
            measured_on: fields.measured_on,
            notes: fields.notes.clone(),
            version: outcome.version,
            created_at: outcome.created_at,
            updated_at: outcome.updated_at,
        }
    }
}

/// A new outcome.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "key_finding", "metric": "Homes with damp caught before a complaint", "unit": "%",
    "baseline": 12.0, "target": 50.0, "actual": 64.0, "measured_on": "2021-03-31"}))]
pub struct CreateOutcome {
    pub kind: OutcomeKind,
    pub metric: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub baseline: Option<f64>,
    #[serde(default)]
    pub target: Option<f64>,
    #[serde(default)]
    pub actual: Option<f64>,
    #[serde(default)]
    pub measured_on: Option<NaiveDate>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A change to an outcome (JSON Merge Patch).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOutcome {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub metric: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub unit: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub baseline: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub target: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub actual: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub measured_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

crate::list_body! {
    /// A page of outcomes.
    OutcomeList of OutcomeResource, from Outcome
}
