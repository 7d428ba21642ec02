//! The shapes of milestones in requests and responses.

use crate::{collect_field_id, present, ExternalIdBody};
use catalyst_domain::{
    AwardId, ExternalId, FieldViolation, Milestone, MilestoneFields, MilestoneId, MilestoneKind,
    MilestoneStatus, Money, Timestamp, ValidationErrors,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A milestone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MilestoneResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub award_id: String,
    pub kind: MilestoneKind,
    pub title: String,
    pub due_on: Option<NaiveDate>,
    /// The tranche paid at this milestone.
    pub amount: Option<Money>,
    pub status: MilestoneStatus,
    /// When the supplier invoiced it: set by the move to `invoiced`.
    pub invoiced_on: Option<NaiveDate>,
    pub paid_on: Option<NaiveDate>,
    /// Partners' keys for it (`PUT /api/v1/milestones/by-external-id/{source}/{id}` finds it by any
    /// of them).
    pub external_ids: Vec<ExternalIdBody>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Milestone> for MilestoneResource {
    fn from(milestone: &Milestone) -> Self {
        let fields = &milestone.fields;
        Self {
            id: milestone.id.to_string(),
            award_id: fields.award_id.to_string(),
            kind: fields.kind,
            title: fields.title.clone(),
            due_on: fields.due_on,
            amount: fields.amount,
            status: milestone.status,
            invoiced_on: milestone.invoiced_on,
            paid_on: milestone.paid_on,
            external_ids: crate::external_id_bodies(&milestone.external_ids),
            version: milestone.version,
            created_at: milestone.created_at,
            updated_at: milestone.updated_at,
        }
    }
}

/// A new milestone, planned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "payment", "title": "First tranche (25%)", "due_on": "2019-09-30", "amount": {"amount": 1250000, "currency": "GBP"}}))]
pub struct CreateMilestone {
    /// The award: taken from the path in `POST /awards/{id}/milestones` (if given there, it
    /// must be the same); required in a PUT by external id and in imports.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub award_id: Option<String>,
    pub kind: MilestoneKind,
    pub title: String,
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    /// Required for a payment milestone.
    #[serde(default)]
    pub amount: Option<Money>,
    /// Partners' keys for it: each source once, each key naming one milestone.
    #[serde(default)]
    pub external_ids: Vec<ExternalIdBody>,
}

impl CreateMilestone {
    /// The fields and external ids, as far as they can be checked without the award; `award`
    /// is the one in the path, if any.
    pub fn validate(
        self,
        award: Option<AwardId>,
    ) -> Result<(MilestoneFields, Vec<ExternalId>), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let award_id = crate::parent_id(self.award_id.as_deref(), award, "award_id", &mut errors);
        let external_ids = crate::external_ids(&self.external_ids, &mut errors);
        match award_id {
            Some(award_id) if errors.is_empty() => Ok((
                MilestoneFields {
                    award_id,
                    kind: self.kind,
                    title: self.title,
                    due_on: self.due_on,
                    amount: self.amount,
                },
                external_ids,
            )),
            _ => Err(errors),
        }
    }
}

/// A change to a milestone that is not yet paid.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMilestone {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Money>)]
    pub amount: Option<Option<Money>>,
    /// Replaces the external ids (`null` or `[]` removes them all).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<ExternalIdBody>>)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
}

/// A move to another status: `invoiced_on` (default today, never later) when invoicing,
/// `paid_on` (default today, never before the invoice) when paying.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "paid", "paid_on": "2019-10-04"}))]
pub struct MilestoneTransition {
    pub to: String,
    /// Only with `"to": "invoiced"`.
    #[serde(default)]
    pub invoiced_on: Option<NaiveDate>,
    #[serde(default)]
    pub paid_on: Option<NaiveDate>,
}

crate::list_body! {
    /// A page of milestones.
    MilestoneList of MilestoneResource, from Milestone
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `ListRequest` parses them.
pub struct ListMilestonesParams {
    #[param(minimum = 1, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// `created_at`, `updated_at`, `id`, each optionally prefixed with `-`.
    #[param(pattern = "^[-+]?(created_at|updated_at|id)(,[-+]?(created_at|updated_at|id))*$")]
    pub sort: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub award_id: Option<String>,
    pub status: Option<MilestoneStatus>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<String>,
}

/// A payment made against an invoiced milestone: a row of a `payments` import.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRow {
    /// The milestone, by its id ...
    #[serde(default)]
    pub milestone_id: Option<String>,
    /// ... or by a partner's key for it.
    #[serde(default)]
    pub milestone_external_id: Option<ExternalIdBody>,
    pub paid_on: NaiveDate,
    /// When given, it must be the milestone's tranche (finance and Catalyst agree).
    #[serde(default)]
    pub amount: Option<Money>,
}

impl PaymentRow {
    pub fn milestone(&self) -> Result<MilestoneRef, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let reference = match (&self.milestone_id, &self.milestone_external_id) {
            (Some(id), None) => collect_field_id::<MilestoneId>(id, "milestone_id", &mut errors)
                .map(MilestoneRef::Id),
            (None, Some(key)) => {
                let key = crate::external_ids(std::slice::from_ref(key), &mut errors);
                key.into_iter().next().map(MilestoneRef::Key)
            }
            (Some(id), Some(key)) => {
                let id = collect_field_id::<MilestoneId>(id, "milestone_id", &mut errors);
                let key = crate::external_ids(std::slice::from_ref(key), &mut errors);
                id.zip(key.into_iter().next())
                    .map(|(id, key)| MilestoneRef::Both(id, key))
            }
            (None, None) => {
                errors.push(FieldViolation::new(
                    "milestone_id",
                    "required",
                    "name the milestone by milestone_id, by milestone_external_id, or both",
                ));
                None
            }
        };
        match reference {
            Some(reference) if errors.is_empty() => Ok(reference),
            _ => Err(errors),
        }
    }
}

/// A row's milestone reference, checked on its own. A payments export names a milestone both
/// ways when it has a partner's key, so a row may too: then they must agree.
pub enum MilestoneRef {
    Id(MilestoneId),
    Key(ExternalId),
    Both(MilestoneId, ExternalId),
}
