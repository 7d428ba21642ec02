//! The items of an RFC 9457 problem: which body member or query parameter is at fault, and why.

use catalyst_domain::FieldViolation;
use serde::Serialize;
use utoipa::ToSchema;

/// One error inside a problem: a body member (`pointer`) or a query parameter (`parameter`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProblemItem {
    /// JSON Pointer (as a URI fragment) to the body member at fault.
    #[schema(example = "#/name")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The query parameter or header at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[schema(example = "required")]
    pub code: String,
    #[schema(example = "name is required")]
    pub detail: String,
}

impl From<FieldViolation> for ProblemItem {
    fn from(violation: FieldViolation) -> Self {
        Self {
            pointer: Some(violation.pointer),
            parameter: None,
            code: violation.code,
            detail: violation.detail,
        }
    }
}

impl ProblemItem {
    /// An error in the body member at `pointer` (a JSON Pointer as a URI fragment, `#/name`).
    pub fn member(pointer: impl Into<String>, code: &str, detail: impl Into<String>) -> Self {
        Self {
            pointer: Some(pointer.into()),
            parameter: None,
            code: code.to_owned(),
            detail: detail.into(),
        }
    }

    pub fn parameter(name: &str, code: &str, detail: impl Into<String>) -> Self {
        Self {
            pointer: None,
            parameter: Some(name.to_owned()),
            code: code.to_owned(),
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for ProblemItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}
