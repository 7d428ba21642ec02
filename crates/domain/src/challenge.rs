//! Challenges: a public body's problem statement ("How might we use technology to monitor the
//! condition of the council's housing stock?"), not a specification.

use serde::{Deserialize, Serialize};

use crate::ids::{ChallengeId, OrganisationId, ProgrammeId};
use crate::lifecycle::ChallengeStatus;
use crate::programme::validate_code;
use crate::text::{self, Lines};
use crate::time::Timestamp;
use crate::validation::{FieldViolation, ValidationErrors};

/// A link to a document about the challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DocumentLink {
    #[cfg_attr(feature = "openapi", schema(example = "Challenge brief"))]
    pub title: String,
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://www.gov.uk/government/publications/govtech-catalyst")
    )]
    pub url: String,
}

pub const MAX_THEMES: usize = 20;
pub const MAX_DOCUMENTS: usize = 20;

/// A challenge's editable facts (its status moves only through transitions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeFields {
    pub programme_id: ProgrammeId,
    /// The public body that owns the problem.
    pub owner_organisation_id: OrganisationId,
    /// Unique reference, upper case: `GTC-R3-LEEDS`.
    pub reference: String,
    pub title: String,
    pub problem_statement: String,
    pub themes: Vec<String>,
    pub opens_at: Option<Timestamp>,
    pub closes_at: Option<Timestamp>,
    pub documents: Vec<DocumentLink>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub id: ChallengeId,
    pub fields: ChallengeFields,
    /// Partners' keys for it, in source order.
    pub external_ids: Vec<crate::ExternalId>,
    pub status: ChallengeStatus,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ChallengeFields {
    /// Normalises and checks every rule that needs no other record.
    pub fn validate(self) -> Result<ChallengeFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let reference = validate_code(&self.reference, "reference", &mut errors);
        let title = text::required_text(&self.title, "title", 200, Lines::Single, &mut errors);
        let problem_statement = text::required_text(
            &self.problem_statement,
            "problem_statement",
            20_000,
            Lines::Multi,
            &mut errors,
        );
        if self.themes.len() > MAX_THEMES {
            errors.push(FieldViolation::new(
                "themes",
                "too_many",
                format!("at most {MAX_THEMES} themes"),
            ));
        }
        let mut themes: Vec<String> = Vec::new();
        for (index, theme) in self.themes.iter().enumerate() {
            if let Some(theme) = text::required_text(
                theme,
                &format!("themes/{index}"),
                60,
                Lines::Single,
                &mut errors,
            ) {
                let theme = theme.to_lowercase();
                if !themes.contains(&theme) {
                    themes.push(theme);
                }
            }
        }
        if self.documents.len() > MAX_DOCUMENTS {
            errors.push(FieldViolation::new(
                "documents",
                "too_many",
                format!("at most {MAX_DOCUMENTS} documents"),
            ));
        }
        let mut documents = Vec::new();
        for (index, document) in self.documents.iter().enumerate() {
            let title = text::required_text(
                &document.title,
                &format!("documents/{index}/title"),
                200,
                Lines::Single,
                &mut errors,
            );
            let url = text::web_url(
                &document.url,
                &format!("documents/{index}/url"),
                &mut errors,
            );
            if let (Some(title), Some(url)) = (title, url) {
                documents.push(DocumentLink { title, url });
            }
        }
        if let (Some(opens), Some(closes)) = (self.opens_at, self.closes_at) {
            if closes <= opens {
                errors.push(FieldViolation::new(
                    "closes_at",
                    "before_start",
                    "closes_at must be after opens_at",
                ));
            }
        }
        match (reference, title, problem_statement) {
            (Some(reference), Some(title), Some(problem_statement)) if errors.is_empty() => {
                Ok(ChallengeFields {
                    reference,
                    title,
                    problem_statement,
                    themes,
                    documents,
                    ..self
                })
            }
            _ => Err(errors),
        }
    }
}

impl Challenge {
    /// A new challenge, in draft.
    pub fn create(fields: ChallengeFields, now: Timestamp) -> Self {
        Self {
            id: ChallengeId::generate(),
            fields,
            external_ids: Vec::new(),
            status: <ChallengeStatus as crate::lifecycle::Lifecycle>::INITIAL,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// The challenge moved to `status` at `now`. Opening one that has no `opens_at` records
    /// when it opened (the pipeline's time to contract counts from it), unless its closing time
    /// has passed already, which an opening time may not follow.
    pub fn moved_to(&self, status: ChallengeStatus, now: Timestamp) -> Self {
        let mut fields = self.fields.clone();
        let opening = status == ChallengeStatus::Open && fields.opens_at.is_none();
        if opening && fields.closes_at.is_none_or(|closes| closes > now) {
            fields.opens_at = Some(now);
        }
        Self {
            fields,
            status,
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }

    /// Published challenges are those past draft: anyone may read them.
    pub fn is_published(&self) -> bool {
        self.status != ChallengeStatus::Draft
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leeds() -> ChallengeFields {
        ChallengeFields {
            programme_id: ProgrammeId::generate(),
            owner_organisation_id: OrganisationId::generate(),
            reference: "gtc-r3-leeds".into(),
            title: "Monitoring the condition of council housing".into(),
            problem_statement: "How might we use technology to monitor the condition of the council's housing stock?".into(),
            themes: vec!["Housing".into(), "IoT".into(), "housing".into()],
            opens_at: None,
            closes_at: None,
            documents: vec![],
        }
    }

    #[test]
    fn themes_are_normalised_and_deduplicated() {
        let fields = leeds().validate().unwrap();
        assert_eq!(fields.themes, ["housing", "iot"]);
        assert_eq!(fields.reference, "GTC-R3-LEEDS");
    }

    #[test]
    fn opening_records_when_a_challenge_opened_unless_it_says_already() {
        let now = Timestamp::now();
        let draft = Challenge::create(leeds().validate().unwrap(), now);
        let opened = draft.moved_to(ChallengeStatus::Open, now);
        assert_eq!(opened.fields.opens_at, Some(now));
        assert_eq!(opened.version, draft.version + 1);
        let planned = Timestamp::from_datetime(now.as_datetime() - chrono::Duration::days(3));
        let announced = Challenge {
            fields: ChallengeFields {
                opens_at: Some(planned),
                ..draft.fields.clone()
            },
            ..draft.clone()
        };
        let opened = announced.moved_to(ChallengeStatus::Open, now);
        assert_eq!(
            opened.fields.opens_at,
            Some(planned),
            "a set opening time stays"
        );
        let closed_already = Challenge {
            fields: ChallengeFields {
                closes_at: Some(planned),
                ..draft.fields.clone()
            },
            ..draft.clone()
        };
        let opened = closed_already.moved_to(ChallengeStatus::Open, now);
        assert_eq!(
            opened.fields.opens_at, None,
            "it may not open after it closed"
        );
        let cancelled = draft.moved_to(ChallengeStatus::Cancelled, now);
        assert_eq!(cancelled.fields.opens_at, None);
    }

    #[test]
    fn a_challenge_must_close_after_it_opens() {
        let now = Timestamp::now();
        let fields = ChallengeFields {
            opens_at: Some(now),
            closes_at: Some(now),
            ..leeds()
        };
        assert_eq!(
            fields.validate().unwrap_err().violations()[0].pointer,
            "#/closes_at"
        );
    }

    #[test]
    fn document_links_are_checked_one_by_one() {
        let fields = ChallengeFields {
            documents: vec![
                DocumentLink {
                    title: "Brief".into(),
                    url: "https://example.org/brief.pdf".into(),
                },
                DocumentLink {
                    title: "".into(),
                    url: "not a url".into(),
                },
            ],
            ..leeds()
        };
        let errors = fields.validate().unwrap_err();
        let pointers: Vec<&str> = errors
            .violations()
            .iter()
            .map(|v| v.pointer.as_str())
            .collect();
        assert_eq!(pointers, ["#/documents/1/title", "#/documents/1/url"]);
    }
}
