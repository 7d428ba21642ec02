//! Query strings: known parameters only, each at most once, so that a typo (`knid=sme`) is a 400
//! rather than a silently unfiltered list.

use std::collections::BTreeMap;

use actix_web::HttpRequest;

use crate::problem::{ApiError, ProblemItem};

/// The parameters of one request, by name.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(BTreeMap<String, String>);

impl QueryParams {
    /// The parameters, each of them `known`.
    pub fn parse(request: &HttpRequest, known: &[&str]) -> Result<Self, ApiError> {
        Self::read(request, Some(known))
    }

    /// The parameters, whatever their names (the caller then refuses the ones it did not
    /// read, with [`Self::unknown`]).
    pub fn parse_any(request: &HttpRequest) -> Result<Self, ApiError> {
        Self::read(request, None)
    }

    /// Each parameter at most once, and each `known` when that is given.
    fn read(request: &HttpRequest, known: Option<&[&str]>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(request.query_string())
            .map_err(|_| {
                ApiError::InvalidQuery(vec![ProblemItem::parameter(
                    "query",
                    "malformed_query",
                    "the query string is not valid application/x-www-form-urlencoded",
                )])
            })?;
        let mut params = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, value) in pairs {
            if let Some(known) = known.filter(|known| !known.contains(&name.as_str())) {
                errors.push(unknown_parameter(&name, known));
                continue;
            }
            match params.entry(name) {
                std::collections::btree_map::Entry::Occupied(entry) => {
                    errors.push(ProblemItem::parameter(
                        entry.key(),
                        "repeated_parameter",
                        format!("{} is given more than once", entry.key()),
                    ));
                }
                std::collections::btree_map::Entry::Vacant(entry) => {
                    entry.insert(value);
                }
            }
        }
        if errors.is_empty() {
            Ok(Self(params))
        } else {
            Err(ApiError::InvalidQuery(errors))
        }
    }

    /// A problem for each parameter not among `known`, which name what the operation takes.
    pub fn unknown(&self, known: &[&str]) -> Vec<ProblemItem> {
        self.0
            .keys()
            .filter(|name| !known.contains(&name.as_str()))
            .map(|name| unknown_parameter(name, known))
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Every parameter except `names`, in name order (for fingerprints and next links).
    pub fn without(&self, names: &[&str]) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(name, _)| !names.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    /// A text parameter, trimmed; `None` when absent or blank. Control characters are a
    /// problem recorded in `errors` (no stored text has them, and PostgreSQL's text cannot
    /// hold a NUL to compare with).
    pub fn text(&self, name: &str, errors: &mut Vec<ProblemItem>) -> Option<String> {
        let text = self.get(name)?.trim();
        if text.chars().any(char::is_control) {
            errors.push(ProblemItem::parameter(
                name,
                "invalid_characters",
                format!("{name} must not contain control characters"),
            ));
            return None;
        }
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// Parses an enumeration parameter, recording a problem when the value is not one of its
    /// spellings.
    pub fn parse_value<T: std::str::FromStr>(
        &self,
        name: &str,
        errors: &mut Vec<ProblemItem>,
        expected: impl FnOnce() -> String,
    ) -> Option<T> {
        let text = self.get(name)?;
        match text.parse() {
            Ok(value) => Some(value),
            Err(_) => {
                errors.push(ProblemItem::parameter(
                    name,
                    "invalid_value",
                    format!("{name} must be one of: {}; got {text:?}", expected()),
                ));
                None
            }
        }
    }
}

fn unknown_parameter(name: &str, known: &[&str]) -> ProblemItem {
    ProblemItem::parameter(
        name,
        "unknown_parameter",
        format!(
            "unknown query parameter {name:?}; this operation takes: {}",
            known.join(", ")
        ),
    )
}
