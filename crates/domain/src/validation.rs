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
}

impl From<FieldViolation> for ValidationErrors {
    fn from(violation: FieldViolation) -> Self {
        Self(vec![violation])
    }
}
