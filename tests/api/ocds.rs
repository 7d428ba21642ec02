//! OCDS 1.1 (`/api/v1/ocds/releases`, `/api/v1/ocds/records/{ocid}`): the demo data's release
//! and record packages validate against the official 1.1.5 schemas (kept in
//! tests/fixtures/ocds-1.1.5, checked offline) with zero errors; drafts are never published;
//! the figures are the API's own. On each backend.

use crate::common;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use common::sbri::{created, leeds_challenge, phase, world};
use common::{for_each_backend, TestServer};
use serde_json::Value;

const SCHEMA_BASE: &str = "https://standard.open-contracting.org/schema/1__1__5/";

fn fixture(name: &str) -> Value {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/fixtures/ocds-1.1.5",
        name,
    ]
    .iter()
    .collect();
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The schemas' references to the standard's site, answered from the fixtures.
struct Offline;

impl jsonschema::Retrieve for Offline {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .as_str()
            .strip_prefix(SCHEMA_BASE)
            .ok_or_else(|| format!("no offline copy of {}", uri.as_str()))?;
        Ok(fixture(name))
    }
}

/// Every error of `instance` against the schema in fixture `name`.
fn errors(name: &str, instance: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .with_retriever(Offline)
        .should_validate_formats(true)
        .build(&fixture(name))
        .unwrap();
    validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

/// Every release, following `links.next`.
fn all_releases(server: &TestServer) -> Vec<Value> {
    let mut releases = Vec::new();
    let mut path = "/api/v1/ocds/releases?limit=3".to_owned();
    loop {
        let reply = server.get(&path);
        assert_eq!(reply.status, 200, "{}", reply.text());
        let package = reply.json();
        // With nothing published the package is empty, which the schema (minItems 1) does
        // not describe; every package with releases must validate.
        if package["releases"] != serde_json::json!([]) {
            let problems = errors("release-package-schema.json", &package);
            assert!(problems.is_empty(), "{problems:#?}");
        }
        releases.extend(package["releases"].as_array().unwrap().iter().cloned());
        match package["links"]["next"].as_str() {
            Some(next) => {
                path = next
                    .split_once("/api/v1/")
                    .map(|(_, rest)| format!("/api/v1/{rest}"))
                    .unwrap()
            }
            None => return releases,
        }
    }
}

#[test]
fn the_demo_data_is_valid_ocds_with_zero_errors() {
    for_each_backend(|server| {
        server.cli(&["seed", "demo"]);
        let releases = all_releases(server);
        assert!(!releases.is_empty());
        // The validator does catch what breaks the standard.
        let mut broken = releases[0].clone();
        broken["tender"]["status"] = Value::from("finished");
        broken["date"] = Value::from("yesterday");
        assert_eq!(errors("release-schema.json", &broken).len(), 2);

        // One process per phase of a published challenge, each once.
        let published: BTreeSet<String> = server.get("/api/v1/phases?limit=500").json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|phase| format!("ocds-catlst-{}", phase["id"].as_str().unwrap()))
            .collect();
        let ocids: BTreeSet<String> = releases
            .iter()
            .map(|release| release["ocid"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ocids.len(), releases.len());
        assert_eq!(ocids, published);

        // Awards, contracts, milestones and payments are all there, as the API has them.
        let awards: Vec<Value> = server.get("/api/v1/awards?limit=500").json()["data"]
            .as_array()
            .unwrap()
            .clone();
        let published_awards: usize = releases
            .iter()
            .map(|release| release["awards"].as_array().unwrap().len())
            .sum();
        assert_eq!(published_awards, awards.len());
        let paid: HashMap<String, f64> = awards
            .iter()
            .map(|award| {
                (
                    award["id"].as_str().unwrap().to_owned(),
                    award["paid"]["amount"].as_i64().unwrap() as f64 / 100.0,
                )
            })
            .collect();
        let mut transactions = 0;
        for release in &releases {
            for contract in release["contracts"].as_array().unwrap() {
                let sum: f64 = contract["implementation"]["transactions"]
                    .as_array()
                    .map(|list| {
                        transactions += list.len();
                        list.iter()
                            .map(|t| t["value"]["amount"].as_f64().unwrap())
                            .sum()
                    })
                    .unwrap_or(0.0);
                let expected = paid[contract["awardID"].as_str().unwrap()];
                assert!((sum - expected).abs() < 0.005, "{contract}");
            }
        }
        assert!(transactions > 0, "the demo data has payments");
        let scales: BTreeSet<&str> = releases
            .iter()
            .flat_map(|release| release["parties"].as_array().unwrap())
            .filter_map(|party| party["details"]["scale"].as_str())
            .collect();
        assert!(
            scales.contains("sme") || scales.contains("micro"),
            "{scales:?}"
        );
        assert!(releases
            .iter()
            .any(|release| release["relatedProcesses"][0]["relationship"][0] == "prior"));

        // Every record package validates too, with its compiled release.
        for ocid in &ocids {
            let reply = server.get(&format!("/api/v1/ocds/records/{ocid}"));
            assert_eq!(reply.status, 200, "{}", reply.text());
            let package = reply.json();
            let problems = errors("record-package-schema.json", &package);
            assert!(problems.is_empty(), "{ocid}: {problems:#?}");
            let record = &package["records"][0];
            assert_eq!(record["ocid"], ocid.as_str());
            assert_eq!(
                record["compiledRelease"]["tag"],
                serde_json::json!(["compiled"])
            );
            assert_eq!(
                errors("release-schema.json", &record["compiledRelease"]),
                Vec::<String>::new()
            );
        }
        server
            .get("/api/v1/ocds/records/ocds-catlst-not-a-phase")
            .assert_problem(404, "not_found");
        server
            .get("/api/v1/ocds/releases?limit=1000")
            .assert_problem(400, "invalid_query");
        server
            .get("/api/v1/ocds/releases?cursor=nonsense")
            .assert_problem(400, "invalid_query");
    });
}

#[test]
fn drafts_are_never_published_and_the_prefix_is_configured() {
    for_each_backend(|server| {
        let world = world(server, 0);
        let draft = created(server.send_json(
            "POST",
            "/api/v1/challenges",
            &leeds_challenge(&world),
            Some(&world.leeds_officer),
        ));
        let draft_phase = created(server.send_json(
            "POST",
            &format!(
                "/api/v1/challenges/{}/phases",
                draft["id"].as_str().unwrap()
            ),
            &phase(1, "2019-08-01", 10_000_000, 5_000_000),
            Some(&world.leeds_officer),
        ));
        let ocid = format!("ocds-catlst-{}", draft_phase["id"].as_str().unwrap());
        server
            .get(&format!("/api/v1/ocds/records/{ocid}"))
            .assert_problem(404, "not_found");
        assert_eq!(all_releases(server), Vec::<Value>::new());

        // Published, it appears; under another prefix on a server configured with it.
        common::sbri::ok(common::sbri::transition(
            server,
            &format!("/api/v1/challenges/{}", draft["id"].as_str().unwrap()),
            "open",
            &world.leeds_officer,
        ));
        assert_eq!(all_releases(server).len(), 1);
        let other = server.replica_with(&[("CATALYST_OCID_PREFIX", "ocds-b5fd17")]);
        let package = other.get("/api/v1/ocds/releases").json();
        let release = &package["releases"][0];
        assert_eq!(
            release["ocid"],
            format!("ocds-b5fd17-{}", draft_phase["id"].as_str().unwrap()).as_str()
        );
        assert_eq!(release["tag"], serde_json::json!(["tender"]));
        assert_eq!(release["tender"]["status"], "planned");
    });
}

/// A package made on demand is dated by the last change to what it holds, as the schema's
/// `publishedDate` asks, not by the moment it is asked for: it was "now", so every request
/// made a new body and a new `ETag`, and a client polling with `If-None-Match` never got 304.
#[test]
fn a_package_is_dated_by_its_latest_release() {
    for_each_backend(|server| {
        server.cli(&["seed", "demo"]);
        let package = server.get("/api/v1/ocds/releases?limit=5").json();
        let latest = package["releases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|release| release["date"].as_str().unwrap().to_owned())
            .max()
            .unwrap();
        assert_eq!(package["publishedDate"], latest.as_str());
        let ocid = package["releases"][0]["ocid"].as_str().unwrap();
        let record = server.get(&format!("/api/v1/ocds/records/{ocid}")).json();
        assert_eq!(
            record["publishedDate"],
            record["records"][0]["compiledRelease"]["date"]
        );
        // A second later, the same package.
        let first = server.get("/api/v1/ocds/releases?limit=5");
        std::thread::sleep(std::time::Duration::from_millis(1_100));
        let again = server.send(
            "GET",
            "/api/v1/ocds/releases?limit=5",
            &[("if-none-match", first.header("etag").unwrap())],
            None,
        );
        assert_eq!(again.status, 304);
    });
}
