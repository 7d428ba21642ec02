//! The shapes of programmes in requests and responses.

use crate::{collect_field_id, present, ExternalIdBody};
use catalyst_domain::{
    ExternalId, Money, OrganisationId, Programme, ProgrammeFields, Timestamp, ValidationErrors,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A programme.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "code": "GOVTECH-CATALYST", "title": "GovTech Catalyst",
    "description": "GBP 20m fund run by GDS with Innovate UK", "funder_organisation_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "budget": {"amount": 2000000000, "currency": "GBP"}, "opens_on": "2017-11-22", "closes_on": "2021-03-31",
    "version": 1, "created_at": "2026-11-26T09:30:00.123456Z", "updated_at": "2026-11-26T09:30:00.123456Z"
}))]
pub struct ProgrammeResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    pub code: String,
    pub title: String,
    pub description: Option<String>,
    #[schema(value_type = uuid::Uuid)]
    pub funder_organisation_id: String,
    pub budget: Money,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    /// Partners' keys for it (`PUT /api/v1/programmes/by-external-id/{source}/{id}` finds it
    /// by any of them).
    pub external_ids: Vec<ExternalIdBody>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Programme> for ProgrammeResource {
    fn from(programme: &Programme) -> Self {
        let fields = &programme.fields;
        Self {
            id: programme.id.to_string(),
            code: fields.code.clone(),
            title: fields.title.clone(),
            description: fields.description.clone(),
            funder_organisation_id: fields.funder_organisation_id.to_string(),
            budget: fields.budget,
            opens_on: fields.opens_on,
            closes_on: fields.closes_on,
            external_ids: programme
                .external_ids
                .iter()
                .map(ExternalIdBody::from)
                .collect(),
            version: programme.version,
            created_at: programme.created_at,
            updated_at: programme.updated_at,
        }
    }
}

/// A new programme.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "GOVTECH-CATALYST", "title": "GovTech Catalyst", "funder_organisation_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "budget": {"amount": 2000000000, "currency": "GBP"}, "opens_on": "2017-11-22"
}))]
pub struct CreateProgramme {
    /// Unique; 2 to 40 letters, digits and hyphens (kept in upper case).
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[schema(value_type = uuid::Uuid)]
    pub funder_organisation_id: String,
    pub budget: Money,
    #[serde(default)]
    pub opens_on: Option<NaiveDate>,
    #[serde(default)]
    pub closes_on: Option<NaiveDate>,
    /// Partners' keys for it: each source once, each key naming one programme.
    #[serde(default)]
    pub external_ids: Vec<ExternalIdBody>,
}

impl CreateProgramme {
    /// The fields and external ids, every problem reported at once.
    pub fn validate(self) -> Result<(ProgrammeFields, Vec<ExternalId>), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let funder = collect_field_id::<OrganisationId>(
            &self.funder_organisation_id,
            "funder_organisation_id",
            &mut errors,
        );
        let external_ids = crate::external_ids(&self.external_ids, &mut errors);
        let fields = ProgrammeFields {
            code: self.code,
            title: self.title,
            description: self.description,
            funder_organisation_id: funder.unwrap_or_else(OrganisationId::generate),
            budget: self.budget,
            opens_on: self.opens_on,
            closes_on: self.closes_on,
        }
        .validate();
        errors.before(fields).map(|fields| (fields, external_ids))
    }
}

/// A change (JSON Merge Patch).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProgramme {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub code: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub funder_organisation_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Money>)]
    pub budget: Option<Option<Money>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub opens_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub closes_on: Option<Option<NaiveDate>>,
    /// Replaces the external ids (`null` or `[]` removes them all).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<ExternalIdBody>>)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
}

crate::list_body! {
    /// A page of programmes.
    ProgrammeList of ProgrammeResource, from Programme
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `ListRequest` parses them.
pub struct ListProgrammesParams {
    #[param(minimum = 1, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// `title`, `code`, `created_at`, `updated_at`, `id`, each optionally prefixed with `-`.
    #[param(
        pattern = "^[-+]?(title|code|created_at|updated_at|id)(,[-+]?(title|code|created_at|updated_at|id))*$",
        example = "-created_at"
    )]
    pub sort: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub funder_organisation_id: Option<String>,
    /// Text to find in the title.
    pub q: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<String>,
}
