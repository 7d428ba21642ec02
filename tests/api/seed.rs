//! `catalyst seed demo` on each backend: it loads once, a second run changes nothing, and every
//! list and detail endpoint serves what it loaded, with figures that reconcile.

use crate::common;

use std::process::Command;

use common::{for_each_backend, TestServer, BINARY};
use serde_json::Value;

fn seed(server: &TestServer) -> String {
    let output = Command::new(BINARY)
        .args(["seed", "demo"])
        .env("DATABASE_URL", server.database().url_text())
        .env("CATALYST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn all(server: &TestServer, path: &str) -> Vec<Value> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let reply = server.get_as(&format!("{path}{separator}limit=500"), &server.admin_token);
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    let body = reply.json();
    assert!(
        body.get("next_cursor") == Some(&Value::Null),
        "{path} has more than one page"
    );
    body["data"].as_array().unwrap().clone()
}

#[test]
fn the_demo_data_loads_once_and_every_endpoint_serves_it() {
    for_each_backend(|server| {
        assert!(seed(server).contains("loaded the demo data"));
        assert!(
            seed(server).contains("nothing changed"),
            "a second run changes nothing"
        );

        let counts: Vec<(&str, usize)> = [
            "/api/v1/organisations",
            "/api/v1/programmes",
            "/api/v1/challenges",
            "/api/v1/phases",
            "/api/v1/applications",
            "/api/v1/awards",
            "/api/v1/milestones",
            "/api/v1/trials",
        ]
        .into_iter()
        .map(|path| {
            let items = all(server, path);
            assert!(!items.is_empty(), "{path} is empty on {}", server.backend);
            for item in &items {
                let id = item["id"].as_str().unwrap();
                let detail = server.get_as(&format!("{path}/{id}"), &server.admin_token);
                assert_eq!(detail.status, 200, "{path}/{id}");
                assert_eq!(&detail.json(), item);
            }
            (path, items.len())
        })
        .collect();
        assert!(counts.contains(&("/api/v1/awards", 7)), "{counts:?}");

        // Leeds: five Phase 1 suppliers at GBP 50,000; Phase 2 to Aware Technologies and HomeLINK.
        let leeds = all(server, "/api/v1/challenges?q=housing");
        assert_eq!(leeds.len(), 1);
        let phases = all(
            server,
            &format!(
                "/api/v1/challenges/{}/phases",
                leeds[0]["id"].as_str().unwrap()
            ),
        );
        assert_eq!(phases.len(), 2);
        for phase in &phases {
            let awards = all(
                server,
                &format!("/api/v1/phases/{}/awards", phase["id"].as_str().unwrap()),
            );
            let sum: i64 = awards
                .iter()
                .map(|award| award["amount"]["amount"].as_i64().unwrap())
                .sum();
            assert_eq!(
                phase["committed"]["amount"].as_i64().unwrap(),
                sum,
                "committed reconciles with the awards"
            );
            for award in &awards {
                let milestones = all(
                    server,
                    &format!(
                        "/api/v1/awards/{}/milestones",
                        award["id"].as_str().unwrap()
                    ),
                );
                let paid: i64 = milestones
                    .iter()
                    .filter(|milestone| milestone["status"] == "paid")
                    .map(|milestone| milestone["amount"]["amount"].as_i64().unwrap())
                    .sum();
                assert_eq!(
                    award["paid"]["amount"].as_i64().unwrap(),
                    paid,
                    "paid reconciles with the milestones"
                );
                if phase["number"] == 2 {
                    assert!(
                        award["parent_award_id"].is_string(),
                        "Phase 2 awards keep their lineage"
                    );
                }
            }
            if phase["number"] == 1 {
                assert_eq!(awards.len(), 5);
                assert!(awards
                    .iter()
                    .all(|award| award["amount"]["amount"] == 5_000_000));
            }
        }
        let trials = all(server, "/api/v1/trials");
        let outcomes = all(
            server,
            &format!(
                "/api/v1/trials/{}/outcomes",
                trials[0]["id"].as_str().unwrap()
            ),
        );
        assert_eq!(outcomes.len(), 3);
        // Public records are served to anyone.
        assert_eq!(
            server.get("/api/v1/trials").json()["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            server.get("/api/v1/applications").status,
            401,
            "applications are never public"
        );
    });
}

#[test]
fn the_synthetic_data_set_is_consistent_and_loads_once_per_scale() {
    for_each_backend(|server| {
        let run = || {
            let output = Command::new(BINARY)
                .args(["seed", "synthetic", "--scale", "20"])
                .env("DATABASE_URL", server.database().url_text())
                .env("CATALYST_LOG", "warn")
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout).into_owned()
        };
        assert!(run().contains("loaded"));
        assert!(run().contains("nothing changed"));
        let challenges = all(server, "/api/v1/challenges?q=synthetic");
        assert_eq!(challenges.len(), 20);
        assert_eq!(
            all(server, "/api/v1/applications").len(),
            20 * 10 + 10,
            "ten per Phase 1, one per Phase 2"
        );
        let awards = all(server, "/api/v1/awards");
        assert_eq!(awards.len(), 20 * 3 + 10);
        for challenge in &challenges {
            let totals = &challenge["totals"];
            let phases = all(
                server,
                &format!(
                    "/api/v1/challenges/{}/phases",
                    challenge["id"].as_str().unwrap()
                ),
            );
            let committed: i64 = phases
                .iter()
                .map(|phase| phase["committed"]["amount"].as_i64().unwrap())
                .sum();
            assert_eq!(totals["committed"]["amount"].as_i64().unwrap(), committed);
        }
        let amount = |money: &Value| money["amount"].as_i64().unwrap();
        let milestones = all(server, "/api/v1/milestones");
        let phases = all(server, "/api/v1/phases");
        for award in &awards {
            assert!(amount(&award["paid"]) <= amount(&award["amount"]));
            let paid: i64 = milestones
                .iter()
                .filter(|milestone| {
                    milestone["award_id"] == award["id"] && milestone["status"] == "paid"
                })
                .map(|milestone| amount(&milestone["amount"]))
                .sum();
            assert_eq!(
                amount(&award["paid"]),
                paid,
                "an award's paid is its payments"
            );
        }
        for phase in &phases {
            let committed: i64 = awards
                .iter()
                .filter(|award| award["phase_id"] == phase["id"])
                .map(|award| amount(&award["amount"]))
                .sum();
            assert_eq!(amount(&phase["committed"]), committed, "{phase}");
        }
        // The change feed holds each record as the API serves it (a phase with its awards
        // committed, an award with its payments), once, in the order they were made.
        let changes = server.changes_from_start();
        for (collection, records) in [
            ("phases", &phases),
            ("awards", &awards),
            ("milestones", &milestones),
        ] {
            for record in records {
                let seen: Vec<&Value> = changes
                    .iter()
                    .filter(|change| change["entity"] == collection && change["id"] == record["id"])
                    .collect();
                assert_eq!(seen.len(), 1, "{collection} {}", record["id"]);
                for field in ["paid", "committed", "status", "version"] {
                    assert_eq!(
                        seen[0]["state"][field], record[field],
                        "{collection} {field}"
                    );
                }
            }
        }
        let position = |entity: &str, id: &Value| {
            changes
                .iter()
                .position(|change| change["entity"] == entity && change["id"] == *id)
                .unwrap()
        };
        for award in &awards {
            assert!(
                position("phases", &award["phase_id"]) < position("awards", &award["id"]),
                "a phase's change comes before its awards'"
            );
        }
    });
}
