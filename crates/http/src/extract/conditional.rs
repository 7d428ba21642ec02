//! ETags from versions, and the conditional headers that use them: `If-None-Match` for cheap
//! re-reads (304) and `If-Match` so that no update is lost between two clients (412).

use actix_web::http::header::{self, HeaderMap};

use crate::problem::{ApiError, ProblemItem};

/// The strong ETag of a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The ETag of a representation that adds figures derived from other records to a resource at
/// `version`: `"<version>.<fingerprint>"`, so a cached copy goes stale when the figures change,
/// while `If-Match` still compares the version that writes are about.
pub fn derived_etag(version: i64, derived: &str) -> String {
    format!(
        "\"{version}.{}\"",
        crate::extract::pagination::fingerprint(derived)
    )
}

/// The version an entity tag names (`"7"` or `"7.<fingerprint>"` both name version 7).
fn names_version(opaque: &str, version: &str) -> bool {
    opaque == version
        || opaque
            .strip_prefix(version)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// One entity tag from a conditional header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EntityTag {
    weak: bool,
    opaque: String,
}

/// A parsed `If-Match` / `If-None-Match`: `*` or a list of tags.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    Any,
    Tags(Vec<EntityTag>),
}

/// `None` for an empty list, which conditions nothing.
fn parse(header_name: &str, text: &str) -> Result<Option<Condition>, ApiError> {
    let text = text.trim();
    if text == "*" {
        return Ok(Some(Condition::Any));
    }
    let invalid = || {
        ApiError::InvalidHeader(ProblemItem::parameter(
            header_name,
            "invalid_entity_tag",
            format!("{header_name} must be * or a list of quoted entity tags such as \"3\""),
        ))
    };
    // A list of entity tags (RFC 9110): commas between them, white space around, empty
    // elements allowed; a tag's quotes may hold commas, so the text is read tag by tag.
    let mut tags = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let inner = quoted.strip_prefix('"').ok_or_else(invalid)?;
        let (opaque, after) = inner.split_once('"').ok_or_else(invalid)?;
        // etagc (RFC 9110, 8.8.3): visible ASCII but the quote; no spaces.
        if !opaque
            .bytes()
            .all(|byte| byte == b'!' || (b'#'..=b'~').contains(&byte))
        {
            return Err(invalid());
        }
        tags.push(EntityTag {
            weak,
            opaque: opaque.to_owned(),
        });
        rest = after.trim_start_matches([' ', '\t']);
        if !rest.is_empty() && !rest.starts_with(',') {
            return Err(invalid());
        }
    }
    if tags.is_empty() {
        return Ok(None);
    }
    Ok(Some(Condition::Tags(tags)))
}

fn read(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<Condition>, ApiError> {
    let label = name.as_str().to_owned();
    headers
        .get(&name)
        .map(|value| {
            let text = value.to_str().map_err(|_| {
                ApiError::InvalidHeader(ProblemItem::parameter(
                    &label,
                    "invalid_entity_tag",
                    format!("{label} must be ASCII"),
                ))
            })?;
            parse(&label, text)
        })
        .transpose()
        .map(Option::flatten)
}

/// `If-Match` as sent, checked against a version with the strong comparison RFC 9110 asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch(Option<Condition>);

impl IfMatch {
    /// No condition: for a write whose precondition was checked already.
    pub fn absent() -> Self {
        Self(None)
    }

    pub fn from_headers(headers: &HeaderMap) -> Result<Self, ApiError> {
        Ok(Self(read(headers, header::IF_MATCH)?))
    }

    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }

    /// `Err(412)` unless the resource at `version` satisfies the header (or there is none).
    pub fn check(&self, version: i64) -> Result<(), ApiError> {
        let current = version.to_string();
        let satisfied = match &self.0 {
            None | Some(Condition::Any) => true,
            Some(Condition::Tags(tags)) => tags
                .iter()
                .any(|tag| !tag.weak && names_version(&tag.opaque, &current)),
        };
        if satisfied {
            Ok(())
        } else {
            Err(ApiError::PreconditionFailed(format!(
                "If-Match does not match: the current version is {version} (ETag \"{version}\")"
            )))
        }
    }
}

/// Whether `If-None-Match` matches the full entity tag `tag` (quoted), by weak comparison.
pub fn if_none_match_matches_tag(headers: &HeaderMap, tag: &str) -> Result<bool, ApiError> {
    let opaque = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
    Ok(match read(headers, header::IF_NONE_MATCH)? {
        None => false,
        Some(Condition::Any) => true,
        Some(Condition::Tags(tags)) => tags.iter().any(|candidate| candidate.opaque == opaque),
    })
}

/// Refuses a malformed `If-None-Match` (400) before anything is read or written: a write whose
/// precondition cannot be read must not go ahead as if none had been sent.
pub fn check_if_none_match_syntax(headers: &HeaderMap) -> Result<(), ApiError> {
    read(headers, header::IF_NONE_MATCH).map(|_| ())
}

/// Whether `If-None-Match` matches `version` (weak comparison): the client's copy is current.
pub fn if_none_match_matches(headers: &HeaderMap, version: i64) -> Result<bool, ApiError> {
    let current = version.to_string();
    Ok(match read(headers, header::IF_NONE_MATCH)? {
        None => false,
        Some(Condition::Any) => true,
        Some(Condition::Tags(tags)) => tags.iter().any(|tag| tag.opaque == current),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(name: HeaderName, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn if_match_needs_a_strong_equal_tag() {
        let matching = IfMatch::from_headers(&headers(header::IF_MATCH, "\"1\", \"3\"")).unwrap();
        assert!(matching.check(3).is_ok());
        assert!(matching.check(2).is_err());
        let weak = IfMatch::from_headers(&headers(header::IF_MATCH, "W/\"3\"")).unwrap();
        assert!(weak.check(3).is_err());
        let any = IfMatch::from_headers(&headers(header::IF_MATCH, "*")).unwrap();
        assert!(any.check(9).is_ok());
    }

    #[test]
    fn if_none_match_uses_the_weak_comparison() {
        assert!(if_none_match_matches(&headers(header::IF_NONE_MATCH, "W/\"4\""), 4).unwrap());
        assert!(!if_none_match_matches(&headers(header::IF_NONE_MATCH, "\"5\""), 4).unwrap());
    }

    #[test]
    fn a_derived_tag_names_its_version_for_if_match() {
        let tag = derived_etag(3, "figures");
        let matching = IfMatch::from_headers(&headers(header::IF_MATCH, &tag)).unwrap();
        assert!(matching.check(3).is_ok());
        assert!(matching.check(4).is_err());
        assert!(if_none_match_matches_tag(&headers(header::IF_NONE_MATCH, &tag), &tag).unwrap());
        assert!(!if_none_match_matches_tag(
            &headers(header::IF_NONE_MATCH, &tag),
            &derived_etag(3, "other")
        )
        .unwrap());
    }

    #[test]
    fn an_unquoted_tag_is_a_bad_request() {
        assert!(IfMatch::from_headers(&headers(header::IF_MATCH, "3")).is_err());
        assert!(IfMatch::from_headers(&headers(header::IF_MATCH, "\"3\" \"4\"")).is_err());
        assert!(IfMatch::from_headers(&headers(header::IF_MATCH, "\"3")).is_err());
    }

    #[test]
    fn lists_may_hold_commas_inside_tags_and_empty_elements() {
        let list = "W/\",a,b\" ,, \"x,\",\"3\"  ,";
        let matching = IfMatch::from_headers(&headers(header::IF_MATCH, list)).unwrap();
        assert!(matching.check(3).is_ok());
        assert!(matching.check(4).is_err());
        let empty = IfMatch::from_headers(&headers(header::IF_MATCH, " , ")).unwrap();
        assert!(!empty.is_present());
    }
}
