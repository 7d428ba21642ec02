//! Partners' keys for records (`external_ids`), as bodies show them.

use catalyst_domain::{ExternalId, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A partner system's key for a record: `source` names the system, `id` is its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalIdBody {
    /// Lower-case letters, digits, `-`, `_` and `.`; 1 to 64.
    #[schema(example = "leeds-housing-crm")]
    pub source: String,
    /// 1 to 200 characters.
    #[schema(example = "ORG/00042")]
    pub id: String,
}

impl From<&ExternalId> for ExternalIdBody {
    fn from(external: &ExternalId) -> Self {
        Self {
            source: external.source.clone(),
            id: external.id.clone(),
        }
    }
}

/// Checks the external ids of a body (the member `external_ids`).
pub fn external_ids(given: &[ExternalIdBody], errors: &mut ValidationErrors) -> Vec<ExternalId> {
    let given: Vec<ExternalId> = given
        .iter()
        .map(|body| ExternalId {
            source: body.source.clone(),
            id: body.id.clone(),
        })
        .collect();
    catalyst_domain::external_id::validate_external_ids(&given, "external_ids", errors)
}

/// The external ids after a merge patch: a list replaces them, `null` removes them, and
/// leaving the member out keeps them.
pub fn patched_external_ids(
    patch: &Option<Option<Vec<ExternalIdBody>>>,
    current: &[ExternalId],
    errors: &mut ValidationErrors,
) -> Vec<ExternalId> {
    match patch {
        None => current.to_vec(),
        Some(given) => external_ids(given.as_deref().unwrap_or_default(), errors),
    }
}

/// A record's external ids as the API shows them.
pub fn external_id_bodies(ids: &[ExternalId]) -> Vec<ExternalIdBody> {
    ids.iter().map(ExternalIdBody::from).collect()
}
