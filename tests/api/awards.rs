//! A competition's life over HTTP, on each backend: applications, assessment, awards within the
//! budget and the cap, lineage from Phase 1 to Phase 2, and the budget rule under concurrency.

use crate::common;

use common::sbri::{created, gbp, id, leeds_challenge, ok, phase, transition, world};
use common::{for_each_backend, TestServer};
use serde_json::json;

/// An open challenge with phase 1 open; returns (phase 1 id, phase 2 id).
pub(crate) fn open_competition(
    server: &TestServer,
    world: &common::sbri::World,
    phase_one_budget: i64,
    cap: i64,
) -> (String, String) {
    let challenge = created(server.send_json(
        "POST",
        "/api/v1/challenges",
        &leeds_challenge(world),
        Some(&world.leeds_officer),
    ));
    let challenge_path = format!("/api/v1/challenges/{}", id(&challenge));
    let phases = format!("{challenge_path}/phases");
    let first = created(server.send_json(
        "POST",
        &phases,
        &phase(1, "2019-08-01", phase_one_budget, cap),
        Some(&world.leeds_officer),
    ));
    let second = created(server.send_json(
        "POST",
        &phases,
        &phase(2, "2020-02-01", 100_000_000, 50_000_000),
        Some(&world.leeds_officer),
    ));
    ok(transition(
        server,
        &challenge_path,
        "open",
        &world.leeds_officer,
    ));
    ok(transition(
        server,
        &format!("/api/v1/phases/{}", id(&first)),
        "open",
        &world.leeds_officer,
    ));
    (id(&first), id(&second))
}

/// A supplier's application, submitted and judged successful by Leeds.
pub(crate) fn successful_application(
    server: &TestServer,
    world: &common::sbri::World,
    phase: &str,
    supplier: usize,
    pence: i64,
) -> String {
    let (organisation, token) = &world.suppliers[supplier];
    let application = created(server.send_json(
        "POST",
        &format!("/api/v1/phases/{phase}/applications"),
        &json!({"supplier_organisation_id": organisation, "amount_requested": gbp(pence), "summary": "Sensors in council homes"}),
        Some(token),
    ));
    judged_successful(server, world, &id(&application), token);
    id(&application)
}

/// Submits an application (as its supplier, `token`) and judges it successful (as Leeds).
pub(crate) fn judged_successful(
    server: &TestServer,
    world: &common::sbri::World,
    application: &str,
    token: &str,
) {
    let path = format!("/api/v1/applications/{application}");
    ok(transition(server, &path, "submitted", token));
    ok(transition(
        server,
        &path,
        "successful",
        &world.leeds_officer,
    ));
}

pub(crate) fn award(
    server: &TestServer,
    world: &common::sbri::World,
    phase: &str,
    application: &str,
    pence: i64,
) -> common::Reply {
    server.send_json(
        "POST",
        &format!("/api/v1/phases/{phase}/awards"),
        &json!({"application_id": application, "contract_reference": format!("LCC-{application}"), "amount": gbp(pence), "vat_included": true}),
        Some(&world.leeds_officer),
    )
}

/// Supplier 0's £50,000 award in Phase 1 (£100,000, capped at £50,000) of an open Leeds
/// challenge; returns (phase 1 id, application id, award id).
pub(crate) fn an_award(
    server: &TestServer,
    world: &common::sbri::World,
) -> (String, String, String) {
    let (phase_one, _) = open_competition(server, world, 10_000_000, 5_000_000);
    let application = successful_application(server, world, &phase_one, 0, 5_000_000);
    let award_id = id(&created(award(
        server,
        world,
        &phase_one,
        &application,
        5_000_000,
    )));
    (phase_one, application, award_id)
}

#[test]
fn applications_are_private_to_their_supplier_and_the_owner() {
    for_each_backend(|server| {
        let world = world(server, 2);
        let (phase_one, _) = open_competition(server, &world, 25_000_000, 5_000_000);
        let (first_org, first) = &world.suppliers[0];
        let (_, second) = &world.suppliers[1];
        let application = created(server.send_json(
            "POST",
            &format!("/api/v1/phases/{phase_one}/applications"),
            &json!({"supplier_organisation_id": first_org, "amount_requested": gbp(5_000_000), "summary": "Temperature and humidity sensors"}),
            Some(first),
        ));
        assert_eq!(application["status"], "draft");
        let path = format!("/api/v1/applications/{}", id(&application));
        assert_eq!(server.get_as(&path, first).status, 200);
        assert_eq!(server.get_as(&path, &world.leeds_officer).status, 200);
        assert_eq!(server.get_as(&path, &world.manager).status, 200);
        server
            .get_as(&path, second)
            .assert_problem(404, "not_found");
        server
            .get_as(&path, &world.york_officer)
            .assert_problem(404, "not_found");
        // Applications are never public: reading one, or the list, needs a token.
        server.get(&path).assert_problem(401, "unauthenticated");
        assert_eq!(
            server.get_as("/api/v1/applications", second).json()["data"],
            json!([])
        );
        server
            .get("/api/v1/applications")
            .assert_problem(401, "unauthenticated");
        assert_eq!(
            server
                .get_as("/api/v1/applications", &world.leeds_officer)
                .json()["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // Another supplier cannot apply in the first's name.
        server
            .send_json(
                "POST",
                &format!("/api/v1/phases/{phase_one}/applications"),
                &json!({"supplier_organisation_id": first_org, "amount_requested": gbp(1), "summary": "x"}),
                Some(second),
            )
            .assert_problem(403, "forbidden");

        // Mass assignment: what the supplier may not set is refused and changes nothing.
        for body in [
            json!({"status": "successful"}),
            json!({"amount": gbp(1)}),
            json!({"organisation_id": world.suppliers[1].0}),
            json!({"supplier_organisation_id": first_org}),
            json!({"phase_id": phase_one}),
            json!({"summary": "ok", "status": "successful"}),
        ] {
            server
                .send_json("PATCH", &path, &body, Some(first))
                .assert_problem(422, "invalid_body");
        }
        server
            .send_json(
                "PATCH",
                &path,
                &json!({"assessment_score": 100}),
                Some(first),
            )
            .assert_problem(403, "forbidden");
        let problem = server
            .send_json(
                "PATCH",
                &path,
                &json!({"amount_requested": gbp(6_000_000)}),
                Some(first),
            )
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["code"], "exceeds_max_award");
        assert_eq!(
            server.get_as(&path, first).json()["version"],
            1,
            "nothing changed"
        );

        ok(transition(server, &path, "submitted", first));
        assert!(server.get_as(&path, first).json()["submitted_at"].is_string());
        server
            .send_json(
                "PATCH",
                &path,
                &json!({"summary": "changed my mind"}),
                Some(first),
            )
            .assert_problem(409, "rule_broken");
        transition(server, &path, "shortlisted", first).assert_problem(403, "forbidden");
        let scored = ok(server.send_json(
            "PATCH",
            &path,
            &json!({"assessment_score": 78}),
            Some(&world.leeds_officer),
        ));
        assert_eq!(scored["assessment_score"], 78);
        ok(transition(
            server,
            &path,
            "shortlisted",
            &world.leeds_officer,
        ));
        let problem =
            transition(server, &path, "submitted", first).assert_problem(409, "illegal_transition");
        assert_eq!(
            problem["allowed_transitions"],
            json!(["successful", "unsuccessful", "withdrawn"])
        );
        server
            .send_json(
                "POST",
                &format!("/api/v1/phases/{phase_one}/applications"),
                &json!({"supplier_organisation_id": first_org, "amount_requested": gbp(1), "summary": "again"}),
                Some(first),
            )
            .assert_problem(409, "conflict");
    });
}

#[test]
fn a_competition_runs_from_applications_to_phase_two_awards() {
    for_each_backend(|server| {
        let world = world(server, 3);
        // Phase 1: GBP 100,000 for suppliers at up to GBP 50,000 each.
        let (phase_one, phase_two) = open_competition(server, &world, 10_000_000, 5_000_000);
        let applications: Vec<String> = (0..3)
            .map(|index| successful_application(server, &world, &phase_one, index, 5_000_000))
            .collect();

        let first = created(award(
            server,
            &world,
            &phase_one,
            &applications[0],
            5_000_000,
        ));
        assert_eq!(first["status"], "active");
        assert_eq!(first["parent_award_id"], serde_json::Value::Null);
        let phase = server.get(&format!("/api/v1/phases/{phase_one}")).json();
        assert_eq!(phase["committed"], gbp(5_000_000));
        assert_eq!(phase["remaining"], gbp(5_000_000));

        // The same application twice: refused, and the budget is not claimed twice.
        award(server, &world, &phase_one, &applications[0], 1).assert_problem(409, "conflict");
        assert_eq!(
            server.get(&format!("/api/v1/phases/{phase_one}")).json()["committed"],
            gbp(5_000_000)
        );
        // Over the cap per supplier.
        let problem = award(server, &world, &phase_one, &applications[1], 5_000_001)
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["code"], "exceeds_max_award");
        created(award(
            server,
            &world,
            &phase_one,
            &applications[1],
            5_000_000,
        ));
        // The budget is spent: the third supplier's award is refused by name.
        let problem = award(server, &world, &phase_one, &applications[2], 5_000_000)
            .assert_problem(409, "rule_broken");
        assert_eq!(problem["errors"][0]["code"], "exceeds_phase_budget");

        // The challenge shows its phases' totals and how many applications it has had; its ETag
        // moves with them, so a cached copy cannot hide a new application.
        let challenge_path = format!(
            "/api/v1/challenges/{}",
            server.get(&format!("/api/v1/phases/{phase_one}")).json()["challenge_id"]
                .as_str()
                .unwrap()
        );
        let challenge = server.get(&challenge_path);
        let totals = &challenge.json()["totals"];
        assert_eq!(totals["budget"], gbp(10_000_000 + 100_000_000));
        assert_eq!(totals["committed"], gbp(10_000_000));
        assert_eq!(totals["applications"], 3);
        let tag = challenge.header("etag").unwrap().to_owned();
        assert_eq!(
            server
                .send("GET", &challenge_path, &[("if-none-match", &tag)], None)
                .status,
            304
        );
        // Phase 2 is not open to all: only Phase 1 suppliers, linked by their Phase 1 award.
        let phase_two_path = format!("/api/v1/phases/{phase_two}");
        ok(transition(
            server,
            &phase_two_path,
            "open",
            &world.leeds_officer,
        ));
        let winner = successful_application(server, &world, &phase_two, 0, 50_000_000);
        let newcomer = successful_application(server, &world, &phase_two, 2, 10_000_000);
        let problem = award(server, &world, &phase_two, &newcomer, 10_000_000)
            .assert_problem(409, "rule_broken");
        assert_eq!(problem["errors"][0]["code"], "no_earlier_award");
        // An award is made from an application to its own phase.
        let problem =
            award(server, &world, &phase_one, &newcomer, 1).assert_problem(409, "rule_broken");
        assert_eq!(problem["errors"][0]["code"], "application_of_another_phase");
        let second = created(award(server, &world, &phase_two, &winner, 50_000_000));
        let changed = server.send("GET", &challenge_path, &[("if-none-match", &tag)], None);
        assert_eq!(
            changed.status, 200,
            "new applications and awards change the challenge's figures"
        );
        assert_eq!(changed.json()["totals"]["applications"], 5);
        // The tag from a read still guards a write to the same version.
        let renamed = server.send(
            "PATCH",
            &challenge_path,
            &[
                ("authorization", &format!("Bearer {}", world.leeds_officer)),
                ("content-type", "application/merge-patch+json"),
                ("if-match", changed.header("etag").unwrap()),
            ],
            Some(br#"{"title": "Monitoring the condition of council homes"}"#),
        );
        assert_eq!(renamed.status, 200, "{}", renamed.text());
        assert_eq!(
            second["parent_award_id"], first["id"],
            "explicit lineage to the Phase 1 award"
        );

        let supplier_awards = server
            .get(&format!(
                "/api/v1/awards?supplier_id={}&status=active",
                world.suppliers[0].0
            ))
            .json();
        assert_eq!(
            supplier_awards["data"].as_array().unwrap().len(),
            2,
            "Phase 2 awards appear in the supplier's portfolio"
        );
        // Awards are public records.
        assert_eq!(
            server
                .get(&format!("/api/v1/awards/{}", id(&second)))
                .status,
            200
        );
        // Only the owner's officers or programme staff award; a supplier cannot.
        server
            .send_json(
                "POST",
                &format!("/api/v1/phases/{phase_one}/awards"),
                &json!({"application_id": applications[2], "contract_reference": "X", "amount": gbp(1)}),
                Some(&world.suppliers[2].1),
            )
            .assert_problem(403, "forbidden");
        ok(transition(
            server,
            &format!("/api/v1/awards/{}", id(&first)),
            "completed",
            &world.leeds_officer,
        ));
        transition(
            server,
            &format!("/api/v1/awards/{}", id(&first)),
            "terminated",
            &world.leeds_officer,
        )
        .assert_problem(409, "illegal_transition");
        // The budget cannot be cut below what is committed.
        server
            .send_json(
                "PATCH",
                &format!("/api/v1/phases/{phase_one}"),
                &json!({"budget": gbp(1_000), "max_award": gbp(1_000)}),
                Some(&world.leeds_officer),
            )
            .assert_problem(409, "rule_broken");
    });
}

#[test]
fn two_awards_racing_for_the_last_of_a_budget_cannot_both_win() {
    for_each_backend(|server| {
        let world = world(server, 6);
        // A budget for exactly one award at the cap.
        let (phase_one, _) = open_competition(server, &world, 5_000_000, 5_000_000);
        let applications: Vec<String> = (0..6)
            .map(|index| successful_application(server, &world, &phase_one, index, 5_000_000))
            .collect();
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = applications
                .iter()
                .map(|application| {
                    scope.spawn(|| award(server, &world, &phase_one, application, 5_000_000).status)
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap())
                .collect()
        });
        assert_eq!(
            statuses.iter().filter(|status| **status == 201).count(),
            1,
            "{statuses:?} on {}",
            server.backend
        );
        assert!(
            statuses
                .iter()
                .all(|status| *status == 201 || *status == 409),
            "{statuses:?}"
        );
        let phase = server.get(&format!("/api/v1/phases/{phase_one}")).json();
        assert_eq!(phase["committed"], gbp(5_000_000));
        let awarded = server
            .get(&format!("/api/v1/phases/{phase_one}/awards"))
            .json();
        assert_eq!(awarded["data"].as_array().unwrap().len(), 1);
    });
}

#[test]
fn a_trial_records_outcomes_and_adoption_and_is_public_only_when_marked() {
    for_each_backend(|server| {
        let world = world(server, 2);
        let (_, _, award_id) = an_award(server, &world);
        let (supplier_org, supplier) = &world.suppliers[0];
        let (_, other) = &world.suppliers[1];
        let trial = created(server.send_json(
            "POST",
            "/api/v1/trials",
            &json!({
                "award_id": award_id, "host_organisation_id": world.leeds,
                "title": "Temperature and humidity sensors in council homes", "sites": ["Leeds", "York"],
                "units": 300, "unit_label": "homes", "starts_on": "2020-04-01", "ends_on": "2021-03-31"
            }),
            Some(&world.leeds_officer),
        ));
        assert_eq!(trial["status"], "planned");
        assert_eq!(
            trial["supplier_organisation_id"],
            json!(supplier_org),
            "the award's supplier"
        );
        let path = format!("/api/v1/trials/{}", id(&trial));
        server.get(&path).assert_problem(404, "not_found");
        server.get_as(&path, other).assert_problem(404, "not_found");
        assert_eq!(server.get_as(&path, supplier).status, 200);
        assert_eq!(server.get("/api/v1/trials").json()["data"], json!([]));
        server
            .send_json(
                "POST",
                "/api/v1/trials",
                &json!({"host_organisation_id": supplier_org, "title": "x"}),
                Some(&world.manager),
            )
            .assert_problem(422, "validation_failed");
        server
            .send_json(
                "POST",
                "/api/v1/trials",
                &json!({"host_organisation_id": world.leeds, "title": "x"}),
                Some(&world.york_officer),
            )
            .assert_problem(403, "forbidden");

        ok(transition(server, &path, "live", &world.leeds_officer));
        let outcome = created(server.send_json(
            "POST",
            &format!("{path}/outcomes"),
            &json!({"kind": "key_finding", "metric": "Homes with damp caught before a complaint", "unit": "%",
                    "baseline": 12.0, "target": 50.0, "actual": 64.5, "measured_on": "2021-03-31"}),
            Some(&world.leeds_officer),
        ));
        assert_eq!(outcome["met_target"], true);
        assert_eq!(outcome["actual"], 64.5);
        server
            .send_json(
                "POST",
                &format!("{path}/outcomes"),
                &json!({"kind": "guess", "metric": "x"}),
                Some(&world.leeds_officer),
            )
            .assert_problem(422, "invalid_body");
        ok(transition(server, &path, "completed", &world.leeds_officer));
        let problem = server
            .send_json(
                "PATCH",
                &path,
                &json!({"follow_on_value": gbp(25_000_000)}),
                Some(&world.leeds_officer),
            )
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["code"], "not_adopted");
        let adopted = ok(server.send_json(
            "PATCH",
            &path,
            &json!({"public": true, "adopted": true, "follow_on_value": gbp(25_000_000), "result": "Adopted across the housing stock"}),
            Some(&world.leeds_officer),
        ));
        assert_eq!(adopted["adopted"], true);
        // Marked public: anyone reads the trial and its outcomes.
        assert_eq!(server.get(&path).status, 200);
        assert_eq!(
            server.get(&format!("{path}/outcomes")).json()["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            server.get("/api/v1/trials?adopted=true").json()["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            server.get("/api/v1/trials?adopted=false").json()["data"],
            json!([])
        );
    });
}

/// The whole story, as DOMAIN.md tells it of Leeds: a challenge opened, applications, five Phase 1
/// awards, Phase 2 to two of them, milestones paid, a trial with outcomes, and adoption.
#[test]
fn a_whole_competition_from_challenge_to_adoption() {
    for_each_backend(|server| {
        let world = world(server, 5);
        let (phase_one, phase_two) = open_competition(server, &world, 25_000_000, 5_000_000);
        let phase_one_awards: Vec<String> = (0..5)
            .map(|supplier| {
                let application =
                    successful_application(server, &world, &phase_one, supplier, 5_000_000);
                id(&created(award(
                    server,
                    &world,
                    &phase_one,
                    &application,
                    5_000_000,
                )))
            })
            .collect();
        assert_eq!(
            server.get(&format!("/api/v1/phases/{phase_one}")).json()["remaining"],
            gbp(0)
        );
        ok(transition(
            server,
            &format!("/api/v1/phases/{phase_one}"),
            "assessing",
            &world.leeds_officer,
        ));
        ok(transition(
            server,
            &format!("/api/v1/phases/{phase_two}"),
            "open",
            &world.leeds_officer,
        ));
        let mut phase_two_awards = Vec::new();
        for supplier in [0, 1] {
            let application =
                successful_application(server, &world, &phase_two, supplier, 50_000_000);
            let made = created(award(server, &world, &phase_two, &application, 50_000_000));
            assert_eq!(made["parent_award_id"], json!(phase_one_awards[supplier]));
            phase_two_awards.push(id(&made));
        }
        // Milestones: a 25% tranche and the rest, both paid.
        for award_id in &phase_two_awards {
            for (title, pence) in [
                ("First tranche (25%)", 12_500_000),
                ("Final tranche", 37_500_000),
            ] {
                let milestone = created(server.send_json(
                    "POST",
                    &format!("/api/v1/awards/{award_id}/milestones"),
                    &json!({"kind": "payment", "title": title, "amount": gbp(pence)}),
                    Some(&world.leeds_officer),
                ));
                let path = format!("/api/v1/milestones/{}", id(&milestone));
                ok(transition(server, &path, "invoiced", &world.leeds_officer));
                ok(transition(server, &path, "paid", &world.leeds_officer));
            }
            let award = server.get(&format!("/api/v1/awards/{award_id}")).json();
            assert_eq!(award["paid"], gbp(50_000_000));
            assert_eq!(award["outstanding"], gbp(0));
        }
        // The trial in council homes, its outcomes, and adoption with a follow-on contract.
        let trial = created(server.send_json(
            "POST",
            "/api/v1/trials",
            &json!({"award_id": phase_two_awards[1], "host_organisation_id": world.leeds, "title": "Sensors in council homes",
                    "units": 300, "unit_label": "homes", "public": true}),
            Some(&world.leeds_officer),
        ));
        let trial_path = format!("/api/v1/trials/{}", id(&trial));
        ok(transition(
            server,
            &trial_path,
            "live",
            &world.leeds_officer,
        ));
        for (metric, baseline, target, actual) in [
            ("Temperature below 18 C (% of evenings)", 22.0, 15.0, 13.5),
            (
                "Relative humidity above 70% (% of readings)",
                30.0,
                10.0,
                8.0,
            ),
        ] {
            created(server.send_json(
                "POST",
                &format!("{trial_path}/outcomes"),
                &json!({"kind": "key_finding", "metric": metric, "unit": "%", "baseline": baseline, "target": target, "actual": actual}),
                Some(&world.leeds_officer),
            ));
        }
        ok(transition(
            server,
            &trial_path,
            "completed",
            &world.leeds_officer,
        ));
        ok(server.send_json(
            "PATCH",
            &trial_path,
            &json!({"adopted": true, "follow_on_value": gbp(25_000_000)}),
            Some(&world.leeds_officer),
        ));
        let outcomes = server.get(&format!("{trial_path}/outcomes")).json();
        assert!(outcomes["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|outcome| outcome["met_target"] == true));
        let challenge = server
            .get(&format!(
                "/api/v1/challenges/{}",
                server.get(&format!("/api/v1/phases/{phase_one}")).json()["challenge_id"]
                    .as_str()
                    .unwrap()
            ))
            .json();
        assert_eq!(
            challenge["totals"]["committed"],
            gbp(25_000_000 + 100_000_000)
        );
        assert_eq!(challenge["totals"]["applications"], 7);
        // Phase dates out of order are refused with the rule named.
        let problem = server
            .send_json(
                "PATCH",
                &format!("/api/v1/phases/{phase_two}"),
                &json!({"starts_on": "2021-01-01", "ends_on": "2020-12-31"}),
                Some(&world.leeds_officer),
            )
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["code"], "before_start");
    });
}
