//! The shapes of phases in requests and responses.

use crate::{present, ExternalIdBody};
use catalyst_domain::{
    ChallengeId, ExternalId, Money, Phase, PhaseFields, PhaseKind, PhaseStatus, Timestamp,
    ValidationErrors,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A phase.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "challenge_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "number": 1, "kind": "feasibility", "budget": {"amount": 25000000, "currency": "GBP"},
    "max_award": {"amount": 5000000, "currency": "GBP"}, "max_suppliers": 5,
    "starts_on": "2019-08-01", "ends_on": "2019-11-30", "open_to_all": true,
    "committed": {"amount": 25000000, "currency": "GBP"}, "remaining": {"amount": 0, "currency": "GBP"}, "status": "completed",
    "version": 4, "created_at": "2026-11-26T09:30:00.123456Z", "updated_at": "2026-11-26T09:30:00.123456Z"
}))]
pub struct PhaseResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub challenge_id: String,
    pub number: i32,
    pub kind: PhaseKind,
    pub budget: Money,
    /// The most one supplier may be awarded in this phase.
    pub max_award: Money,
    pub max_suppliers: Option<i32>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// Whether suppliers without an award in the phase before may be awarded.
    pub open_to_all: bool,
    /// The sum of the phase's awards.
    pub committed: Money,
    /// What is left of the budget to award.
    pub remaining: Money,
    pub status: PhaseStatus,
    /// Partners' keys for it (`PUT /api/v1/phases/by-external-id/{source}/{id}` finds it by any
    /// of them).
    pub external_ids: Vec<ExternalIdBody>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Phase> for PhaseResource {
    fn from(phase: &Phase) -> Self {
        let fields = &phase.fields;
        Self {
            id: phase.id.to_string(),
            challenge_id: fields.challenge_id.to_string(),
            number: fields.number,
            kind: fields.kind,
            budget: fields.budget,
            max_award: fields.max_award,
            max_suppliers: fields.max_suppliers,
            starts_on: fields.starts_on,
            ends_on: fields.ends_on,
            open_to_all: fields.open_to_all,
            committed: phase.committed,
            remaining: phase.budget_check().remaining(),
            status: phase.status,
            external_ids: crate::external_id_bodies(&phase.external_ids),
            version: phase.version,
            created_at: phase.created_at,
            updated_at: phase.updated_at,
        }
    }
}

/// A new phase of a challenge; it starts `planned`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "number": 1, "kind": "feasibility", "budget": {"amount": 25000000, "currency": "GBP"},
    "max_award": {"amount": 5000000, "currency": "GBP"}, "max_suppliers": 5, "starts_on": "2019-08-01", "ends_on": "2019-11-30"
}))]
pub struct CreatePhase {
    /// The challenge: taken from the path in `POST /challenges/{id}/phases` (if given there,
    /// it must be the same); required in a PUT by external id and in imports.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub challenge_id: Option<String>,
    /// 1 to 9, unique within the challenge.
    pub number: i32,
    pub kind: PhaseKind,
    pub budget: Money,
    pub max_award: Money,
    #[serde(default)]
    pub max_suppliers: Option<i32>,
    #[serde(default)]
    pub starts_on: Option<NaiveDate>,
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    /// Phase 1 is always open to all.
    #[serde(default)]
    pub open_to_all: bool,
    /// Partners' keys for it: each source once, each key naming one phase.
    #[serde(default)]
    pub external_ids: Vec<ExternalIdBody>,
}

impl CreatePhase {
    /// The fields and external ids, every problem reported at once; `challenge` is the one in
    /// the path, if any.
    pub fn validate(
        self,
        challenge: Option<ChallengeId>,
    ) -> Result<(PhaseFields, Vec<ExternalId>), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let challenge_id = crate::parent_id(
            self.challenge_id.as_deref(),
            challenge,
            "challenge_id",
            &mut errors,
        );
        let external_ids = crate::external_ids(&self.external_ids, &mut errors);
        let fields = PhaseFields {
            challenge_id: challenge_id.unwrap_or_else(ChallengeId::generate),
            number: self.number,
            kind: self.kind,
            budget: self.budget,
            max_award: self.max_award,
            max_suppliers: self.max_suppliers,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            open_to_all: self.open_to_all,
        }
        .validate();
        errors.before(fields).map(|fields| (fields, external_ids))
    }
}

/// A change (JSON Merge Patch). The status changes through transitions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePhase {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<PhaseKind>)]
    pub kind: Option<Option<PhaseKind>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Money>)]
    pub budget: Option<Option<Money>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Money>)]
    pub max_award: Option<Option<Money>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>)]
    pub max_suppliers: Option<Option<i32>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub starts_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    pub open_to_all: Option<Option<bool>>,
    /// Replaces the external ids (`null` or `[]` removes them all).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<ExternalIdBody>>)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
}

crate::list_body! {
    /// A page of phases.
    PhaseList of PhaseResource, from Phase
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `ListRequest` parses them.
pub struct ListPhasesParams {
    #[param(minimum = 1, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// `number`, `created_at`, `updated_at`, `id`, each optionally prefixed with `-`.
    #[param(
        pattern = "^[-+]?(number|created_at|updated_at|id)(,[-+]?(number|created_at|updated_at|id))*$"
    )]
    pub sort: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub challenge_id: Option<String>,
    pub status: Option<PhaseStatus>,
    pub kind: Option<PhaseKind>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<String>,
}
