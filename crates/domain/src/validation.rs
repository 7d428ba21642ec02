//! Validation results that name the field at fault, so that a client can show the message beside
//! the right input. Rules collect every violation they find rather than stopping at the first.

use serde::Serialize;

/// One broken rule: where (a JSON Pointer in URI-fragment form, such as `#/identifier/id`), a stable
/// machine-readable code, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldViolation {
    /// JSON Pointer to the offending member of the request body, as a URI fragment.
    #[cfg_attr(feature = "openapi", schema(example = "#/name"))]
    pub pointer: String,
    /// Stable machine-readable reason, such as `required`, `too_long` or `invalid_format`.
    #[cfg_attr(feature = "openapi", schema(example = "required"))]
    pub code: String,
    /// What is wrong and how to fix it.
    #[cfg_attr(feature = "openapi", schema(example = "name is required"))]
    pub detail: String,
}

impl FieldViolation {
    /// `path` is the member path without the leading `#/` (for example `identifier/id`).
    pub fn new(path: &str, code: &str, detail: impl Into<String>) -> Self {
        Self {
            pointer: format!("#/{path}"),
            code: code.to_owned(),
            detail: detail.into(),
        }
    }
}

/// Every violation found in one request.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("{} validation error(s)", .0.len())]
pub struct ValidationErrors(pub Vec<FieldViolation>);

impl ValidationErrors {
    pub fn push(&mut self, violation: FieldViolation) {
        self.0.push(violation);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn violations(&self) -> &[FieldViolation] {
        &self.0
    }

    /// `Ok(value)` when nothing was found, otherwise every violation.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// The value of a check made after these violations were found (a body's fields after its
    /// ids and keys), every violation at once with these listed first: `Ok` only when neither
    /// found any.
    pub fn before<T>(mut self, later: Result<T, ValidationErrors>) -> Result<T, ValidationErrors> {
        match later {
            Ok(value) => self.into_result(value),
            Err(found) => {
                self.0.extend(found.0);
                Err(self)
            }
        }
    }

    /// As [`ValidationErrors::before`], with these violations listed after the later check's.
    pub fn after<T>(self, later: Result<T, ValidationErrors>) -> Result<T, ValidationErrors> {
        match later {
            Ok(value) => self.into_result(value),
            Err(mut found) => {
                found.0.extend(self.0);
                Err(found)
            }
        }
    }
}

impl From<FieldViolation> for ValidationErrors {
    fn from(violation: FieldViolation) -> Self {
        Self(vec![violation])
    }
}

#[cfg(test)]
mod tests {
    use super::{FieldViolation, ValidationErrors};

    fn found(paths: &[&str]) -> ValidationErrors {
        ValidationErrors(
            paths
                .iter()
                .map(|path| FieldViolation::new(path, "invalid", "invalid"))
                .collect(),
        )
    }

    fn pointers(result: Result<(), ValidationErrors>) -> Vec<String> {
        let errors = result.expect_err("violations");
        errors
            .0
            .into_iter()
            .map(|violation| violation.pointer)
            .collect()
    }

    #[test]
    fn two_checks_report_every_violation_in_the_order_asked() {
        let later = || Err::<(), _>(found(&["title"]));
        assert_eq!(
            pointers(found(&["id"]).before(later())),
            ["#/id", "#/title"]
        );
        assert_eq!(pointers(found(&["id"]).after(later())), ["#/title", "#/id"]);
        assert_eq!(pointers(found(&["id"]).before(Ok(()))), ["#/id"]);
        assert_eq!(pointers(found(&[]).after(later())), ["#/title"]);
        assert_eq!(found(&[]).before(Ok(7)), Ok(7));
    }
}
