//! The API's shapes: each collection's resource, its create and merge-patch bodies, its list
//! page and the query parameters its list documents, with the checks that turn a body into the
//! domain's fields (every problem at once, as `ValidationErrors`); and the representations made
//! from domain records alone (the reports' schemas, a supplier's journey, OCDS releases, the
//! Atom and iCalendar feeds). The domain, serde and utoipa only: no web server and no database,
//! so the CLI, the seed, the audit trail and webhooks can use them as well as the http crate's
//! handlers.

pub mod api_clients;
pub mod applications;
pub mod awards;
pub mod challenges;
pub mod contacts;
pub mod external_ids;
pub mod feeds;
pub mod ids;
pub mod imports;
pub mod journeys;
pub mod lists;
pub mod merge_patch;
pub mod milestones;
pub mod ocds;
pub mod organisations;
pub mod outcomes;
pub mod phases;
pub mod problem;
pub mod programmes;
pub mod reports;
pub mod trials;
pub mod users;
pub mod webhooks;

pub use external_ids::{external_id_bodies, external_ids, patched_external_ids, ExternalIdBody};
pub use ids::{collect_field_id, parent_id};
pub use lists::ListBody;
pub use merge_patch::{optional_patch, present, required_patch};

use serde::Deserialize;
use utoipa::ToSchema;

/// A request to move a resource to another status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "open"}))]
pub struct TransitionRequest {
    /// The status to move to.
    pub to: String,
}

/// FNV-1a: stable across releases and platforms, unlike the standard library's hasher. This is a
/// consistency check, not a security boundary.
pub fn fingerprint(canonical_query: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in canonical_query.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::challenges::CreateChallenge;
    use super::contacts::UpdateContact;

    const PROGRAMME: &str = "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c";
    const OWNER: &str = "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5d";

    fn pointers(body: serde_json::Value) -> Vec<String> {
        let body: CreateChallenge = serde_json::from_value(body).expect("the body's shape");
        let errors = body.validate().expect_err("the body breaks rules");
        let mut pointers: Vec<String> = errors
            .violations()
            .iter()
            .map(|violation| violation.pointer.clone())
            .collect();
        pointers.sort();
        pointers
    }

    #[test]
    fn a_create_body_reports_every_violation_at_once_without_a_server() {
        let found = pointers(serde_json::json!({
            "programme_id": PROGRAMME, "owner_organisation_id": OWNER,
            "reference": "!", "title": "", "problem_statement": "How might we?",
            "external_ids": [{"source": "Not A Source", "id": "A-1"}]
        }));
        assert!(found.contains(&"#/reference".to_owned()), "{found:?}");
        assert!(found.contains(&"#/title".to_owned()), "{found:?}");
        assert!(
            found
                .iter()
                .any(|pointer| pointer.starts_with("#/external_ids")),
            "{found:?}"
        );
    }

    #[test]
    fn an_id_that_is_not_a_uuid_names_its_member() {
        let found = pointers(serde_json::json!({
            "programme_id": "leeds", "owner_organisation_id": OWNER,
            "reference": "GTC-1", "title": "A title", "problem_statement": "How might we?"
        }));
        assert_eq!(found, ["#/programme_id"]);
    }

    #[test]
    fn a_merge_patch_tells_null_from_absent() {
        let patch: UpdateContact =
            serde_json::from_value(serde_json::json!({"role": null})).expect("a patch");
        assert_eq!(patch.role, Some(None));
        assert_eq!(patch.name, None);
        let unknown = serde_json::from_value::<UpdateContact>(serde_json::json!({"nmae": "A"}));
        assert!(unknown.is_err(), "an unknown member is refused");
    }
}
