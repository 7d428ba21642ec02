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

/// Each rejected row's line and the code of its first problem.
fn rejected_codes(server: &common::TestServer, location: &str) -> Vec<(i64, String)> {
    results(server, location, "&outcome=rejected")
        .iter()
        .map(|row| {
            (
                row["line"].as_i64().unwrap(),
                row["errors"][0]["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
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
        // Three batches; a clash inside the second and another inside the third, the repeated
        // key inside the first, a bad kind inside the third.
        let mut rows: Vec<Value> = (1..=1_200).map(council).collect();
        rows[699]["identifier"] = taken.clone();
        rows[1_149]["identifier"] = taken.clone();
        rows[1_099]["kind"] = json!("castle");
        rows[19]["external_ids"] = json!([{"source": "crm", "id": "C10"}]);
        rows[19]["name"] = json!("Council Ten, renamed");
        let file = ndjson(&rows);
        let changes_before = server.changes_from_start().len();

        // All or nothing: the clash dooms the import, so the batch after it is only checked
        // on its own: its bad kind is named, its clash (only writing can tell) is not.
        let (location, import) = imported(server, "collection=organisations", &file);
        assert_eq!(import["status"], "failed", "{import}");
        assert_eq!(import["rows_processed"], 1_200, "{import}");
        let rejected = results(server, &location, "&outcome=rejected");
        assert_eq!(rejected.len(), 2, "{rejected:?}");
        assert_eq!(rejected[0]["line"], 700);
        assert_eq!(rejected[0]["errors"][0]["pointer"], "#/identifier");
        assert_eq!(rejected[1]["line"], 1_100);
        assert_eq!(rejected[1]["errors"][0]["pointer"], "#/kind");
        assert_eq!(organisation_count(server), 1, "all or nothing: nothing");
        assert_eq!(server.changes_from_start().len(), changes_before);

        let (location, import) = imported(server, "collection=organisations&mode=partial", &file);
        assert_eq!(import["status"], "succeeded", "{import}");
        assert_eq!(created_updated_rejected(&import), (1_196, 1, 3));
        let all = results(server, &location, "");
        assert_outcomes(
            &all,
            &[
                (10, "created"),
                (20, "updated"),
                (700, "rejected"),
                (701, "created"),
                (1_100, "rejected"),
                (1_150, "rejected"),
            ],
        );
        let ten = ok(server.get("/api/v1/organisations/by-external-id/crm/C10"));
        assert_eq!(ten["name"], "Council Ten, renamed");
        assert_eq!(ten["version"], 2);

        // Every new record and the update are in the feed, as the API serves them.
        let changes = server.changes_from_start();
        assert_eq!(changes.len(), changes_before + 1_197);
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
        // All or nothing: this file fails at the taken reference (only writing can tell), and
        // nothing stays.
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

/// Applications and awards import in batches too. An award's checks read what awards before it
/// wrote (the supplier's award in the phase before, the phase's budget): a Phase 2 award whose
/// Phase 1 award is a few lines up in the same file is linked to it (in all or nothing too), a
/// Phase 3 award (open to all) is linked to the Phase 2 award gathered a line before it, the
/// award that overspends the budget is the one refused, and the phases' figures and versions
/// end as row by row.
#[test]
fn applications_and_awards_import_in_batches_as_they_would_row_by_row() {
    use super::awards::open_competition;
    use common::sbri::{gbp, id, transition};
    for_each_backend(|server| {
        let world = common::sbri::world(server, 5);
        // Phase 1: GBP 200,000, up to GBP 50,000 a supplier: four awards fit, not five.
        let (phase_one, phase_two) = open_competition(server, &world, 20_000_000, 5_000_000);
        ok(transition(
            server,
            &format!("/api/v1/phases/{phase_two}"),
            "open",
            &world.leeds_officer,
        ));
        // Phase 3 is open to all: an award there is linked to the supplier's Phase 2 award
        // when it has one, and made without one when it has not.
        let phase = |phase: &str| ok(server.get(&format!("/api/v1/phases/{phase}")));
        let challenge = phase(&phase_one)["challenge_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut third = common::sbri::phase(3, "2020-08-01", 100_000_000, 50_000_000);
        third["open_to_all"] = json!(true);
        let phase_three = id(&common::sbri::created(server.send_json(
            "POST",
            &format!("/api/v1/challenges/{challenge}/phases"),
            &third,
            Some(&world.leeds_officer),
        )));
        ok(transition(
            server,
            &format!("/api/v1/phases/{phase_three}"),
            "open",
            &world.leeds_officer,
        ));
        let bid = |phase: &str, supplier: &str, key: &str| {
            json!({"phase_id": phase, "supplier_organisation_id": supplier,
                   "amount_requested": gbp(5_000_000), "summary": "Damp sensors",
                   "external_ids": [{"source": "portal", "id": key}]})
        };
        let supplier = |index: usize| world.suppliers[index].0.as_str();
        let mut bids: Vec<Value> = (0..5)
            .map(|index| bid(&phase_one, supplier(index), &format!("P1-{index}")))
            .collect();
        bids.push(bid(&phase_two, supplier(0), "P2-0"));
        bids.push(bid(&phase_two, supplier(1), "P2-1"));
        // Supplier 2 applies to Phase 1 twice (only the database can tell), and a bid names an
        // organisation that does not exist.
        bids.push(bid(&phase_one, supplier(2), "P1-2-again"));
        bids.push(bid(
            &phase_one,
            "01a25013-0000-7000-8000-000000000000",
            "P1-nobody",
        ));
        bids.push(bid(&phase_three, supplier(1), "P3-1"));
        bids.push(bid(&phase_two, supplier(2), "P2-2"));
        bids.push(bid(&phase_three, supplier(2), "P3-2"));
        let changes_before = server.changes_from_start().len();
        let (location, import) = imported(
            server,
            "collection=applications&mode=partial",
            &ndjson(&bids),
        );
        assert_eq!(import["status"], "succeeded", "{import}");
        assert_eq!(created_updated_rejected(&import), (10, 0, 2), "{import}");
        assert_eq!(
            rejected_codes(server, &location),
            [(8, "duplicate".to_owned()), (9, "not_found".to_owned())]
        );
        let applications = results(server, &location, "&outcome=created");
        assert_eq!(server.changes_from_start().len(), changes_before + 10);

        let application_of = |key: &str| {
            let application = ok(server.get_as(
                &format!("/api/v1/applications/by-external-id/portal/{key}"),
                &server.admin_token,
            ));
            let supplier_token = world
                .suppliers
                .iter()
                .find(|(organisation, _)| {
                    application["supplier_organisation_id"] == organisation.as_str()
                })
                .map(|(_, token)| token)
                .unwrap();
            super::awards::judged_successful(server, &world, &id(&application), supplier_token);
            id(&application)
        };
        let grant = |phase: &str, key: &str, pence: i64, reference: &str| {
            json!({"phase_id": phase, "application_id": application_of(key),
                   "contract_reference": reference, "amount": gbp(pence), "vat_included": true,
                   "external_ids": [{"source": "finance", "id": reference}]})
        };
        let awards = vec![
            grant(&phase_one, "P1-0", 5_000_000, "PO-1"),
            grant(&phase_one, "P1-1", 5_000_000, "PO-2"),
            // Linked to line 1's award, written a line before it.
            grant(&phase_two, "P2-0", 10_000_000, "PO-3"),
            grant(&phase_one, "P1-2", 5_000_000, "PO-4"),
            grant(&phase_one, "P1-3", 5_000_000, "PO-5"),
            // The budget is spent.
            grant(&phase_one, "P1-4", 5_000_000, "PO-6"),
            grant(&phase_two, "P2-1", 10_000_000, "PO-7"),
        ];
        let mut awards = awards;
        // Line 1's application again.
        let mut again = awards[0].clone();
        again["contract_reference"] = json!("PO-8");
        again["external_ids"] = json!([{"source": "finance", "id": "PO-8"}]);
        awards.push(again);
        awards.push(grant(&phase_three, "P3-1", 10_000_000, "PO-9"));
        let (one_before, two_before) = (phase(&phase_one), phase(&phase_two));
        let file = ndjson(&awards);

        // All or nothing checks each row against the rows before it: the Phase 2 awards are
        // good, and every row of the batch that is bad is named (the two the spent budget
        // refuses, one with a malformed phase); nothing is written.
        let mut file_with_bad_field = awards.clone();
        file_with_bad_field[6]["phase_id"] = json!("phase two");
        let (location, import) =
            imported(server, "collection=awards", &ndjson(&file_with_bad_field));
        assert_eq!(import["status"], "failed", "{import}");
        assert_eq!(created_updated_rejected(&import), (0, 0, 3), "{import}");
        assert_eq!(import["rows_processed"], 9, "{import}");
        assert_eq!(
            rejected_codes(server, &location),
            [
                (6, "exceeds_phase_budget".to_owned()),
                (7, "invalid_id".to_owned()),
                (8, "exceeds_phase_budget".to_owned())
            ]
        );
        assert_eq!(phase(&phase_one), one_before, "all or nothing: nothing");
        assert_eq!(phase(&phase_two), two_before, "all or nothing: nothing");

        let changes_before = server.changes_from_start().len();
        let (location, import) = imported(server, "collection=awards&mode=partial", &file);
        assert_eq!(import["status"], "succeeded", "{import}");
        assert_eq!(created_updated_rejected(&import), (7, 0, 2), "{import}");
        let all = results(server, &location, "");
        assert_outcomes(
            &all,
            &[
                (1, "created"),
                (3, "created"),
                (5, "created"),
                (6, "rejected"),
                (7, "created"),
                (8, "rejected"),
            ],
        );
        let award = |reference: &str| {
            ok(server.get(&format!(
                "/api/v1/awards/by-external-id/finance/{reference}"
            )))
        };
        assert_eq!(award("PO-3")["parent_award_id"], award("PO-1")["id"]);
        assert_eq!(award("PO-7")["parent_award_id"], award("PO-2")["id"]);
        assert_eq!(award("PO-9")["parent_award_id"], award("PO-7")["id"]);
        let (one, two) = (phase(&phase_one), phase(&phase_two));
        assert_eq!(one["committed"], gbp(20_000_000));
        assert_eq!(two["committed"], gbp(20_000_000));
        // One version a claim, as if each award had been written alone.
        assert_eq!(one["version"], one_before["version"].as_i64().unwrap() + 4);
        assert_eq!(two["version"], two_before["version"].as_i64().unwrap() + 2);

        // Every new record is in the feed as the API serves it.
        let changes = server.changes_from_start();
        assert_eq!(changes.len(), changes_before + 7);
        for reference in ["PO-1", "PO-3", "PO-7", "PO-9"] {
            let served = award(reference);
            let change = changes
                .iter()
                .find(|change| change["id"] == served["id"])
                .unwrap_or_else(|| panic!("no change for {reference}"));
            assert_eq!(change["state"], served, "{reference}");
        }
        let first = &applications[0]["id"];
        let served = ok(server.get_as(
            &format!("/api/v1/applications/{}", first.as_str().unwrap()),
            &server.admin_token,
        ));
        let created = server
            .changes_from_start()
            .into_iter()
            .find(|change| change["id"] == *first)
            .unwrap();
        assert_eq!(created["state"]["summary"], served["summary"]);
        assert_eq!(created["state"]["status"], "draft");

        // A batch the database takes whole: the Phase 3 award is linked to the Phase 2 award
        // a line before it, which waited, gathered, to be written.
        let (_, import) = imported(
            server,
            "collection=awards&mode=partial",
            &ndjson(&[
                grant(&phase_two, "P2-2", 10_000_000, "PO-10"),
                grant(&phase_three, "P3-2", 10_000_000, "PO-11"),
            ]),
        );
        assert_eq!(created_updated_rejected(&import), (2, 0, 0), "{import}");
        assert_eq!(award("PO-10")["parent_award_id"], award("PO-4")["id"]);
        assert_eq!(award("PO-11")["parent_award_id"], award("PO-10")["id"]);
    });
}
