//! The shapes of organisations in requests and responses.

use crate::{present, ExternalIdBody};
use catalyst_domain::{
    ExternalId, Organisation, OrganisationDraft, OrganisationFields, OrganisationIdentifier,
    OrganisationKind, Region, Scale, Timestamp, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
    "name": "Leeds City Council",
    "kind": "local_authority",
    "scale": "large",
    "region": "yorkshire_and_the_humber",
    "identifier": {"scheme": "GB-LAE", "id": "LDS"},
    "website": "https://www.leeds.gov.uk",
    "version": 1,
    "created_at": "2026-11-26T09:30:00.123456Z",
    "updated_at": "2026-11-26T09:30:00.123456Z"
}))]
pub struct OrganisationResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    pub name: String,
    pub kind: OrganisationKind,
    pub scale: Option<Scale>,
    pub region: Option<Region>,
    pub identifier: Option<OrganisationIdentifier>,
    pub website: Option<String>,
    /// Partners' keys for it (`PUT /api/v1/organisations/by-external-id/{source}/{id}` finds it
    /// by any of them).
    pub external_ids: Vec<ExternalIdBody>,
    /// Grows by one with every change; the ETag is this number in quotes.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Organisation> for OrganisationResource {
    fn from(organisation: Organisation) -> Self {
        Self::from(&organisation)
    }
}

impl From<&Organisation> for OrganisationResource {
    fn from(organisation: &Organisation) -> Self {
        let fields = organisation.fields.clone();
        Self {
            id: organisation.id.to_string(),
            name: fields.name,
            kind: fields.kind,
            scale: fields.scale,
            region: fields.region,
            identifier: fields.identifier,
            website: fields.website,
            external_ids: organisation
                .external_ids
                .iter()
                .map(ExternalIdBody::from)
                .collect(),
            version: organisation.version,
            created_at: organisation.created_at,
            updated_at: organisation.updated_at,
        }
    }
}

/// A new organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "HomeLINK",
    "kind": "sme",
    "scale": "small",
    "region": "london",
    "identifier": {"scheme": "GB-COH", "id": "08365849"},
    "website": "https://www.homelink.example"
}))]
pub struct CreateOrganisation {
    /// 1 to 200 characters.
    pub name: String,
    pub kind: OrganisationKind,
    /// Required for an `sme` (micro, small or medium); `large` for a `large_business`.
    #[serde(default)]
    pub scale: Option<Scale>,
    #[serde(default)]
    pub region: Option<Region>,
    /// Unique across organisations.
    #[serde(default)]
    pub identifier: Option<OrganisationIdentifier>,
    /// An absolute http(s) URL.
    #[serde(default)]
    pub website: Option<String>,
    /// Partners' keys for it: each source once, each key naming one organisation.
    #[serde(default)]
    pub external_ids: Vec<ExternalIdBody>,
}

impl CreateOrganisation {
    /// The fields and external ids, checked together so that every problem is reported at once.
    pub fn validate(self) -> Result<(OrganisationFields, Vec<ExternalId>), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let external_ids = crate::external_ids(&self.external_ids, &mut errors);
        let fields = OrganisationDraft {
            name: self.name,
            kind: self.kind,
            scale: self.scale,
            region: self.region,
            identifier: self.identifier,
            website: self.website,
        }
        .validate();
        errors.after(fields).map(|fields| (fields, external_ids))
    }
}

/// A change (JSON Merge Patch, RFC 7396): members left out are unchanged, `null` clears an
/// optional member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"website": "https://www.leeds.gov.uk/housing", "region": null}))]
pub struct UpdateOrganisation {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<OrganisationKind>)]
    pub kind: Option<Option<OrganisationKind>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Scale>)]
    pub scale: Option<Option<Scale>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Region>)]
    pub region: Option<Option<Region>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<OrganisationIdentifier>)]
    pub identifier: Option<Option<OrganisationIdentifier>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    /// Replaces the external ids (`null` or `[]` removes them all).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<ExternalIdBody>>)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
}

crate::list_body! {
    /// A page of organisations.
    OrganisationList of OrganisationResource, from Organisation
}

/// Filters, sort and paging for the list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; they are parsed by `QueryParams` for exact errors.
pub struct ListOrganisationsParams {
    /// Page size: 1 to 500 (larger values are reduced to 500). Default 50.
    #[param(minimum = 1, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page. A cursor only works with the filters and sort it
    /// was made with.
    pub cursor: Option<String>,
    /// Comma-separated sort keys, `-` for descending: `name`, `kind`, `created_at`, `updated_at`,
    /// `id`. Ties are broken by `id`. Default `created_at`.
    #[param(
        pattern = "^[-+]?(name|kind|created_at|updated_at|id)(,[-+]?(name|kind|created_at|updated_at|id))*$",
        example = "-created_at,name"
    )]
    pub sort: Option<String>,
    pub kind: Option<OrganisationKind>,
    pub scale: Option<Scale>,
    pub region: Option<Region>,
    /// Case-insensitive text to find in the name.
    pub q: Option<String>,
    /// Only organisations changed at or after this RFC 3339 instant.
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<String>,
}
