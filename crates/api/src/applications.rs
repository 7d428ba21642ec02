//! The shapes of applications in requests and responses.

use crate::{collect_field_id, present, ExternalIdBody};
use catalyst_domain::{
    Application, ApplicationFields, ApplicationStatus, ExternalId, Money, OrganisationId, PhaseId,
    Timestamp, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An application.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub phase_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub challenge_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub supplier_organisation_id: String,
    pub amount_requested: Money,
    pub summary: String,
    pub status: ApplicationStatus,
    /// 0 to 100, set by assessors.
    pub assessment_score: Option<i32>,
    pub submitted_at: Option<Timestamp>,
    /// Partners' keys for it (`PUT /api/v1/applications/by-external-id/{source}/{id}` finds it by any
    /// of them).
    pub external_ids: Vec<ExternalIdBody>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Application> for ApplicationResource {
    fn from(application: &Application) -> Self {
        let fields = &application.fields;
        Self {
            id: application.id.to_string(),
            phase_id: fields.phase_id.to_string(),
            challenge_id: application.challenge_id.to_string(),
            supplier_organisation_id: fields.supplier_organisation_id.to_string(),
            amount_requested: fields.amount_requested,
            summary: fields.summary.clone(),
            status: application.status,
            assessment_score: application.assessment_score,
            submitted_at: application.submitted_at,
            external_ids: crate::external_id_bodies(&application.external_ids),
            version: application.version,
            created_at: application.created_at,
            updated_at: application.updated_at,
        }
    }
}

/// A new application, as a draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"supplier_organisation_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
    "amount_requested": {"amount": 5000000, "currency": "GBP"}, "summary": "Temperature and humidity sensors in 300 council homes"}))]
pub struct CreateApplication {
    /// The phase: taken from the path in `POST /phases/{id}/applications` (if given there, it
    /// must be the same); required in a PUT by external id and in imports.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub phase_id: Option<String>,
    /// The applying organisation; a supplier's own (one of its memberships).
    #[schema(value_type = uuid::Uuid)]
    pub supplier_organisation_id: String,
    /// At most the phase's cap per supplier.
    pub amount_requested: Money,
    pub summary: String,
    /// Partners' keys for it: each source once, each key naming one application.
    #[serde(default)]
    pub external_ids: Vec<ExternalIdBody>,
}

impl CreateApplication {
    /// The bid and external ids, as far as they can be checked without the phase; `phase` is
    /// the one in the path, if any.
    pub fn validate(
        self,
        phase: Option<PhaseId>,
    ) -> Result<(ApplicationFields, Vec<ExternalId>), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let phase_id = crate::parent_id(self.phase_id.as_deref(), phase, "phase_id", &mut errors);
        let supplier = collect_field_id::<OrganisationId>(
            &self.supplier_organisation_id,
            "supplier_organisation_id",
            &mut errors,
        );
        let external_ids = crate::external_ids(&self.external_ids, &mut errors);
        match (phase_id, supplier) {
            (Some(phase_id), Some(supplier)) if errors.is_empty() => Ok((
                ApplicationFields {
                    phase_id,
                    supplier_organisation_id: supplier,
                    amount_requested: self.amount_requested,
                    summary: self.summary,
                },
                external_ids,
            )),
            _ => Err(errors),
        }
    }
}

/// A change. Suppliers change `amount_requested` and `summary` while the application is a draft;
/// assessors set `assessment_score`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApplication {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Money>)]
    pub amount_requested: Option<Option<Money>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 100)]
    pub assessment_score: Option<Option<i32>>,
    /// Replaces the external ids (`null` or `[]` removes them all).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<ExternalIdBody>>)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
}

crate::list_body! {
    /// A page of applications.
    ApplicationList of ApplicationResource, from Application
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `ListRequest` parses them.
pub struct ListApplicationsParams {
    #[param(minimum = 1, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// `created_at`, `updated_at`, `status`, `id`, each optionally prefixed with `-`.
    #[param(
        pattern = "^[-+]?(created_at|updated_at|status|id)(,[-+]?(created_at|updated_at|status|id))*$"
    )]
    pub sort: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub phase_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub supplier_id: Option<String>,
    pub status: Option<ApplicationStatus>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<String>,
}
