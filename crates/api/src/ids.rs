//! Ids in request bodies: a member that must be a UUID, and a parent named in the path or the body.

use catalyst_domain::{FieldViolation, ValidationErrors};

/// An id in a body member, recording a violation among others when it is not a UUID.
pub fn collect_field_id<T: std::str::FromStr>(
    text: &str,
    path: &str,
    errors: &mut ValidationErrors,
) -> Option<T> {
    let parsed = text.parse().ok();
    if parsed.is_none() {
        errors.push(FieldViolation::new(
            path,
            "invalid_id",
            format!("{path} must be a UUID"),
        ));
    }
    parsed
}

/// The id of a record's parent, from the path (`POST /parents/{id}/children`) or from the body
/// (a PUT by external id, an import row); given in both, they must agree.
pub fn parent_id<I: std::str::FromStr + PartialEq + Copy>(
    given: Option<&str>,
    from_path: Option<I>,
    field: &str,
    errors: &mut ValidationErrors,
) -> Option<I> {
    let parsed = given.and_then(|text| collect_field_id::<I>(text, field, errors));
    match (from_path, parsed, given) {
        (Some(path), Some(body), _) if path != body => {
            errors.push(FieldViolation::new(
                field,
                "mismatch",
                format!("{field} differs from the id in the path"),
            ));
            None
        }
        (Some(path), _, _) => Some(path),
        (None, Some(body), _) => Some(body),
        (None, None, Some(_)) => None,
        (None, None, None) => {
            errors.push(FieldViolation::new(
                field,
                "required",
                format!("{field} is required"),
            ));
            None
        }
    }
}
