//! JSON Merge Patch (RFC 7396) members: absent keeps, `null` clears (or is refused for a
//! required member), a value sets.

use catalyst_domain::{FieldViolation, ValidationErrors};
use serde::Deserialize;

/// `Some(None)` for an explicit null, `None` (by `default`) for a missing member.
pub fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A required member absent from a merge patch keeps its value; `null` is refused.
pub fn required_patch<T: Clone>(
    value: &Option<Option<T>>,
    current: &T,
    path: &str,
    errors: &mut ValidationErrors,
) -> T {
    match value {
        None => current.clone(),
        Some(Some(value)) => value.clone(),
        Some(None) => {
            errors.push(FieldViolation::new(
                path,
                "required",
                format!("{path} cannot be null: it is required"),
            ));
            current.clone()
        }
    }
}

/// An optional member: absent keeps, `null` clears, a value sets.
pub fn optional_patch<T: Clone>(value: &Option<Option<T>>, current: &Option<T>) -> Option<T> {
    match value {
        None => current.clone(),
        Some(value) => value.clone(),
    }
}
