//! The access matrix: for each kind of caller, every ID route and list of the SBRI records, on
//! each backend. Nobody sees what their role does not give them (404 for the record, absent
//! from lists), and nobody does what it does not allow (403).

use crate::common;

use std::collections::BTreeSet;

use common::sbri::{created, gbp, id, leeds_challenge, ok, phase, transition, world};
use common::{for_each_backend, TestServer};
use serde_json::json;

const ROLES: [&str; 7] = [
    "anonymous",
    "supplier",
    "other_supplier",
    "leeds_officer",
    "york_officer",
    "manager",
    "client",
];

fn read(server: &TestServer, token: Option<&str>, path: &str) -> common::Reply {
    match token {
        Some(token) => server.get_as(path, token),
        None => server.get(path),
    }
}

fn listed(server: &TestServer, token: Option<&str>, path: &str) -> BTreeSet<String> {
    let reply = read(server, token, &format!("{path}?limit=500"));
    if token.is_none() && never_public(&format!("{path}/")) {
        // Nothing of these is public: an anonymous list is a request to sign in.
        reply.assert_problem(401, "unauthenticated");
        return BTreeSet::new();
    }
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    reply.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of every record the caller gets changes of, following the feed to the end.
fn fed(server: &TestServer, token: Option<&str>) -> BTreeSet<String> {
    server.settle_feed();
    let mut ids = BTreeSet::new();
    let mut path = "/api/v1/changes?limit=1000".to_owned();
    loop {
        let reply = read(server, token, &path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let page = reply.json();
        for change in page["data"].as_array().unwrap() {
            ids.insert(change["id"].as_str().unwrap().to_owned());
        }
        if page["has_more"] != true {
            return ids;
        }
        path = format!(
            "/api/v1/changes?limit=1000&cursor={}",
            page["next_cursor"].as_str().unwrap()
        );
    }
}

#[test]
fn every_caller_sees_and_does_exactly_what_its_role_allows() {
    for_each_backend(|server| {
        let world = world(server, 2);
        let (supplier_org, supplier) = world.suppliers[0].clone();
        let (other_org, other_supplier) = world.suppliers[1].clone();
        // A read-only API client restricted to the other supplier's organisation.
        let client_token = server.api_client_token(
            &json!({"name": "Partner", "scopes": ["read"], "organisation_ids": [other_org]}),
        );

        // Leeds: an open challenge with an open phase, an application, an award, a milestone, a
        // private trial and a contact. York: a draft challenge.
        let open = created(server.send_json(
            "POST",
            "/api/v1/challenges",
            &leeds_challenge(&world),
            Some(&world.leeds_officer),
        ));
        let open_path = format!("/api/v1/challenges/{}", id(&open));
        let phase_one = created(server.send_json(
            "POST",
            &format!("{open_path}/phases"),
            &phase(1, "2019-08-01", 10_000_000, 5_000_000),
            Some(&world.leeds_officer),
        ));
        let phase_path = format!("/api/v1/phases/{}", id(&phase_one));
        ok(transition(server, &open_path, "open", &world.leeds_officer));
        ok(transition(
            server,
            &phase_path,
            "open",
            &world.leeds_officer,
        ));
        let mut draft_body = leeds_challenge(&world);
        draft_body["reference"] = json!("GTC-R3-YORK");
        draft_body["owner_organisation_id"] = json!(world.york);
        let draft = created(server.send_json(
            "POST",
            "/api/v1/challenges",
            &draft_body,
            Some(&world.york_officer),
        ));
        let draft_phase = created(server.send_json(
            "POST",
            &format!("/api/v1/challenges/{}/phases", id(&draft)),
            &phase(1, "2019-08-01", 1_000, 1_000),
            Some(&world.york_officer),
        ));
        let application = created(server.send_json(
            "POST",
            &format!("{phase_path}/applications"),
            &json!({"supplier_organisation_id": supplier_org, "amount_requested": gbp(5_000_000), "summary": "Sensors"}),
            Some(&supplier),
        ));
        let application_path = format!("/api/v1/applications/{}", id(&application));
        ok(transition(
            server,
            &application_path,
            "submitted",
            &supplier,
        ));
        ok(transition(
            server,
            &application_path,
            "successful",
            &world.leeds_officer,
        ));
        let award = created(server.send_json(
            "POST",
            &format!("{phase_path}/awards"),
            &json!({"application_id": id(&application), "contract_reference": "LCC-1", "amount": gbp(5_000_000)}),
            Some(&world.leeds_officer),
        ));
        let milestone = created(server.send_json(
            "POST",
            &format!("/api/v1/awards/{}/milestones", id(&award)),
            &json!({"kind": "payment", "title": "First tranche", "amount": gbp(1_250_000)}),
            Some(&world.leeds_officer),
        ));
        let trial = created(server.send_json(
            "POST",
            "/api/v1/trials",
            &json!({"award_id": id(&award), "host_organisation_id": world.leeds, "title": "Private trial"}),
            Some(&world.leeds_officer),
        ));
        let outcome = created(server.send_json(
            "POST",
            &format!("/api/v1/trials/{}/outcomes", id(&trial)),
            &json!({"kind": "key_finding", "metric": "Homes with damp found early"}),
            Some(&world.leeds_officer),
        ));
        let contact = created(server.send_json(
            "POST",
            &format!("/api/v1/organisations/{}/contacts", world.leeds),
            &json!({"name": "A. Officer"}),
            Some(&world.leeds_officer),
        ));

        let tokens: Vec<Option<String>> = vec![
            None,
            Some(supplier.clone()),
            Some(other_supplier.clone()),
            Some(world.leeds_officer.clone()),
            Some(world.york_officer.clone()),
            Some(world.manager.clone()),
            Some(client_token.clone()),
        ];
        // Which roles may see each record, by position in ROLES.
        let everyone = [true; 7];
        let cases: Vec<(&str, String, [bool; 7])> = vec![
            ("open challenge", open_path.clone(), everyone),
            ("its phase", phase_path.clone(), everyone),
            (
                "draft challenge",
                format!("/api/v1/challenges/{}", id(&draft)),
                [false, false, false, false, true, true, false],
            ),
            (
                "draft's phase",
                format!("/api/v1/phases/{}", id(&draft_phase)),
                [false, false, false, false, true, true, false],
            ),
            (
                "application",
                application_path.clone(),
                [false, true, false, true, false, true, false],
            ),
            ("award", format!("/api/v1/awards/{}", id(&award)), everyone),
            (
                "milestone",
                format!("/api/v1/milestones/{}", id(&milestone)),
                [false, true, false, true, false, true, false],
            ),
            (
                "private trial",
                format!("/api/v1/trials/{}", id(&trial)),
                [false, true, false, true, false, true, false],
            ),
            (
                "private trial's outcome",
                format!("/api/v1/outcomes/{}", id(&outcome)),
                [false, true, false, true, false, true, false],
            ),
            (
                "contact",
                format!("/api/v1/contacts/{}", id(&contact)),
                [false, false, false, true, false, true, false],
            ),
        ];
        for (what, path, allowed) in &cases {
            for (index, token) in tokens.iter().enumerate() {
                let reply = read(server, token.as_deref(), path);
                if allowed[index] {
                    assert_eq!(
                        reply.status,
                        200,
                        "{} should see the {what}: {}",
                        ROLES[index],
                        reply.text()
                    );
                } else {
                    let expected = if index == 0 && never_public(path) {
                        401
                    } else {
                        404
                    };
                    assert_eq!(
                        reply.status, expected,
                        "{} must not see the {what}",
                        ROLES[index]
                    );
                    assert_eq!(
                        reply.header("content-type"),
                        Some("application/problem+json")
                    );
                }
            }
        }
        // Each record's history, and its changes in the feed, go to exactly those who see it.
        for (index, token) in tokens.iter().enumerate() {
            let feed = fed(server, token.as_deref());
            for (what, path, allowed) in &cases {
                let record = path.rsplit('/').next().unwrap();
                assert_eq!(
                    feed.contains(record),
                    allowed[index],
                    "the change feed as {} and the {what}",
                    ROLES[index]
                );
                let history = read(server, token.as_deref(), &format!("{path}/history"));
                let expected = if allowed[index] {
                    200
                } else if index == 0 && never_public(path) {
                    401
                } else {
                    404
                };
                assert_eq!(
                    history.status,
                    expected,
                    "the {what}'s history as {}: {}",
                    ROLES[index],
                    history.text()
                );
            }
        }
        // Lists hold exactly what the detail routes show.
        let lists: Vec<(&str, Vec<(String, usize)>)> = vec![
            ("/api/v1/challenges", vec![(id(&open), 0), (id(&draft), 2)]),
            (
                "/api/v1/phases",
                vec![(id(&phase_one), 1), (id(&draft_phase), 3)],
            ),
            ("/api/v1/applications", vec![(id(&application), 4)]),
            ("/api/v1/milestones", vec![(id(&milestone), 6)]),
            ("/api/v1/trials", vec![(id(&trial), 7)]),
        ];
        for (path, members) in &lists {
            for (index, token) in tokens.iter().enumerate() {
                let seen = listed(server, token.as_deref(), path);
                let expected: BTreeSet<String> = members
                    .iter()
                    .filter(|(_, case)| cases[*case].2[index])
                    .map(|(id, _)| id.clone())
                    .collect();
                assert_eq!(seen, expected, "{path} as {}", ROLES[index]);
            }
        }
        // Exports hold exactly what the lists hold; the read-only client may not export.
        for (path, _) in &lists {
            let collection = path.rsplit('/').next().unwrap();
            let export_path = format!("/api/v1/exports/{collection}?format=ndjson");
            for (index, token) in tokens.iter().enumerate() {
                let reply = read(server, token.as_deref(), &export_path);
                match (index, token) {
                    (_, None) => {
                        reply.assert_problem(401, "unauthenticated");
                    }
                    (6, _) => {
                        reply.assert_problem(403, "forbidden");
                    }
                    _ => {
                        assert_eq!(reply.status, 200, "{export_path}: {}", reply.text());
                        let exported: BTreeSet<String> = reply
                            .text()
                            .lines()
                            .map(|line| {
                                let record: serde_json::Value = serde_json::from_str(line).unwrap();
                                id(&record)
                            })
                            .collect();
                        assert_eq!(
                            exported,
                            listed(server, token.as_deref(), path),
                            "{export_path} as {}",
                            ROLES[index]
                        );
                    }
                }
            }
        }
        // The challenge's application count is no leak: it is the same for everyone who sees it.
        for token in tokens.iter().flatten() {
            assert_eq!(
                server.get_as(&open_path, token).json()["totals"]["applications"],
                1
            );
        }

        // People, credentials and the audit trail: 401 without a token, 403 unless allowed.
        for (path, manager_may) in [
            ("/api/v1/users", false),
            ("/api/v1/api-clients", false),
            ("/api/v1/audit", true),
            ("/api/v1/webhooks", false),
        ] {
            for (index, token) in tokens.iter().enumerate() {
                let reply = read(server, token.as_deref(), path);
                match (token, ROLES[index]) {
                    (None, _) => {
                        reply.assert_problem(401, "unauthenticated");
                    }
                    (_, "manager") if manager_may => assert_eq!(reply.status, 200, "{path}"),
                    _ => {
                        reply.assert_problem(403, "forbidden");
                    }
                }
            }
            ok(server.get_as(path, &server.admin_token));
        }

        // Doing: what each may not do is refused, and changes nothing.
        server
            .send_json(
                "PATCH",
                &application_path,
                &json!({"summary": "hijacked"}),
                Some(&other_supplier),
            )
            .assert_problem(404, "not_found");
        server
            .send_json(
                "PATCH",
                &format!("/api/v1/challenges/{}", id(&draft)),
                &json!({"title": "x"}),
                Some(&world.leeds_officer),
            )
            .assert_problem(404, "not_found");
        server
            .send_json(
                "PATCH",
                &open_path,
                &json!({"title": "x"}),
                Some(&world.york_officer),
            )
            .assert_problem(403, "forbidden");
        server
            .send_json("PATCH", &open_path, &json!({"title": "x"}), Some(&supplier))
            .assert_problem(403, "forbidden");
        server
            .send_json("POST", &format!("{phase_path}/awards"), &json!({"application_id": id(&application), "contract_reference": "X", "amount": gbp(1)}), Some(&supplier))
            .assert_problem(403, "forbidden");
        server
            .send_json(
                "POST",
                "/api/v1/organisations",
                &json!({"name": "x", "kind": "charity"}),
                Some(&client_token),
            )
            .assert_problem(403, "forbidden");
        server
            .send_json(
                "POST",
                &format!("/api/v1/milestones/{}/transitions", id(&milestone)),
                &json!({"to": "paid"}),
                Some(&supplier),
            )
            .assert_problem(403, "forbidden");
        server
            .send_json(
                "PATCH",
                &format!("/api/v1/awards/{}", id(&award)),
                &json!({"contract_reference": "x"}),
                Some(&supplier),
            )
            .assert_problem(403, "forbidden");
        server
            .send_json(
                "PATCH",
                &format!("/api/v1/awards/{}", id(&award)),
                &json!({"amount": gbp(1)}),
                Some(&world.leeds_officer),
            )
            .assert_problem(422, "invalid_body");
        assert_eq!(
            server.get(&open_path).json()["title"],
            leeds_challenge(&world)["title"]
        );
        assert_eq!(
            server.get(&format!("/api/v1/awards/{}", id(&award))).json()["amount"],
            gbp(5_000_000)
        );
    });
}

/// Collections with no public record ask anonymous callers to sign in (401) rather than
/// answering 404.
fn never_public(path: &str) -> bool {
    ["/applications/", "/milestones/", "/contacts/"]
        .iter()
        .any(|collection| path.contains(collection))
}
