//! Programmes, challenges and phases over HTTP, on each backend: who sees what, lifecycles and
//! the rules between records.

use crate::common;

use common::for_each_backend;
use common::sbri::{created, id, leeds_challenge, phase, world as sbri_world, World};
use serde_json::{json, Value};

fn world(server: &common::TestServer) -> World {
    sbri_world(server, 1)
}

#[test]
fn a_programme_is_public_and_run_by_programme_staff() {
    for_each_backend(|server| {
        let world = world(server);
        let path = format!("/api/v1/programmes/{}", world.programme);
        let programme = server.get(&path);
        assert_eq!(programme.status, 200);
        assert_eq!(programme.json()["code"], "GOVTECH-CATALYST");
        assert_eq!(
            programme.json()["budget"],
            json!({"amount": 2_000_000_000i64, "currency": "GBP"})
        );
        server
            .send_json(
                "PATCH",
                &path,
                &json!({"title": "Hijacked"}),
                Some(&world.leeds_officer),
            )
            .assert_problem(403, "forbidden");
        let duplicate = json!({
            "code": "GOVTECH-CATALYST", "title": "Again", "funder_organisation_id": world.leeds,
            "budget": {"amount": 1, "currency": "GBP"}
        });
        server
            .send_json(
                "POST",
                "/api/v1/programmes",
                &duplicate,
                Some(&world.manager),
            )
            .assert_problem(409, "conflict");
        let no_funder = json!({
            "code": "OTHER", "title": "Other", "funder_organisation_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
            "budget": {"amount": 1, "currency": "GBP"}
        });
        let problem = server
            .send_json(
                "POST",
                "/api/v1/programmes",
                &no_funder,
                Some(&world.manager),
            )
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "#/funder_organisation_id");
        let float = json!({
            "code": "FLOAT", "title": "Float", "funder_organisation_id": world.leeds,
            "budget": {"amount": 10.5, "currency": "GBP"}
        });
        server
            .send_json("POST", "/api/v1/programmes", &float, Some(&world.manager))
            .assert_problem(422, "invalid_body");
        let listed = server.get("/api/v1/programmes?q=govtech").json();
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    });
}

#[test]
fn a_draft_challenge_is_seen_only_by_its_owner_and_programme_staff() {
    for_each_backend(|server| {
        let world = world(server);
        let challenge = created(server.send_json(
            "POST",
            "/api/v1/challenges",
            &leeds_challenge(&world),
            Some(&world.leeds_officer),
        ));
        assert_eq!(challenge["status"], "draft");
        assert_eq!(challenge["reference"], "GTC-R3-LEEDS");
        assert_eq!(challenge["themes"], json!(["housing", "iot"]));
        let path = format!("/api/v1/challenges/{}", id(&challenge));

        assert_eq!(server.get_as(&path, &world.leeds_officer).status, 200);
        assert_eq!(server.get_as(&path, &world.manager).status, 200);
        server.get(&path).assert_problem(404, "not_found");
        server
            .get_as(&path, &world.york_officer)
            .assert_problem(404, "not_found");
        server
            .get_as(&path, &world.suppliers[0].1)
            .assert_problem(404, "not_found");
        assert_eq!(
            server.get("/api/v1/challenges").json()["data"],
            json!([]),
            "no draft leaks into lists"
        );
        assert_eq!(
            server
                .get_as("/api/v1/challenges", &world.york_officer)
                .json()["data"],
            json!([])
        );
        server
            .send_json(
                "PATCH",
                &path,
                &json!({"title": "x"}),
                Some(&world.york_officer),
            )
            .assert_problem(404, "not_found");

        // York's officer cannot pose a challenge for Leeds, nor may a supplier own one.
        server
            .send_json(
                "POST",
                "/api/v1/challenges",
                &leeds_challenge(&world),
                Some(&world.york_officer),
            )
            .assert_problem(403, "forbidden");
        let mut owned_by_supplier = leeds_challenge(&world);
        owned_by_supplier["reference"] = json!("OTHER");
        owned_by_supplier["owner_organisation_id"] = json!(world.york);
        assert_eq!(
            server
                .send_json(
                    "POST",
                    "/api/v1/challenges",
                    &owned_by_supplier,
                    Some(&world.manager)
                )
                .status,
            201
        );

        let opened = server.send_json(
            "POST",
            &format!("{path}/transitions"),
            &json!({"to": "open"}),
            Some(&world.leeds_officer),
        );
        assert_eq!(opened.status, 200, "{}", opened.text());
        assert!(
            opened.json()["opens_at"].is_string(),
            "opening a challenge without opens_at records when it opened: {}",
            opened.text()
        );
        assert_eq!(
            server.get(&path).json()["status"],
            "open",
            "published challenges are public"
        );
        assert_eq!(server.get_as(&path, &world.suppliers[0].1).status, 200);
        server
            .send_json(
                "PATCH",
                &path,
                &json!({"title": "x"}),
                Some(&world.york_officer),
            )
            .assert_problem(403, "forbidden");
    });
}

#[test]
fn lifecycles_move_only_along_their_transitions() {
    for_each_backend(|server| {
        let world = world(server);
        let challenge = created(server.send_json(
            "POST",
            "/api/v1/challenges",
            &leeds_challenge(&world),
            Some(&world.manager),
        ));
        let path = format!("/api/v1/challenges/{}", id(&challenge));
        let problem = server
            .send_json(
                "POST",
                &format!("{path}/transitions"),
                &json!({"to": "completed"}),
                Some(&world.manager),
            )
            .assert_problem(409, "illegal_transition");
        assert_eq!(problem["allowed_transitions"], json!(["open", "cancelled"]));
        let problem = server
            .send_json(
                "POST",
                &format!("{path}/transitions"),
                &json!({"to": "finished"}),
                Some(&world.manager),
            )
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "#/to");
        for to in ["open", "assessing", "in_delivery", "completed"] {
            let moved = server.send_json(
                "POST",
                &format!("{path}/transitions"),
                &json!({"to": to}),
                Some(&world.manager),
            );
            assert_eq!(moved.status, 200, "{to}: {}", moved.text());
        }
        let problem = server
            .send_json(
                "POST",
                &format!("{path}/transitions"),
                &json!({"to": "cancelled"}),
                Some(&world.manager),
            )
            .assert_problem(409, "illegal_transition");
        assert_eq!(problem["allowed_transitions"], json!([]));
        // The status is not writable by PATCH (mass assignment).
        let problem = server
            .send_json(
                "PATCH",
                &path,
                &json!({"status": "draft"}),
                Some(&world.manager),
            )
            .assert_problem(422, "invalid_body");
        assert_eq!(problem["errors"][0]["code"], "read_only_field");
        assert_eq!(server.get(&path).json()["status"], "completed");
        server
            .delete_as(&path, &world.manager, &[])
            .assert_problem(409, "rule_broken");
        let history = server.get(&format!("{path}/history")).json();
        assert_eq!(
            history["data"].as_array().unwrap().len(),
            5,
            "created, then four moves"
        );
    });
}

#[test]
fn phases_keep_their_order_caps_and_numbers() {
    for_each_backend(|server| {
        let world = world(server);
        let challenge = created(server.send_json(
            "POST",
            "/api/v1/challenges",
            &leeds_challenge(&world),
            Some(&world.leeds_officer),
        ));
        let phases = format!("/api/v1/challenges/{}/phases", id(&challenge));
        // Phase 1 Aug 2019, five suppliers at GBP 50,000; Phase 2 in 2020.
        let first = created(server.send_json(
            "POST",
            &phases,
            &phase(1, "2019-08-01", 25_000_000, 5_000_000),
            Some(&world.leeds_officer),
        ));
        assert_eq!(first["status"], "planned");
        assert_eq!(first["open_to_all"], true, "phase 1 is an open competition");
        let problem = server
            .send_json(
                "POST",
                &phases,
                &phase(2, "2019-07-01", 200_000_000, 100_000_000),
                Some(&world.leeds_officer),
            )
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["code"], "before_previous_phase");
        let second = created(server.send_json(
            "POST",
            &phases,
            &phase(2, "2020-02-01", 200_000_000, 100_000_000),
            Some(&world.leeds_officer),
        ));
        assert_eq!(second["open_to_all"], false);
        server
            .send_json(
                "POST",
                &phases,
                &phase(2, "2020-03-01", 1_000, 1_000),
                Some(&world.leeds_officer),
            )
            .assert_problem(409, "conflict");
        let problem = server
            .send_json(
                "POST",
                &phases,
                &phase(3, "2021-01-01", 1_000, 2_000),
                Some(&world.leeds_officer),
            )
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["code"], "exceeds_budget");
        let moved = server.send_json(
            "PATCH",
            &format!("/api/v1/phases/{}", id(&first)),
            &json!({"starts_on": "2020-06-01"}),
            Some(&world.leeds_officer),
        );
        moved.assert_problem(422, "validation_failed");

        // Nobody outside sees the phases of a draft challenge.
        server.get(&phases).assert_problem(404, "not_found");
        assert_eq!(server.get("/api/v1/phases").json()["data"], json!([]));
        assert_eq!(
            server.get_as("/api/v1/phases", &world.york_officer).json()["data"],
            json!([])
        );
        let own = server.get_as("/api/v1/phases", &world.leeds_officer).json();
        assert_eq!(own["data"].as_array().unwrap().len(), 2);

        server.send_json(
            "POST",
            &format!("/api/v1/challenges/{}/transitions", id(&challenge)),
            &json!({"to": "open"}),
            Some(&world.leeds_officer),
        );
        let listed = server.get(&format!("{phases}?sort=-number&limit=1")).json();
        assert_eq!(listed["data"][0]["number"], 2);
        let next = server
            .get(&format!(
                "{phases}?sort=-number&limit=1&cursor={}",
                listed["next_cursor"].as_str().unwrap()
            ))
            .json();
        assert_eq!(next["data"][0]["number"], 1);
        assert_eq!(
            next.get("next_cursor"),
            Some(&Value::Null),
            "the last page says so: next_cursor is null"
        );
        assert_eq!(
            server.get("/api/v1/phases").json()["data"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        server
            .send_json(
                "POST",
                &phases,
                &phase(3, "2021-01-01", 1_000, 1_000),
                Some(&world.suppliers[0].1),
            )
            .assert_problem(403, "forbidden");
        let opened = server.send_json(
            "POST",
            &format!("/api/v1/phases/{}/transitions", id(&first)),
            &json!({"to": "open"}),
            Some(&world.leeds_officer),
        );
        assert_eq!(opened.json()["status"], "open");
        server
            .delete_as(
                &format!("/api/v1/phases/{}", id(&first)),
                &world.leeds_officer,
                &[],
            )
            .assert_problem(409, "rule_broken");
        let deleted = server.delete_as(
            &format!("/api/v1/phases/{}", id(&second)),
            &world.leeds_officer,
            &[],
        );
        assert_eq!(deleted.status, 204, "a planned phase can be deleted");
    });
}

#[test]
fn contacts_are_seen_only_by_their_organisation_and_programme_staff() {
    for_each_backend(|server| {
        let world = world(server);
        let contacts = format!("/api/v1/organisations/{}/contacts", world.leeds);
        let contact = created(server.send_json(
            "POST",
            &contacts,
            &json!({"name": "A. Officer", "role": "Innovation lead", "email": "Innovation@Leeds.gov.uk"}),
            Some(&world.leeds_officer),
        ));
        assert_eq!(contact["email"], "innovation@leeds.gov.uk");
        let path = format!("/api/v1/contacts/{}", id(&contact));
        for token in [None, Some(&world.york_officer), Some(&world.suppliers[0].1)] {
            let list = match token {
                Some(token) => server.get_as(&contacts, token),
                None => server.get(&contacts),
            };
            // Contacts are never public: without a token the answer is 401, and with one that
            // may not see them, 404.
            let (status, code) = match token {
                Some(_) => (404, "not_found"),
                None => (401, "unauthenticated"),
            };
            list.assert_problem(status, code);
            let detail = match token {
                Some(token) => server.get_as(&path, token),
                None => server.get(&path),
            };
            detail.assert_problem(status, code);
        }
        assert_eq!(
            server.get_as(&contacts, &world.manager).json()["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        server
            .send_json(
                "POST",
                &contacts,
                &json!({"name": "Intruder"}),
                Some(&world.york_officer),
            )
            .assert_problem(403, "forbidden");
        server
            .send_json("POST", &contacts, &json!({"name": "Anonymous"}), None)
            .assert_problem(401, "unauthenticated");
        let problem = server
            .send_json(
                "PATCH",
                &path,
                &json!({"email": "not an email"}),
                Some(&world.leeds_officer),
            )
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "#/email");
        server
            .send_json(
                "PATCH",
                &path,
                &json!({"name": "Stolen"}),
                Some(&world.york_officer),
            )
            .assert_problem(404, "not_found");
    });
}
