//! The shapes of contacts in requests and responses.

use crate::{present, ExternalIdBody};
use catalyst_domain::{
    Contact, ContactFields, ExternalId, OrganisationId, Timestamp, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A person at an organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: String,
    pub name: String,
    #[schema(example = "Innovation lead")]
    pub role: Option<String>,
    pub email: Option<String>,
    /// Partners' keys for it (`PUT /api/v1/contacts/by-external-id/{source}/{id}` finds it by any
    /// of them).
    pub external_ids: Vec<ExternalIdBody>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Contact> for ContactResource {
    fn from(contact: &Contact) -> Self {
        Self {
            id: contact.id.to_string(),
            organisation_id: contact.fields.organisation_id.to_string(),
            name: contact.fields.name.clone(),
            role: contact.fields.role.clone(),
            email: contact.fields.email.clone(),
            external_ids: crate::external_id_bodies(&contact.external_ids),
            version: contact.version,
            created_at: contact.created_at,
            updated_at: contact.updated_at,
        }
    }
}

/// A new contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "A. Officer", "role": "Innovation lead", "email": "innovation@leeds.gov.uk"}))]
pub struct CreateContact {
    /// The organisation: taken from the path in `POST /organisations/{id}/contacts` (if given
    /// there, it must be the same); required in a PUT by external id.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub organisation_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Partners' keys for it: each source once, each key naming one contact.
    #[serde(default)]
    pub external_ids: Vec<ExternalIdBody>,
}

impl CreateContact {
    /// The fields and external ids, every problem reported at once; `organisation` is the one
    /// in the path, if any.
    pub fn validate(
        self,
        organisation: Option<OrganisationId>,
    ) -> Result<(ContactFields, Vec<ExternalId>), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let organisation_id = crate::parent_id(
            self.organisation_id.as_deref(),
            organisation,
            "organisation_id",
            &mut errors,
        );
        let external_ids = crate::external_ids(&self.external_ids, &mut errors);
        let fields = ContactFields {
            organisation_id: organisation_id.unwrap_or_else(OrganisationId::generate),
            name: self.name,
            role: self.role,
            email: self.email,
        }
        .validate();
        errors.before(fields).map(|fields| (fields, external_ids))
    }
}

/// A change (JSON Merge Patch).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContact {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub role: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// Replaces the external ids (`null` or `[]` removes them all).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<ExternalIdBody>>)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
}

crate::list_body! {
    /// A page of contacts.
    ContactList of ContactResource, from Contact
}
