//! Milestones over HTTP, on each backend: tranches invoiced (dated, never in the future) and
//! paid (never before the invoice), the award's paid figure that can never pass the award, and
//! who may make each move.

use crate::awards::an_award;
use crate::common;

use common::for_each_backend;
use common::sbri::{created, gbp, id, ok, transition, world};
use serde_json::json;

#[test]
fn payments_follow_milestones_and_never_exceed_the_award() {
    for_each_backend(|server| {
        let world = world(server, 2);
        let (_, _, award_id) = an_award(server, &world);
        let award_path = format!("/api/v1/awards/{award_id}");
        let (_, supplier) = &world.suppliers[0];
        let (_, other) = &world.suppliers[1];
        let plan = |title: &str, pence: i64| {
            created(server.send_json(
                "POST",
                &format!("{award_path}/milestones"),
                &json!({"kind": "payment", "title": title, "due_on": "2019-09-30", "amount": gbp(pence)}),
                Some(&world.leeds_officer),
            ))
        };
        // One competition paid 25% at the first milestone.
        let first = plan("First tranche (25%)", 1_250_000);
        let rest = plan("Final tranche", 4_000_000);
        let problem = server
            .send_json(
                "POST",
                &format!("{award_path}/milestones"),
                &json!({"kind": "payment", "title": "No amount"}),
                Some(&world.leeds_officer),
            )
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "#/amount");
        server
            .send_json(
                "POST",
                &format!("{award_path}/milestones"),
                &json!({"kind": "report", "title": "x"}),
                Some(supplier),
            )
            .assert_problem(403, "forbidden");

        let first_path = format!("/api/v1/milestones/{}", id(&first));
        assert_eq!(server.get_as(&first_path, supplier).status, 200);
        server
            .get_as(&first_path, other)
            .assert_problem(404, "not_found");
        server
            .get(&first_path)
            .assert_problem(401, "unauthenticated");
        server
            .get(&format!("{award_path}/milestones"))
            .assert_problem(401, "unauthenticated");
        assert_eq!(
            server
                .get_as(&format!("{award_path}/milestones"), other)
                .json()["data"],
            json!([]),
            "milestones are not public"
        );
        assert_eq!(
            server
                .get_as(&format!("{award_path}/milestones"), supplier)
                .json()["data"]
                .as_array()
                .unwrap()
                .len(),
            2
        );

        let moves = format!("{first_path}/transitions");
        let problem = server
            .send_json(
                "POST",
                &moves,
                &json!({"to": "invoiced", "invoiced_on": "2100-01-01"}),
                Some(supplier),
            )
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "#/invoiced_on");
        assert_eq!(problem["errors"][0]["code"], "in_future");
        let invoiced = ok(server.send_json(
            "POST",
            &moves,
            &json!({"to": "invoiced", "invoiced_on": "2019-09-30"}),
            Some(supplier),
        ));
        assert_eq!(invoiced["invoiced_on"], "2019-09-30");
        assert_eq!(invoiced["paid_on"], serde_json::Value::Null);
        transition(server, &first_path, "paid", supplier).assert_problem(403, "forbidden");
        // A payment cannot come before its invoice, and an invoice date only goes with
        // invoicing: both refused, nothing paid.
        for (body, member, code) in [
            (
                json!({"to": "paid", "paid_on": "2019-09-29"}),
                "#/paid_on",
                "before_invoice",
            ),
            (
                json!({"to": "paid", "invoiced_on": "2019-09-01"}),
                "#/invoiced_on",
                "not_allowed",
            ),
        ] {
            let problem = server
                .send_json("POST", &moves, &body, Some(&world.leeds_officer))
                .assert_problem(422, "validation_failed");
            assert_eq!(problem["errors"][0]["pointer"], member, "{body}");
            assert_eq!(problem["errors"][0]["code"], code, "{body}");
        }
        assert_eq!(server.get(&award_path).json()["paid"], gbp(0));
        assert_eq!(
            server.get_as(&first_path, supplier).json()["status"],
            "invoiced"
        );
        let paid = ok(server.send_json(
            "POST",
            &moves,
            &json!({"to": "paid", "paid_on": "2019-10-04"}),
            Some(&world.leeds_officer),
        ));
        assert_eq!(paid["paid_on"], "2019-10-04");
        assert_eq!(paid["invoiced_on"], "2019-09-30");
        let award = server.get(&award_path).json();
        assert_eq!(award["paid"], gbp(1_250_000));
        assert_eq!(award["outstanding"], gbp(3_750_000));

        // 1.25m + 4m > 5m: the final tranche as planned would overpay.
        let rest_path = format!("/api/v1/milestones/{}", id(&rest));
        let invoiced = ok(transition(server, &rest_path, "invoiced", supplier));
        assert_eq!(
            invoiced["invoiced_on"],
            chrono::Utc::now().date_naive().to_string(),
            "invoiced today when no day is given"
        );
        let problem = transition(server, &rest_path, "paid", &world.leeds_officer)
            .assert_problem(409, "rule_broken");
        assert_eq!(problem["errors"][0]["code"], "exceeds_award");
        assert_eq!(
            server.get(&award_path).json()["paid"],
            gbp(1_250_000),
            "nothing was paid"
        );
        ok(server.send_json(
            "PATCH",
            &rest_path,
            &json!({"amount": gbp(3_750_000)}),
            Some(&world.leeds_officer),
        ));
        ok(transition(server, &rest_path, "paid", &world.leeds_officer));
        let award = server.get(&award_path).json();
        assert_eq!(award["paid"], gbp(5_000_000));
        assert_eq!(award["outstanding"], gbp(0));
        server
            .send_json(
                "PATCH",
                &first_path,
                &json!({"title": "rewritten"}),
                Some(&world.leeds_officer),
            )
            .assert_problem(409, "rule_broken");
    });
}
