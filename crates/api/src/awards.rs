//! The shapes of awards in requests and responses.

use crate::{present, ExternalIdBody};
use catalyst_domain::{
    ApplicationId, Award, AwardId, AwardStatus, ExternalId, Money, PhaseId, Timestamp,
    ValidationErrors,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An award: a contract with one supplier in one phase.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AwardResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub phase_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub challenge_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub application_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub supplier_organisation_id: String,
    pub contract_reference: String,
    pub amount: Money,
    /// The sum of its paid milestones.
    pub paid: Money,
    /// What is still to be paid.
    pub outstanding: Money,
    pub vat_included: bool,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// The same supplier's award in the phase before.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_award_id: Option<String>,
    pub status: AwardStatus,
    /// Partners' keys for it (`PUT /api/v1/awards/by-external-id/{source}/{id}` finds it by any
    /// of them).
    pub external_ids: Vec<ExternalIdBody>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Award> for AwardResource {
    fn from(award: &Award) -> Self {
        let fields = &award.fields;
        Self {
            id: award.id.to_string(),
            phase_id: fields.phase_id.to_string(),
            challenge_id: award.challenge_id.to_string(),
            application_id: fields.application_id.to_string(),
            supplier_organisation_id: fields.supplier_organisation_id.to_string(),
            contract_reference: fields.contract_reference.clone(),
            amount: fields.amount,
            paid: award.paid,
            outstanding: award.outstanding(),
            vat_included: fields.vat_included,
            starts_on: fields.starts_on,
            ends_on: fields.ends_on,
            parent_award_id: fields.parent_award_id.map(|id| id.to_string()),
            status: award.status,
            external_ids: crate::external_id_bodies(&award.external_ids),
            version: award.version,
            created_at: award.created_at,
            updated_at: award.updated_at,
        }
    }
}

/// A new award, from a successful application of the phase.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"application_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "contract_reference": "LCC-SBRI-2019-04",
    "amount": {"amount": 5000000, "currency": "GBP"}, "vat_included": true, "starts_on": "2019-08-01", "ends_on": "2019-11-30"}))]
pub struct CreateAward {
    /// The phase: taken from the path in `POST /phases/{id}/awards` (if given there, it must be
    /// the same); required in a PUT by external id and in imports.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub phase_id: Option<String>,
    #[schema(value_type = uuid::Uuid)]
    pub application_id: String,
    pub contract_reference: String,
    /// Within the phase's cap per supplier and what is left of its budget.
    pub amount: Money,
    #[serde(default)]
    pub vat_included: bool,
    #[serde(default)]
    pub starts_on: Option<NaiveDate>,
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    /// The supplier's award in the phase before; found when left out. Required lineage unless
    /// the phase is open to all.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parent_award_id: Option<String>,
    /// Partners' keys for it: each source once, each key naming one award.
    #[serde(default)]
    pub external_ids: Vec<ExternalIdBody>,
}

impl CreateAward {
    /// The phase and the external ids; `phase` is the one in the path, if any. The rest needs
    /// the phase and the application, read when the award is made; the ids' form is checked
    /// here, so that a body wrong in itself is refused before any precondition is weighed.
    pub fn validate(
        &self,
        phase: Option<PhaseId>,
    ) -> Result<(PhaseId, Vec<ExternalId>), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let phase_id = crate::parent_id(self.phase_id.as_deref(), phase, "phase_id", &mut errors);
        crate::collect_field_id::<ApplicationId>(
            &self.application_id,
            "application_id",
            &mut errors,
        );
        if let Some(parent) = &self.parent_award_id {
            crate::collect_field_id::<AwardId>(parent, "parent_award_id", &mut errors);
        }
        let external_ids = crate::external_ids(&self.external_ids, &mut errors);
        match phase_id {
            Some(phase_id) if errors.is_empty() => Ok((phase_id, external_ids)),
            _ => Err(errors),
        }
    }
}

/// A change to an award's contract details (the amount is fixed once awarded).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAward {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub contract_reference: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    pub vat_included: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub starts_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<Option<NaiveDate>>,
    /// Replaces the external ids (`null` or `[]` removes them all).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<ExternalIdBody>>)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
}

crate::list_body! {
    /// A page of awards.
    AwardList of AwardResource, from Award
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `ListRequest` parses them.
pub struct ListAwardsParams {
    #[param(minimum = 1, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// `created_at`, `updated_at`, `contract_reference`, `id`, each optionally prefixed with `-`.
    #[param(
        pattern = "^[-+]?(created_at|updated_at|contract_reference|id)(,[-+]?(created_at|updated_at|contract_reference|id))*$"
    )]
    pub sort: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub phase_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub challenge_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub supplier_id: Option<String>,
    pub status: Option<AwardStatus>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<String>,
}
