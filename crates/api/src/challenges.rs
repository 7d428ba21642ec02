//! The shapes of challenges in requests and responses.

use crate::{collect_field_id, present, ExternalIdBody};
use catalyst_domain::{
    Challenge, ChallengeFields, ChallengeStatus, DocumentLink, ExternalId, Money, OrganisationId,
    ProgrammeId, Timestamp, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A challenge.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "programme_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c",
    "owner_organisation_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5d", "reference": "GTC-R3-LEEDS",
    "title": "Monitoring the condition of council housing",
    "problem_statement": "How might we use technology to monitor the condition of the council's housing stock?",
    "themes": ["housing", "iot"], "status": "open", "opens_at": "2019-05-01T09:00:00.000000Z", "closes_at": "2019-06-12T12:00:00.000000Z",
    "documents": [], "version": 3, "created_at": "2026-11-26T09:30:00.123456Z", "updated_at": "2026-11-26T09:30:00.123456Z"
}))]
pub struct ChallengeResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub programme_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub owner_organisation_id: String,
    pub reference: String,
    pub title: String,
    pub problem_statement: String,
    pub themes: Vec<String>,
    pub status: ChallengeStatus,
    pub opens_at: Option<Timestamp>,
    pub closes_at: Option<Timestamp>,
    pub documents: Vec<DocumentLink>,
    /// Partners' keys for it (`PUT /api/v1/challenges/by-external-id/{source}/{id}` finds it
    /// by any of them).
    pub external_ids: Vec<ExternalIdBody>,
    /// Figures derived from the phases and applications (always present in API responses; left
    /// out of audit records, which keep what was written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<ChallengeFigures>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A challenge's figures, derived on read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChallengeFigures {
    /// The sum of the phases' budgets (null without phases, or with phases in different
    /// currencies).
    pub budget: Option<Money>,
    /// The sum of the phases' awards.
    pub committed: Option<Money>,
    /// How many applications the challenge has had.
    pub applications: i64,
}

impl From<&Challenge> for ChallengeResource {
    fn from(challenge: &Challenge) -> Self {
        let fields = &challenge.fields;
        Self {
            id: challenge.id.to_string(),
            programme_id: fields.programme_id.to_string(),
            owner_organisation_id: fields.owner_organisation_id.to_string(),
            reference: fields.reference.clone(),
            title: fields.title.clone(),
            problem_statement: fields.problem_statement.clone(),
            themes: fields.themes.clone(),
            status: challenge.status,
            opens_at: fields.opens_at,
            closes_at: fields.closes_at,
            documents: fields.documents.clone(),
            external_ids: challenge
                .external_ids
                .iter()
                .map(ExternalIdBody::from)
                .collect(),
            totals: None,
            version: challenge.version,
            created_at: challenge.created_at,
            updated_at: challenge.updated_at,
        }
    }
}

/// A new challenge; it starts in `draft`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "programme_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c", "owner_organisation_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5d",
    "reference": "GTC-R3-LEEDS", "title": "Monitoring the condition of council housing",
    "problem_statement": "How might we use technology to monitor the condition of the council's housing stock?",
    "themes": ["housing", "iot"]
}))]
pub struct CreateChallenge {
    #[schema(value_type = uuid::Uuid)]
    pub programme_id: String,
    /// A public body (local authority, central government, NHS, other public).
    #[schema(value_type = uuid::Uuid)]
    pub owner_organisation_id: String,
    /// Unique; 2 to 40 letters, digits and hyphens (kept in upper case).
    pub reference: String,
    pub title: String,
    pub problem_statement: String,
    #[serde(default)]
    pub themes: Vec<String>,
    #[serde(default)]
    pub opens_at: Option<Timestamp>,
    #[serde(default)]
    pub closes_at: Option<Timestamp>,
    #[serde(default)]
    pub documents: Vec<DocumentLink>,
    /// Partners' keys for it: each source once, each key naming one challenge.
    #[serde(default)]
    pub external_ids: Vec<ExternalIdBody>,
}

impl CreateChallenge {
    /// The fields and external ids, every problem reported at once.
    pub fn validate(self) -> Result<(ChallengeFields, Vec<ExternalId>), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let programme =
            collect_field_id::<ProgrammeId>(&self.programme_id, "programme_id", &mut errors);
        let owner = collect_field_id::<OrganisationId>(
            &self.owner_organisation_id,
            "owner_organisation_id",
            &mut errors,
        );
        let external_ids = crate::external_ids(&self.external_ids, &mut errors);
        let (Some(programme), Some(owner)) = (programme, owner) else {
            return Err(errors);
        };
        let fields = ChallengeFields {
            programme_id: programme,
            owner_organisation_id: owner,
            reference: self.reference,
            title: self.title,
            problem_statement: self.problem_statement,
            themes: self.themes,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            documents: self.documents,
        }
        .validate();
        errors.after(fields).map(|fields| (fields, external_ids))
    }
}

/// A change (JSON Merge Patch). The status changes through transitions, not here.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChallenge {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub reference: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub problem_statement: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub themes: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Timestamp>)]
    pub opens_at: Option<Option<Timestamp>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Timestamp>)]
    pub closes_at: Option<Option<Timestamp>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<DocumentLink>>)]
    pub documents: Option<Option<Vec<DocumentLink>>>,
    /// Replaces the external ids (`null` or `[]` removes them all).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<ExternalIdBody>>)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `ListRequest` parses them.
pub struct ListChallengesParams {
    #[param(minimum = 1, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// `title`, `reference`, `status`, `created_at`, `updated_at`, `id`, each optionally prefixed with `-`.
    #[param(
        pattern = "^[-+]?(title|reference|status|created_at|updated_at|id)(,[-+]?(title|reference|status|created_at|updated_at|id))*$"
    )]
    pub sort: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub programme_id: Option<String>,
    /// The public body that owns the challenge.
    #[param(value_type = Option<uuid::Uuid>)]
    pub owner_id: Option<String>,
    pub status: Option<ChallengeStatus>,
    /// Text to find in the title or problem statement.
    pub q: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<String>,
}
