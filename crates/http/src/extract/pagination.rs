//! Lists: `limit`, opaque keyset `cursor`s bound to the filters and sort they were made with, and
//! the `Link: rel="next"` header.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use catalyst_domain::Timestamp;
use catalyst_persistence::keyset::{After, Direction, SortValue};
use serde::{Deserialize, Serialize};

use crate::problem::{ApiError, ProblemItem};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

/// `limit`: default 50; above 500 is read as 500; zero, negative or not a whole number is a 400.
pub fn parse_limit(value: Option<&str>) -> Result<usize, ProblemItem> {
    parse_limit_up_to(value, DEFAULT_LIMIT, MAX_LIMIT)
}

/// `limit` for a list whose pages hold at most `max`: any whole number above it (however large:
/// the spec sets no maximum) is read as `max`.
pub fn parse_limit_up_to(
    value: Option<&str>,
    default: usize,
    max: usize,
) -> Result<usize, ProblemItem> {
    let Some(text) = value else {
        return Ok(default);
    };
    let digits = text.strip_prefix('+').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
        // Beyond a 64-bit integer (the spec's int64) is out of range, not read as `max`.
        let limit = digits
            .parse::<i64>()
            .ok()
            .map(|limit| usize::try_from(limit).unwrap_or(max).min(max));
        return if let Some(limit) = limit.filter(|limit| *limit >= 1) {
            Ok(limit)
        } else {
            Err(ProblemItem::parameter(
                "limit",
                "out_of_range",
                format!("limit must be a whole number from 1 to 9223372036854775807 (at most {max} are returned), got {text}"),
            ))
        };
    }
    let negative = text
        .strip_prefix('-')
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|byte| byte.is_ascii_digit()));
    Err(if negative {
        ProblemItem::parameter(
            "limit",
            "out_of_range",
            format!("limit must be at least 1 (at most {max} are returned), got {text}"),
        )
    } else {
        ProblemItem::parameter(
            "limit",
            "invalid_integer",
            format!(
                "limit must be a whole number from 1 (at most {max} are returned), got {text:?}"
            ),
        )
    })
}

/// Whether a sort key holds text or a time, so a cursor's values can be read back typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Time,
    Int,
}

/// What a cursor holds: the last row's sort-key values and a fingerprint of the query it belongs
/// to. It is opaque to clients (base64url of this JSON) and guarded rather than secret.
#[derive(Debug, Serialize, Deserialize)]
struct CursorBody {
    /// Fingerprint of the filters and sort.
    q: String,
    /// Sort-key values, in sort order.
    k: Vec<String>,
}

// A release's id (OCDS) is made with it too, so it lives with the API's shapes.
pub use catalyst_api::fingerprint;

pub fn encode_cursor(after: &After, query_fingerprint: &str) -> String {
    let body = CursorBody {
        q: query_fingerprint.to_owned(),
        k: after
            .values
            .iter()
            .map(|value| match value {
                SortValue::Text(text) => text.clone(),
                SortValue::Time(time) => time.to_string(),
                SortValue::Int(number) => number.to_string(),
            })
            .collect(),
    };
    // Serialising plain strings cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap_or_default())
}

fn invalid_cursor(detail: &str) -> ProblemItem {
    ProblemItem::parameter("cursor", "invalid_cursor", detail)
}

/// The `cursor` of a list paged by its rows' ids, where the cursor is the last id seen: `None`
/// without one; 400 `invalid_cursor` for one that is not such an id (it would otherwise be
/// compared as text and answer a page the client never asked for).
pub fn id_cursor<T: std::str::FromStr>(cursor: Option<&str>) -> Result<Option<T>, ProblemItem> {
    cursor
        .map(|cursor| {
            cursor.parse().map_err(|_| {
                invalid_cursor("cursor is not one this API issued: use next_cursor as given")
            })
        })
        .transpose()
}

/// `limit` and an id `cursor` ([`id_cursor`]), each problem with them added to `errors` (so
/// that a request hears of every bad parameter at once).
pub fn limit_and_id_cursor<T: std::str::FromStr>(
    params: &crate::extract::query::QueryParams,
    errors: &mut Vec<ProblemItem>,
) -> (usize, Option<T>) {
    let limit = parse_limit(params.get("limit")).unwrap_or_else(|e| {
        errors.push(e);
        DEFAULT_LIMIT
    });
    let cursor = id_cursor(params.get("cursor")).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    (limit, cursor)
}

/// Reads a cursor made for a query with `query_fingerprint` and keys of `kinds`.
pub fn decode_cursor(
    cursor: &str,
    query_fingerprint: &str,
    kinds: &[KeyKind],
) -> Result<After, ProblemItem> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim_end_matches('='))
        .map_err(|_| {
            invalid_cursor("cursor is not one this API issued: use next_cursor as given")
        })?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| {
        invalid_cursor("cursor is not one this API issued: use next_cursor as given")
    })?;
    if body.q != query_fingerprint {
        return Err(ProblemItem::parameter(
            "cursor",
            "cursor_mismatch",
            "cursor was made for other filters or another sort: repeat the query that gave it, or start again without a cursor",
        ));
    }
    if body.k.len() != kinds.len() {
        return Err(invalid_cursor("cursor does not fit this list"));
    }
    let values = body
        .k
        .into_iter()
        .zip(kinds)
        .map(|(text, kind)| match kind {
            KeyKind::Text => Ok(SortValue::Text(text)),
            KeyKind::Time => Timestamp::parse_rfc3339(&text)
                .map(SortValue::Time)
                .map_err(|_| invalid_cursor("cursor does not fit this list")),
            KeyKind::Int => text
                .parse()
                .map(SortValue::Int)
                .map_err(|_| invalid_cursor("cursor does not fit this list")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(After { values })
}

/// Parses `sort=-created_at,name` with `parse_field` naming the sortable fields.
pub fn parse_sort<F: Copy + PartialEq>(
    text: Option<&str>,
    default: &[(F, Direction)],
    known: &[(&str, F)],
) -> Result<Vec<(F, Direction)>, ProblemItem> {
    let Some(text) = text else {
        return Ok(default.to_vec());
    };
    let names = known
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ");
    let mut keys: Vec<(F, Direction)> = Vec::new();
    for part in text.split(',') {
        let (direction, name) = match part.strip_prefix('-') {
            Some(name) => (Direction::Descending, name),
            None => (Direction::Ascending, part.strip_prefix('+').unwrap_or(part)),
        };
        let field = known
            .iter()
            .find(|(known_name, _)| *known_name == name)
            .map(|(_, field)| *field)
            .ok_or_else(|| {
                ProblemItem::parameter(
                    "sort",
                    "invalid_sort",
                    format!("cannot sort by {name:?}: use one or more of {names}, comma-separated, each optionally prefixed with - for descending"),
                )
            })?;
        // A key named again adds nothing: rows are already ordered by its first mention.
        if !keys.iter().any(|(existing, _)| *existing == field) {
            keys.push((field, direction));
        }
    }
    Ok(keys)
}

/// `updated_since`, an RFC 3339 instant, recording a problem when it is not one.
pub fn parse_updated_since(
    value: Option<&str>,
    errors: &mut Vec<ProblemItem>,
) -> Option<Timestamp> {
    let text = value?;
    match Timestamp::parse_rfc3339(text) {
        Ok(time) => Some(time),
        Err(_) => {
            errors.push(ProblemItem::parameter(
                "updated_since",
                "invalid_timestamp",
                format!("updated_since must be an RFC 3339 timestamp such as 2026-11-26T09:30:00Z, got {text:?}"),
            ));
            None
        }
    }
}

/// Collected query errors, or the parsed value.
pub fn collect_errors(errors: Vec<ProblemItem>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidQuery(errors))
    }
}

/// The cursor of the page after `rows` when the store said there are `more`: the last row's key.
pub fn next_cursor<T>(more: bool, rows: &[T], key: impl Fn(&T) -> String) -> Option<String> {
    rows.last().filter(|_| more).map(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_caps_and_rejects() {
        assert_eq!(parse_limit(None), Ok(50));
        assert_eq!(parse_limit(Some("10")), Ok(10));
        assert_eq!(parse_limit(Some("100000")), Ok(500));
        assert_eq!(parse_limit(Some("-1")).unwrap_err().code, "out_of_range");
        assert_eq!(parse_limit(Some("0")).unwrap_err().code, "out_of_range");
        assert_eq!(
            parse_limit(Some("ten")).unwrap_err().code,
            "invalid_integer"
        );
    }

    #[test]
    fn a_cursor_round_trips_and_is_bound_to_its_query() {
        let after = After {
            values: vec![
                SortValue::Text("Leeds".into()),
                SortValue::Time(Timestamp::now()),
            ],
        };
        let cursor = encode_cursor(&after, "abc");
        let kinds = [KeyKind::Text, KeyKind::Time];
        assert_eq!(decode_cursor(&cursor, "abc", &kinds).unwrap(), after);
        assert_eq!(
            decode_cursor(&cursor, "other", &kinds).unwrap_err().code,
            "cursor_mismatch"
        );
        assert_eq!(
            decode_cursor("not a cursor", "abc", &kinds)
                .unwrap_err()
                .code,
            "invalid_cursor"
        );
    }

    #[test]
    fn sort_accepts_known_fields_with_directions() {
        let known = [("name", 1), ("created_at", 2)];
        assert_eq!(
            parse_sort(Some("-created_at,name"), &[], &known).unwrap(),
            vec![(2, Direction::Descending), (1, Direction::Ascending)]
        );
        assert!(parse_sort(Some("colour"), &[], &known).is_err());
        // A key named again adds nothing; its first mention decides.
        assert_eq!(
            parse_sort(Some("name,-name"), &[], &known)
                .ok()
                .map(|keys| keys.len()),
            Some(1)
        );
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_ne!(fingerprint("kind=sme"), fingerprint("kind=nhs"));
    }
}
