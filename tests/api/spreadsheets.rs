//! Spreadsheet round trips: a collection's CSV export, edited as a person would in a
//! spreadsheet, imports back; on each backend.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::imports::{finished, results, upload};
use crate::common::sbri::ok;
use crate::common::{for_each_backend, TestServer};

/// Every record of `collection` the admin sees, by id, with its version.
fn versions(server: &TestServer, collection: &str) -> BTreeMap<String, i64> {
    let page = ok(server.get_as(
        &format!("/api/v1/{collection}?limit=500"),
        &server.admin_token,
    ));
    assert!(
        page["next_cursor"].is_null(),
        "one page holds the demo's {collection}"
    );
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| {
            (
                record["id"].as_str().unwrap().to_owned(),
                record["version"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Exports `collection` as CSV, hands the text to `edit` (a person in a spreadsheet), imports
/// the result back (partial) and returns the finished import and its results.
fn export_edit_import(
    server: &TestServer,
    collection: &str,
    edit: impl FnOnce(String) -> String,
) -> (Value, Vec<Value>) {
    let exported = server.send(
        "GET",
        &format!("/api/v1/exports/{collection}?format=csv"),
        &[("authorization", &format!("Bearer {}", server.admin_token))],
        None,
    );
    assert_eq!(exported.status, 200, "{}", exported.text());
    let edited = edit(exported.text());
    let reply = upload(
        server,
        Some(&server.admin_token),
        &format!("collection={collection}&mode=partial"),
        "text/csv",
        &edited,
    );
    assert_eq!(reply.status, 202, "{}", reply.text());
    let location = reply.header("location").unwrap().to_owned();
    let import = finished(server, &location);
    let results = results(server, &location, "");
    (import, results)
}

fn outcomes(results: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for result in results {
        *counts
            .entry(result["outcome"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    counts
}

/// A spreadsheet round trip: a collection's CSV export, one cell edited, imports back; the
/// edit is applied to that record alone, and every other row comes back unchanged (the same
/// version), its id, read-only columns and partner keys included.
#[test]
fn an_exported_csv_edited_in_a_spreadsheet_imports_back() {
    for_each_backend(|server| {
        server.cli(&["seed", "demo"]);
        // A partner's key on one organisation, so the export carries one.
        let homelink = ok(server.get_as("/api/v1/organisations?q=homelink", &server.admin_token))
            ["data"][0]
            .clone();
        let keyed = server.send_json(
            "PATCH",
            &format!("/api/v1/organisations/{}", homelink["id"].as_str().unwrap()),
            &json!({"external_ids": [{"source": "crm", "id": "HL-1"}]}),
            Some(&server.admin_token),
        );
        assert_eq!(keyed.status, 200, "{}", keyed.text());
        // Documents on the challenge edited below: titles with a comma, a `;` and brackets.
        let documents = json!([
            {"title": "Brief; round 3, final", "url": "https://www.gov.uk/brief?a=1;b=2"},
            {"title": "<Draft> sensor spec", "url": "https://leeds.example/spec"}
        ]);
        let leeds = ok(server.get_as(
            "/api/v1/challenges?q=condition%20of%20council%20housing",
            &server.admin_token,
        ))["data"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let documented = server.send_json(
            "PATCH",
            &format!("/api/v1/challenges/{leeds}"),
            &json!({ "documents": documents }),
            Some(&server.admin_token),
        );
        assert_eq!(documented.status, 200, "{}", documented.text());
        let edits: [(&str, &str, &str, &str); 3] = [
            ("organisations", "name", ",HomeLINK,", ",HomeLINK Ltd,"),
            (
                "challenges",
                "title",
                ",Monitoring the condition of council housing,",
                ",Monitoring council housing,",
            ),
            ("awards", "contract_reference", "", ""),
        ];
        for (collection, member, from, to) in edits {
            let before = versions(server, collection);
            // Awards: the first award's contract reference, whatever the demo calls it.
            let (from, to) = if from.is_empty() {
                let first = ok(server.get_as("/api/v1/awards?limit=1", &server.admin_token));
                let reference = first["data"][0]["contract_reference"].as_str().unwrap();
                (format!(",{reference},"), format!(",{reference}-V2,"))
            } else {
                (from.to_owned(), to.to_owned())
            };
            let (import, results) = export_edit_import(server, collection, |text| {
                assert_eq!(
                    text.matches(&from).count(),
                    1,
                    "{collection}: {from} in {text}"
                );
                text.replacen(&from, &to, 1)
            });
            assert_eq!(import["status"], "succeeded", "{collection}: {import}");
            let counts = outcomes(&results);
            assert_eq!(
                counts,
                BTreeMap::from([
                    ("unchanged".to_owned(), before.len() - 1),
                    ("updated".to_owned(), 1),
                ]),
                "{collection}: {results:#?}"
            );
            let updated = results
                .iter()
                .find(|result| result["outcome"] == "updated")
                .unwrap();
            let id = updated["id"].as_str().unwrap();
            let record =
                ok(server.get_as(&format!("/api/v1/{collection}/{id}"), &server.admin_token));
            assert_eq!(
                record[member],
                to.trim_matches(','),
                "{collection}: {record}"
            );
            if collection == "challenges" {
                assert_eq!(id, leeds);
                assert_eq!(
                    record["documents"], documents,
                    "the export's documents read back"
                );
            }
            let after = versions(server, collection);
            for (other, version) in &before {
                let expected = if other == id { version + 1 } else { *version };
                assert_eq!(after[other], expected, "{collection} {other}");
            }
        }
        let kept = ok(server.get_as(
            &format!("/api/v1/organisations/{}", homelink["id"].as_str().unwrap()),
            &server.admin_token,
        ));
        assert_eq!(
            kept["external_ids"],
            json!([{"source": "crm", "id": "HL-1"}])
        );

        // Applications: every row reads back unchanged; an edit to one that is no longer a draft
        // is refused by the same rule as PATCH, and changes nothing.
        let before = versions(server, "applications");
        let (import, results) = export_edit_import(server, "applications", |text| text);
        assert_eq!(import["status"], "succeeded", "{import}");
        assert_eq!(
            outcomes(&results),
            BTreeMap::from([("unchanged".to_owned(), before.len())])
        );
        assert_eq!(versions(server, "applications"), before);

        // Payments: the paid milestones read back unchanged, one named by its id and a partner's
        // key together; a row whose id and key name different milestones is refused.
        let paid = ok(server.get_as(
            "/api/v1/milestones?status=paid&limit=500",
            &server.admin_token,
        ))["data"]
            .as_array()
            .unwrap()
            .clone();
        assert!(paid.len() >= 2, "the demo has paid milestones");
        let first = paid[0]["id"].as_str().unwrap();
        let keyed = server.send_json(
            "PATCH",
            &format!("/api/v1/milestones/{first}"),
            &json!({"external_ids": [{"source": "finance", "id": "INV-0001"}]}),
            Some(&server.admin_token),
        );
        assert_eq!(keyed.status, 200, "{}", keyed.text());
        let before = versions(server, "milestones");
        let (import, results) = export_edit_import(server, "payments", |text| {
            assert!(text.starts_with(
                "milestone_id,milestone_source,milestone_external_id,paid_on,amount.amount,amount.currency\r\n"
            ));
            assert!(
                text.contains(&format!("{first},finance,INV-0001,")),
                "{text}"
            );
            text
        });
        assert_eq!(import["status"], "succeeded", "{import}");
        assert_eq!(
            outcomes(&results),
            BTreeMap::from([("unchanged".to_owned(), paid.len())])
        );
        assert_eq!(versions(server, "milestones"), before);
        let other = paid[1]["id"].as_str().unwrap();
        let (_, results) = export_edit_import(server, "payments", |text| {
            text.replacen(&format!("{first},finance"), &format!("{other},finance"), 1)
        });
        let refused: Vec<&Value> = results
            .iter()
            .filter(|result| result["outcome"] == "rejected")
            .collect();
        assert_eq!(refused.len(), 1, "{results:#?}");
        assert_eq!(refused[0]["errors"][0]["code"], "mismatch", "{results:#?}");
        assert_eq!(versions(server, "milestones"), before);
    });
}
