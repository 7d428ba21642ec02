//! External ids: the keys partners' systems use for our records (`source` names the system,
//! `id` is its key), so that a sync can find and update a record without keeping our ids.

use crate::validation::{FieldViolation, ValidationErrors};

/// One partner system's key for a record. A source names each record at most once, and a
/// source's key names at most one record of a collection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExternalId {
    pub source: String,
    pub id: String,
}

pub const SOURCE_MAX_CHARS: usize = 64;
pub const ID_MAX_CHARS: usize = 200;
/// Enough for every system a record is synced with, few enough to keep records small.
pub const MAX_PER_RECORD: usize = 20;

/// Checks a source name: lower-case letters, digits, `-`, `_` and `.`, starting with a letter
/// or digit (it appears in URLs: `/by-external-id/{source}/{id}`).
pub fn validate_source(source: &str, path: &str, errors: &mut ValidationErrors) -> bool {
    let valid = !source.is_empty()
        && source.chars().count() <= SOURCE_MAX_CHARS
        && source.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && source
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if !valid {
        errors.push(FieldViolation::new(
            path,
            "invalid_source",
            format!(
                "a source is 1 to {SOURCE_MAX_CHARS} lower-case letters, digits, '-', '_' or '.', such as leeds-housing-crm"
            ),
        ));
    }
    valid
}

/// Checks a partner's key: 1 to 200 characters, no control characters, no surrounding spaces.
pub fn validate_key(id: &str, path: &str, errors: &mut ValidationErrors) -> bool {
    let valid = !id.is_empty()
        && id.chars().count() <= ID_MAX_CHARS
        && id.trim() == id
        && !id.chars().any(char::is_control);
    if !valid {
        errors.push(FieldViolation::new(
            path,
            "invalid_external_id",
            format!("an external id is 1 to {ID_MAX_CHARS} characters with no control characters or surrounding spaces"),
        ));
    }
    valid
}

/// Checks a record's external ids (the member at `path`): each valid, each source once.
pub fn validate_external_ids(
    given: &[ExternalId],
    path: &str,
    errors: &mut ValidationErrors,
) -> Vec<ExternalId> {
    if given.len() > MAX_PER_RECORD {
        errors.push(FieldViolation::new(
            path,
            "too_many",
            format!("a record has at most {MAX_PER_RECORD} external ids"),
        ));
        return Vec::new();
    }
    let mut valid: Vec<ExternalId> = Vec::new();
    for (index, external) in given.iter().enumerate() {
        let source_ok =
            validate_source(&external.source, &format!("{path}/{index}/source"), errors);
        let id_ok = validate_key(&external.id, &format!("{path}/{index}/id"), errors);
        if valid.iter().any(|seen| seen.source == external.source) {
            errors.push(FieldViolation::new(
                &format!("{path}/{index}/source"),
                "repeated_source",
                format!(
                    "{:?} is given twice: a source names a record once",
                    external.source
                ),
            ));
        } else if source_ok && id_ok {
            valid.push(external.clone());
        }
    }
    valid.sort();
    valid
}

/// `given` with the key a request's path names: added if its source is missing, refused if
/// `given` names another key for that source.
pub fn with_key(
    mut given: Vec<ExternalId>,
    key: &ExternalId,
) -> Result<Vec<ExternalId>, FieldViolation> {
    match given.iter().find(|external| external.source == key.source) {
        Some(external) if external.id != key.id => Err(FieldViolation::new(
            "external_ids",
            "conflicts_with_path",
            format!(
                "external_ids gives {} the key {:?}, but the path says {:?}",
                key.source, external.id, key.id
            ),
        )),
        Some(_) => Ok(given),
        None => {
            given.push(key.clone());
            given.sort();
            at_most_per_record(given, "too_many_with_path_key", "the path's key among them")
        }
    }
}

/// `keys`, unless they are more than a record may have. They hold more than the request
/// listed (`which` says what), so the code is not the list's own `too_many`: the limit is met
/// with the path or the stored record, which no schema of the body can state.
fn at_most_per_record(
    keys: Vec<ExternalId>,
    code: &str,
    which: &str,
) -> Result<Vec<ExternalId>, FieldViolation> {
    if keys.len() > MAX_PER_RECORD {
        return Err(FieldViolation::new(
            "external_ids",
            code,
            format!("a record has at most {MAX_PER_RECORD} external ids, {which}"),
        ));
    }
    Ok(keys)
}

/// A record's keys after a whole-record write: `given` wins for its sources, the record keeps
/// its other sources' keys; refused when that makes more than a record may have.
pub fn merged(
    kept: &[ExternalId],
    given: &[ExternalId],
) -> Result<Vec<ExternalId>, FieldViolation> {
    let mut merged: Vec<ExternalId> = kept
        .iter()
        .filter(|old| given.iter().all(|new| new.source != old.source))
        .chain(given.iter())
        .cloned()
        .collect();
    merged.sort();
    at_most_per_record(
        merged,
        "too_many_with_kept_keys",
        "the record's keys from other sources among them",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn external(source: &str, id: &str) -> ExternalId {
        ExternalId {
            source: source.to_owned(),
            id: id.to_owned(),
        }
    }

    /// `count` keys, one per source `s0`, `s1`, ...
    fn keys(count: usize) -> Vec<ExternalId> {
        (0..count)
            .map(|index| external(&format!("s{index}"), "1"))
            .collect()
    }

    #[test]
    fn the_paths_key_counts_towards_a_records_limit() {
        let full = keys(MAX_PER_RECORD);
        let refused = with_key(full.clone(), &external("crm", "1")).unwrap_err();
        assert_eq!(
            (refused.pointer.as_str(), refused.code.as_str()),
            ("#/external_ids", "too_many_with_path_key")
        );
        assert_eq!(
            with_key(full.clone(), &external("s0", "1")).unwrap().len(),
            MAX_PER_RECORD
        );
        let room = keys(MAX_PER_RECORD - 1);
        assert_eq!(
            with_key(room, &external("crm", "1")).unwrap().len(),
            MAX_PER_RECORD
        );
    }

    #[test]
    fn keys_kept_from_other_sources_count_towards_a_records_limit() {
        let kept = keys(MAX_PER_RECORD);
        let refused = merged(&kept, &[external("crm", "1")]).unwrap_err();
        assert_eq!(refused.code, "too_many_with_kept_keys");
        let replaced = merged(&kept, &[external("s3", "2")]).unwrap();
        assert_eq!(replaced.len(), MAX_PER_RECORD);
        assert!(replaced.contains(&external("s3", "2")));
    }

    #[test]
    fn external_ids_are_checked_and_each_source_named_once() {
        let mut errors = ValidationErrors::default();
        let valid = validate_external_ids(
            &[
                external("leeds-crm", "ORG/00042"),
                external("companies-house", "07364574"),
            ],
            "external_ids",
            &mut errors,
        );
        assert!(errors.is_empty());
        assert_eq!(valid[0].source, "companies-house");

        for (bad, code) in [
            (vec![external("Leeds CRM", "1")], "invalid_source"),
            (vec![external("crm", " 1")], "invalid_external_id"),
            (vec![external("crm", "a\u{0}b")], "invalid_external_id"),
            (vec![external("crm", "")], "invalid_external_id"),
            (
                vec![external("crm", "1"), external("crm", "2")],
                "repeated_source",
            ),
        ] {
            let mut errors = ValidationErrors::default();
            validate_external_ids(&bad, "external_ids", &mut errors);
            assert_eq!(errors.violations()[0].code, code, "{bad:?}");
        }
    }
}
