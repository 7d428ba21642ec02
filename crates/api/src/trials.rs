//! The shapes of trials in requests and responses.

use crate::{collect_field_id, present, ExternalIdBody};
use catalyst_domain::{
    AwardId, ExternalId, Money, OrganisationId, Timestamp, Trial, TrialFields, TrialStatus,
    ValidationErrors,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A trial of a solution with a host body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrialResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub award_id: Option<String>,
    #[schema(value_type = uuid::Uuid)]
    pub host_organisation_id: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub supplier_organisation_id: Option<String>,
    pub title: String,
    pub sites: Vec<String>,
    pub units: Option<i32>,
    #[schema(example = "homes")]
    pub unit_label: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub public: bool,
    pub result: Option<String>,
    pub adopted: Option<bool>,
    pub follow_on_value: Option<Money>,
    pub status: TrialStatus,
    /// Partners' keys for it (`PUT /api/v1/trials/by-external-id/{source}/{id}` finds it by any
    /// of them).
    pub external_ids: Vec<ExternalIdBody>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Trial> for TrialResource {
    fn from(trial: &Trial) -> Self {
        let fields = &trial.fields;
        Self {
            id: trial.id.to_string(),
            award_id: fields.award_id.map(|id| id.to_string()),
            host_organisation_id: fields.host_organisation_id.to_string(),
            supplier_organisation_id: trial.supplier_organisation_id.map(|id| id.to_string()),
            title: fields.title.clone(),
            sites: fields.sites.clone(),
            units: fields.units,
            unit_label: fields.unit_label.clone(),
            starts_on: fields.starts_on,
            ends_on: fields.ends_on,
            public: fields.public,
            result: fields.result.clone(),
            adopted: fields.adopted,
            follow_on_value: fields.follow_on_value,
            status: trial.status,
            external_ids: crate::external_id_bodies(&trial.external_ids),
            version: trial.version,
            created_at: trial.created_at,
            updated_at: trial.updated_at,
        }
    }
}

/// A new trial, planned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"award_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "host_organisation_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "title": "Temperature and humidity sensors in council homes", "sites": ["Leeds", "York"], "units": 300, "unit_label": "homes",
    "starts_on": "2020-04-01", "ends_on": "2021-03-31", "public": true}))]
pub struct CreateTrial {
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub award_id: Option<String>,
    /// A public body.
    #[schema(value_type = uuid::Uuid)]
    pub host_organisation_id: String,
    pub title: String,
    #[serde(default)]
    pub sites: Vec<String>,
    #[serde(default)]
    pub units: Option<i32>,
    #[serde(default)]
    pub unit_label: Option<String>,
    #[serde(default)]
    pub starts_on: Option<NaiveDate>,
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    pub public: bool,
    /// Partners' keys for it: each source once, each key naming one trial.
    #[serde(default)]
    pub external_ids: Vec<ExternalIdBody>,
}

impl CreateTrial {
    /// The fields and external ids, every problem reported at once.
    pub fn validate(self) -> Result<(TrialFields, Vec<ExternalId>), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let host = collect_field_id::<OrganisationId>(
            &self.host_organisation_id,
            "host_organisation_id",
            &mut errors,
        );
        let award = self
            .award_id
            .as_deref()
            .map(|id| collect_field_id::<AwardId>(id, "award_id", &mut errors));
        let external_ids = crate::external_ids(&self.external_ids, &mut errors);
        let fields = TrialFields {
            award_id: award.flatten(),
            host_organisation_id: host.unwrap_or_else(OrganisationId::generate),
            title: self.title,
            sites: self.sites,
            units: self.units,
            unit_label: self.unit_label,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            public: self.public,
            result: None,
            adopted: None,
            follow_on_value: None,
        }
        .validate();
        errors.before(fields).map(|fields| (fields, external_ids))
    }
}

/// A change (JSON Merge Patch), including the result: `result`, `adopted`, `follow_on_value`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTrial {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub sites: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>)]
    pub units: Option<Option<i32>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub unit_label: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub starts_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    pub public: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub result: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    pub adopted: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Money>)]
    pub follow_on_value: Option<Option<Money>>,
    /// Replaces the external ids (`null` or `[]` removes them all).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<ExternalIdBody>>)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
}

crate::list_body! {
    /// A page of trials.
    TrialList of TrialResource, from Trial
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `ListRequest` parses them.
pub struct ListTrialsParams {
    #[param(minimum = 1, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// `title`, `created_at`, `updated_at`, `id`, each optionally prefixed with `-`.
    #[param(
        pattern = "^[-+]?(title|created_at|updated_at|id)(,[-+]?(title|created_at|updated_at|id))*$"
    )]
    pub sort: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub host_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub supplier_id: Option<String>,
    pub status: Option<TrialStatus>,
    pub adopted: Option<bool>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<String>,
}
