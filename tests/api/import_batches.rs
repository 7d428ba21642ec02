//! Imports written in batches: a batch's new records, keys, audit records, changes and results
//! go to the database together, and each row ends and is reported exactly as it would alone.

use crate::common;

use common::for_each_backend;
use common::sbri::ok;
use serde_json::{json, Value};

use super::imports::{council, imported, ndjson, organisation_count, results};

/// An import's rows created, updated and rejected.
fn created_updated_rejected(import: &Value) -> (i64, i64, i64) {
    let count = |name: &str| import[name].as_i64().unwrap();
    (
        count("rows_created"),
        count("rows_updated"),
        count("rows_rejected"),
    )
}

/// Asserts the outcome of each (line, outcome) among an import's results.
fn assert_outcomes(results: &[Value], expected: &[(i64, &str)]) {
    for (line, outcome) in expected {
        let found = results.iter().find(|result| result["line"] == *line);
        assert_eq!(
            found.and_then(|result| result["outcome"].as_str()),
            Some(*outcome),
            "line {line}"
        );
    }
}

/// New rows are written many to a statement; each row must still end as it would alone: a row
/// whose identifier is taken is the one reported (the gathered write is undone and its rows
/// written one by one), a key met twice in a batch creates and then updates, and every new
/// record has its change in the feed as the API serves it.
#[test]
fn organisations_import_in_batches_as_they_would_row_by_row() {
    for_each_backend(|server| {
        let taken = json!({"scheme": "GB-COH", "id": "08365849"});
        common::sbri::created(server.post_json(
            "/api/v1/organisations",
            &json!({"name": "HomeLINK", "kind": "sme", "scale": "small", "identifier": taken}),
        ));
        // Three batches; the clash is inside the second, the repeated key inside the first.
        let mut rows: Vec<Value> = (1..=1_200).map(council).collect();
        rows[699]["identifier"] = taken.clone();
        rows[19]["external_ids"] = json!([{"source": "crm", "id": "C10"}]);
        rows[19]["name"] = json!("Council Ten, renamed");
        let file = ndjson(&rows);
        let changes_before = server.changes_from_start().len();

        let (location, import) = imported(server, "collection=organisations", &file);
        assert_eq!(import["status"], "failed", "{import}");
        let rejected = results(server, &location, "&outcome=rejected");
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        assert_eq!(rejected[0]["line"], 700);
        assert_eq!(rejected[0]["errors"][0]["pointer"], "#/identifier");
        assert_eq!(organisation_count(server), 1, "all or nothing: nothing");
        assert_eq!(server.changes_from_start().len(), changes_before);

        let (location, import) = imported(server, "collection=organisations&mode=partial", &file);
        assert_eq!(import["status"], "succeeded", "{import}");
        assert_eq!(created_updated_rejected(&import), (1_198, 1, 1));
        let all = results(server, &location, "");
        assert_outcomes(
            &all,
            &[
                (10, "created"),
                (20, "updated"),
                (700, "rejected"),
                (701, "created"),
            ],
        );
        let ten = ok(server.get("/api/v1/organisations/by-external-id/crm/C10"));
        assert_eq!(ten["name"], "Council Ten, renamed");
        assert_eq!(ten["version"], 2);

        // Every new record and the update are in the feed, as the API serves them.
        let changes = server.changes_from_start();
        assert_eq!(changes.len(), changes_before + 1_199);
        for line in [1_i64, 500, 501, 1_200] {
            let id = all.iter().find(|result| result["line"] == line).unwrap()["id"].clone();
            let served = ok(server.get(&format!("/api/v1/organisations/{}", id.as_str().unwrap())));
            let change = changes
                .iter()
                .find(|change| change["id"] == id)
                .unwrap_or_else(|| panic!("no change for line {line}"));
            assert_eq!(change["state"], served, "line {line}");
        }
    });
}

#[test]
fn challenges_import_in_batches_as_they_would_row_by_row() {
    for_each_backend(|server| {
        let world = common::sbri::world(server, 1);
        common::sbri::created(
            server.post_json("/api/v1/challenges", &common::sbri::leeds_challenge(&world)),
        );
        let row = |n: usize| {
            json!({"programme_id": world.programme, "owner_organisation_id": world.leeds,
                   "reference": format!("REF-{n}"), "title": format!("Challenge {n}"),
                   "problem_statement": "How might we find damp before tenants suffer?",
                   "external_ids": [{"source": "crm", "id": format!("CH{n}")}]})
        };
        // Three batches: a reference another challenge has (only the database can tell) and
        // a programme that does not exist inside the second, a repeated key inside the first.
        let mut rows: Vec<Value> = (1..=1_100).map(row).collect();
        rows[599]["reference"] = json!("gtc-r3-leeds");
        rows[19]["external_ids"] = json!([{"source": "crm", "id": "CH10"}]);
        rows[19]["title"] = json!("Challenge ten, renamed");
        // All or nothing checks every row before it writes one: this file fails only in the
        // writing, at the taken reference.
        let file = ndjson(&rows);
        let changes_before = server.changes_from_start().len();
        let challenges = || {
            server
                .get_as("/api/v1/challenges?limit=500", &server.admin_token)
                .json()["data"]
                .as_array()
                .unwrap()
                .len()
        };

        let (location, import) = imported(server, "collection=challenges", &file);
        assert_eq!(import["status"], "failed", "{import}");
        let rejected = results(server, &location, "&outcome=rejected");
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        assert_eq!(rejected[0]["line"], 600, "{rejected:?}");
        assert_eq!(challenges(), 1, "all or nothing: nothing");
        assert_eq!(server.changes_from_start().len(), changes_before);

        rows[899]["programme_id"] = json!("01a25013-0000-7000-8000-000000000000");
        let file = ndjson(&rows);
        let (location, import) = imported(server, "collection=challenges&mode=partial", &file);
        assert_eq!(import["status"], "succeeded", "{import}");
        assert_eq!(created_updated_rejected(&import), (1_097, 1, 2));
        let all = results(server, &location, "");
        assert_outcomes(
            &all,
            &[
                (10, "created"),
                (20, "updated"),
                (600, "rejected"),
                (601, "created"),
                (900, "rejected"),
            ],
        );
        let ten = ok(server.get_as(
            "/api/v1/challenges/by-external-id/crm/CH10",
            &server.admin_token,
        ));
        assert_eq!(ten["title"], "Challenge ten, renamed");
        assert_eq!(ten["version"], 2);

        // Every new record and the update are in the feed, as the API serves them.
        let changes = server.changes_from_start();
        assert_eq!(changes.len(), changes_before + 1_098);
        for line in [1_i64, 500, 501, 1_100] {
            let id = all.iter().find(|result| result["line"] == line).unwrap()["id"].clone();
            let mut served = ok(server.get_as(
                &format!("/api/v1/challenges/{}", id.as_str().unwrap()),
                &server.admin_token,
            ));
            // The feed holds the record without the figures derived from its phases, as it
            // does for a challenge made by POST.
            served.as_object_mut().unwrap().remove("totals");
            let change = changes
                .iter()
                .find(|change| change["id"] == id)
                .unwrap_or_else(|| panic!("no change for line {line}"));
            assert_eq!(change["state"], served, "line {line}");
        }
    });
}
