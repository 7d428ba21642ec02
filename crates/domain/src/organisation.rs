//! Organisations: the public bodies that pose challenges, the suppliers that answer them, and the
//! funders, hosts and others around them.

use serde::{Deserialize, Serialize};

use crate::ids::OrganisationId;
use crate::text::{self, Lines};
use crate::time::Timestamp;
use crate::validation::{FieldViolation, ValidationErrors};

crate::text_enum!(
    /// What sort of body an organisation is.
    OrganisationKind {
        LocalAuthority => "local_authority",
        CentralGovernment => "central_government",
        Nhs => "nhs",
        OtherPublic => "other_public",
        Sme => "sme",
        LargeBusiness => "large_business",
        Academic => "academic",
        Charity => "charity",
    }
);

impl OrganisationKind {
    /// Public bodies own challenges and host trials.
    pub fn is_public_body(&self) -> bool {
        matches!(
            self,
            Self::LocalAuthority | Self::CentralGovernment | Self::Nhs | Self::OtherPublic
        )
    }
}

crate::text_enum!(
    /// Size by staff, in the UK bands: micro < 10, small < 50, medium < 250, large 250 or more.
    Scale {
        Micro => "micro",
        Small => "small",
        Medium => "medium",
        Large => "large",
    }
);

impl Scale {
    /// Micro, small and medium enterprises are SMEs.
    pub fn is_sme(&self) -> bool {
        !matches!(self, Self::Large)
    }
}

crate::text_enum!(
    /// The twelve UK ITL1 regions (formerly NUTS1).
    Region {
        NorthEast => "north_east",
        NorthWest => "north_west",
        YorkshireAndTheHumber => "yorkshire_and_the_humber",
        EastMidlands => "east_midlands",
        WestMidlands => "west_midlands",
        EastOfEngland => "east_of_england",
        London => "london",
        SouthEast => "south_east",
        SouthWest => "south_west",
        Wales => "wales",
        Scotland => "scotland",
        NorthernIreland => "northern_ireland",
    }
);

crate::text_enum!(
    /// The register an organisation identifier comes from, spelt as org-id.guide (and so OCDS)
    /// spells it.
    IdentifierScheme {
        /// Companies House company number.
        CompaniesHouse => "GB-COH",
        /// Charity Commission for England and Wales.
        CharityCommission => "GB-CHC",
        /// Public Procurement Organisation Number (Procurement Act 2023).
        Ppon => "GB-PPON",
        /// Local authority code from the local authorities register.
        LocalAuthority => "GB-LAE",
    }
);

/// An identifier in an official register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrganisationIdentifier {
    pub scheme: IdentifierScheme,
    /// The identifier within the scheme, such as a company number (`08365849`).
    #[cfg_attr(feature = "openapi", schema(example = "08365849"))]
    pub id: String,
}

impl IdentifierScheme {
    /// The shape of an identifier in this scheme, as a regular expression for the OpenAPI
    /// document (around it, spaces are trimmed). It says what `OrganisationIdentifier::validate`
    /// checks; the unit test `identifier_patterns_say_what_validation_checks` holds them together.
    pub fn id_pattern(self) -> &'static str {
        match self {
            Self::CompaniesHouse => "[A-Za-z0-9]{8}",
            Self::CharityCommission => "[0-9]{6,8}",
            Self::Ppon => "[A-Za-z0-9-]{4,32}",
            Self::LocalAuthority => "[A-Za-z0-9]{2,6}",
        }
    }
}

impl OrganisationIdentifier {
    /// Normalises (trims, upper-cases) and checks the identifier's shape for its scheme.
    fn validate(&self, errors: &mut ValidationErrors) -> Option<OrganisationIdentifier> {
        let id = text::required_text(&self.id, "identifier/id", 64, Lines::Single, errors)?
            .to_ascii_uppercase();
        let (shape_ok, expected) = match self.scheme {
            IdentifierScheme::CompaniesHouse => (
                id.len() == 8 && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "8 letters or digits, such as 08365849 or SC123456",
            ),
            IdentifierScheme::CharityCommission => (
                (6..=8).contains(&id.len()) && id.chars().all(|c| c.is_ascii_digit()),
                "6 to 8 digits, such as 1123456",
            ),
            IdentifierScheme::Ppon => (
                (4..=32).contains(&id.len())
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "4 to 32 letters, digits or hyphens",
            ),
            IdentifierScheme::LocalAuthority => (
                (2..=6).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "2 to 6 letters or digits, such as LDS",
            ),
        };
        if shape_ok {
            Some(OrganisationIdentifier {
                scheme: self.scheme,
                id,
            })
        } else {
            errors.push(FieldViolation::new(
                "identifier/id",
                "invalid_format",
                format!("a {} identifier must be {expected}", self.scheme),
            ));
            None
        }
    }
}

/// The longest organisation name we keep.
pub const NAME_MAX_CHARS: usize = 200;

/// The editable facts about an organisation, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationFields {
    pub name: String,
    pub kind: OrganisationKind,
    pub scale: Option<Scale>,
    pub region: Option<Region>,
    pub identifier: Option<OrganisationIdentifier>,
    pub website: Option<String>,
}

/// An organisation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: OrganisationId,
    pub fields: OrganisationFields,
    /// Partners' keys for it, in source order.
    pub external_ids: Vec<crate::ExternalId>,
    /// Starts at 1 and grows by one on every change; the ETag derives from it.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a client sends to create an organisation, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationDraft {
    pub name: String,
    pub kind: OrganisationKind,
    pub scale: Option<Scale>,
    pub region: Option<Region>,
    pub identifier: Option<OrganisationIdentifier>,
    pub website: Option<String>,
}

/// A change to an organisation: `None` leaves a field alone, `Some(None)` clears it (JSON Merge
/// Patch semantics). Clearing a required field is a validation error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganisationPatch {
    pub name: Option<Option<String>>,
    pub kind: Option<Option<OrganisationKind>>,
    pub scale: Option<Option<Scale>>,
    pub region: Option<Option<Region>>,
    pub identifier: Option<Option<OrganisationIdentifier>>,
    pub website: Option<Option<String>>,
}

impl OrganisationPatch {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl OrganisationDraft {
    /// Checks every rule and returns the normalised fields, or every violation found.
    pub fn validate(&self) -> Result<OrganisationFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = text::required_text(
            &self.name,
            "name",
            NAME_MAX_CHARS,
            Lines::Single,
            &mut errors,
        );
        let identifier = self
            .identifier
            .as_ref()
            .and_then(|identifier| identifier.validate(&mut errors));
        let website = self
            .website
            .as_deref()
            .and_then(|website| text::web_url(website, "website", &mut errors));
        check_scale_fits_kind(self.kind, self.scale, &mut errors);
        match name {
            Some(name) if errors.is_empty() => Ok(OrganisationFields {
                name,
                kind: self.kind,
                scale: self.scale,
                region: self.region,
                identifier,
                website,
            }),
            _ => Err(errors),
        }
    }
}

/// An SME is micro, small or medium by definition; a large business is large. Other kinds may be
/// any size.
fn check_scale_fits_kind(
    kind: OrganisationKind,
    scale: Option<Scale>,
    errors: &mut ValidationErrors,
) {
    match (kind, scale) {
        (OrganisationKind::Sme, None) => errors.push(FieldViolation::new(
            "scale",
            "required",
            "scale is required for an sme: one of micro, small, medium",
        )),
        (OrganisationKind::Sme, Some(Scale::Large)) => errors.push(FieldViolation::new(
            "scale",
            "inconsistent_with_kind",
            "an sme cannot be large: use micro, small or medium, or kind large_business",
        )),
        (OrganisationKind::LargeBusiness, Some(scale)) if scale.is_sme() => {
            errors.push(FieldViolation::new(
                "scale",
                "inconsistent_with_kind",
                format!("a large_business cannot be {scale}: use large, or kind sme"),
            ))
        }
        _ => {}
    }
}

impl Organisation {
    /// A new organisation, at version 1.
    pub fn create(fields: OrganisationFields, now: Timestamp) -> Self {
        Self {
            id: OrganisationId::generate(),
            fields,
            external_ids: Vec::new(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// The fields after `patch`, checked as a whole (a change to `kind` is checked against the
    /// existing `scale`, and the other way round).
    pub fn patched(
        &self,
        patch: &OrganisationPatch,
    ) -> Result<OrganisationFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let current = &self.fields;
        let name = required_in_patch(&patch.name, "name", &mut errors).unwrap_or(&current.name);
        let kind = required_in_patch(&patch.kind, "kind", &mut errors).unwrap_or(&current.kind);
        let draft = OrganisationDraft {
            name: name.clone(),
            kind: *kind,
            scale: patch.scale.unwrap_or(current.scale),
            region: patch.region.unwrap_or(current.region),
            identifier: patch
                .identifier
                .clone()
                .unwrap_or_else(|| current.identifier.clone()),
            website: patch
                .website
                .clone()
                .unwrap_or_else(|| current.website.clone()),
        };
        errors.before(draft.validate())
    }
}

/// A required field may be left out of a patch but not set to null.
fn required_in_patch<'a, T>(
    value: &'a Option<Option<T>>,
    path: &str,
    errors: &mut ValidationErrors,
) -> Option<&'a T> {
    match value {
        Some(None) => {
            errors.push(FieldViolation::new(
                path,
                "required",
                format!("{path} cannot be null: it is required"),
            ));
            None
        }
        Some(Some(value)) => Some(value),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leeds() -> OrganisationDraft {
        OrganisationDraft {
            name: "Leeds City Council".into(),
            kind: OrganisationKind::LocalAuthority,
            scale: Some(Scale::Large),
            region: Some(Region::YorkshireAndTheHumber),
            identifier: Some(OrganisationIdentifier {
                scheme: IdentifierScheme::LocalAuthority,
                id: "lds".into(),
            }),
            website: Some("https://www.leeds.gov.uk".into()),
        }
    }

    fn codes(errors: &ValidationErrors) -> Vec<(&str, &str)> {
        errors
            .violations()
            .iter()
            .map(|violation| (violation.pointer.as_str(), violation.code.as_str()))
            .collect()
    }

    /// Reads a pattern of the form `[class]{n}` or `[class]{m,n}` (ranges such as `A-Z`, and a
    /// trailing `-` for itself) and says whether `text` matches it.
    fn matches_shape(pattern: &str, text: &str) -> bool {
        let (class, counts) = pattern[1..].split_once(']').unwrap();
        let counts = counts.trim_start_matches('{').trim_end_matches('}');
        let (least, most) = match counts.split_once(',') {
            Some((least, most)) => (least.parse().unwrap(), most.parse().unwrap()),
            None => (counts.parse().unwrap(), counts.parse().unwrap()),
        };
        let class: Vec<char> = class.chars().collect();
        let in_class = |c: char| {
            let mut index = 0;
            while index < class.len() {
                if index + 2 < class.len() && class[index + 1] == '-' {
                    if (class[index]..=class[index + 2]).contains(&c) {
                        return true;
                    }
                    index += 3;
                } else {
                    if class[index] == c {
                        return true;
                    }
                    index += 1;
                }
            }
            false
        };
        let length = text.chars().count();
        (least..=most).contains(&length) && text.chars().all(in_class)
    }

    #[test]
    fn identifier_patterns_say_what_validation_checks() {
        let samples = |length: usize| {
            ["0", "9", "a", "Z", "-", "_", " ", "é"]
                .map(|c| c.repeat(length))
                .into_iter()
                .chain([format!("{}A", "1".repeat(length.saturating_sub(1)))])
        };
        for scheme in [
            IdentifierScheme::CompaniesHouse,
            IdentifierScheme::CharityCommission,
            IdentifierScheme::Ppon,
            IdentifierScheme::LocalAuthority,
        ] {
            for length in 1..=34 {
                for id in samples(length) {
                    let draft = OrganisationDraft {
                        identifier: Some(OrganisationIdentifier {
                            scheme,
                            id: id.clone(),
                        }),
                        ..leeds()
                    };
                    // Validation trims: a blank id is "blank", which the text rule covers.
                    if id.trim().is_empty() {
                        continue;
                    }
                    assert_eq!(
                        draft.validate().is_ok(),
                        matches_shape(scheme.id_pattern(), &id),
                        "{scheme} {id:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_valid_draft_is_normalised() {
        let fields = leeds().validate().unwrap();
        assert_eq!(fields.identifier.unwrap().id, "LDS");
        assert_eq!(fields.name, "Leeds City Council");
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        let draft = OrganisationDraft {
            name: " ".into(),
            website: Some("leeds.gov.uk".into()),
            identifier: Some(OrganisationIdentifier {
                scheme: IdentifierScheme::CompaniesHouse,
                id: "123".into(),
            }),
            ..leeds()
        };
        let errors = draft.validate().unwrap_err();
        assert_eq!(
            codes(&errors),
            vec![
                ("#/name", "blank"),
                ("#/identifier/id", "invalid_format"),
                ("#/website", "invalid_url")
            ]
        );
    }

    #[test]
    fn an_sme_must_state_a_small_enough_scale() {
        let no_scale = OrganisationDraft {
            kind: OrganisationKind::Sme,
            scale: None,
            ..leeds()
        };
        assert_eq!(
            codes(&no_scale.validate().unwrap_err()),
            vec![("#/scale", "required")]
        );
        let large = OrganisationDraft {
            kind: OrganisationKind::Sme,
            scale: Some(Scale::Large),
            ..leeds()
        };
        assert_eq!(
            codes(&large.validate().unwrap_err()),
            vec![("#/scale", "inconsistent_with_kind")]
        );
    }

    #[test]
    fn a_patch_is_checked_against_the_fields_it_leaves_alone() {
        let organisation = Organisation::create(leeds().validate().unwrap(), Timestamp::now());
        let patch = OrganisationPatch {
            kind: Some(Some(OrganisationKind::Sme)),
            ..Default::default()
        };
        assert_eq!(
            codes(&organisation.patched(&patch).unwrap_err()),
            vec![("#/scale", "inconsistent_with_kind")]
        );
    }

    #[test]
    fn a_patch_cannot_null_a_required_field_but_can_clear_an_optional_one() {
        let organisation = Organisation::create(leeds().validate().unwrap(), Timestamp::now());
        let null_name = OrganisationPatch {
            name: Some(None),
            ..Default::default()
        };
        assert_eq!(
            codes(&organisation.patched(&null_name).unwrap_err()),
            vec![("#/name", "required")]
        );
        let clear_website = OrganisationPatch {
            website: Some(None),
            ..Default::default()
        };
        assert_eq!(organisation.patched(&clear_website).unwrap().website, None);
    }

    #[test]
    fn enum_text_forms_round_trip() {
        for region in Region::ALL {
            assert_eq!(region.as_str().parse::<Region>().unwrap(), *region);
        }
        assert_eq!(Region::ALL.len(), 12);
        let error = "martian".parse::<OrganisationKind>().unwrap_err();
        assert!(error.to_string().contains("local_authority"));
    }
}
