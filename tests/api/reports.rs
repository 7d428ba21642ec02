//! Reports (`/api/v1/reports/...`): every total reconciles with the records it summarises,
//! recomputed here from the API's own lists, on the demo data and on a synthetic data set; JSON
//! and CSV agree; filters, financial years and access. On each backend.

use crate::common;

use std::collections::{BTreeMap, HashMap};

use common::{for_each_backend, TestServer};
use serde_json::Value;

/// Every record of a list, page after page.
pub(crate) fn everything(server: &TestServer, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut next = format!("{path}{separator}limit=500");
    loop {
        let page = server.get_as(&next, &server.admin_token).json();
        items.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}{separator}limit=500&cursor={cursor}"),
            None => return items,
        }
    }
}

pub(crate) fn report(server: &TestServer, path: &str) -> Value {
    let reply = server.get_as(path, &server.admin_token);
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    reply.json()
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub(crate) fn chrono_day(text: &str) -> i64 {
    let date: chrono::NaiveDate = text.parse().unwrap();
    date.signed_duration_since(chrono::NaiveDate::default())
        .num_days()
}

pub(crate) fn minor(value: &Value) -> i64 {
    value["amount"].as_i64().unwrap()
}

pub(crate) fn count(value: &Value) -> i64 {
    value.as_i64().unwrap()
}

/// The sum of a money column over the rows.
fn money_sum(report: &Value, column: &str) -> i64 {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| minor(&row[column]))
        .sum()
}

pub(crate) fn count_sum(report: &Value, column: &str) -> i64 {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| count(&row[column]))
        .sum()
}

/// The UK financial year of a `YYYY-MM-DD` day, as `2019-20`.
pub(crate) fn financial_year(day: &str) -> String {
    let year: i32 = day[0..4].parse().unwrap();
    let month: u32 = day[5..7].parse().unwrap();
    let starts = if month >= 4 { year } else { year - 1 };
    format!("{starts}-{:02}", (starts + 1) % 100)
}

/// The CSV of a report: its header and rows as maps.
pub(crate) fn csv(server: &TestServer, path: &str) -> Vec<BTreeMap<String, String>> {
    let reply = server.send(
        "GET",
        path,
        &[
            ("authorization", &format!("Bearer {}", server.admin_token)),
            ("accept", "text/csv"),
        ],
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    let text = reply.text();
    let mut lines = text.split("\r\n").filter(|line| !line.is_empty());
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    lines
        .map(|line| {
            // Reports' cells here hold no commas (ids, codes, numbers, references).
            header
                .iter()
                .cloned()
                .zip(line.split(',').map(str::to_owned))
                .collect()
        })
        .collect()
}

fn pence(pounds: &str) -> i64 {
    let (whole, fraction) = pounds.split_once('.').unwrap();
    whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
}

/// Every report's totals equal the sums of its rows and the figures recomputed from the lists.
fn reconcile(server: &TestServer) {
    let organisations: HashMap<String, Value> = everything(server, "/api/v1/organisations")
        .into_iter()
        .map(|organisation| {
            (
                organisation["id"].as_str().unwrap().to_owned(),
                organisation,
            )
        })
        .collect();
    let awards = everything(server, "/api/v1/awards");
    let standing: Vec<&Value> = awards
        .iter()
        .filter(|award| award["status"] != "terminated")
        .collect();
    assert!(!standing.is_empty(), "the data set has awards");
    let committed: i64 = standing.iter().map(|award| minor(&award["amount"])).sum();
    let paid: i64 = awards.iter().map(|award| minor(&award["paid"])).sum();
    let milestones = everything(server, "/api/v1/milestones?status=paid");
    let payments: i64 = milestones
        .iter()
        .map(|milestone| minor(&milestone["amount"]))
        .sum();
    assert_eq!(
        paid, payments,
        "awards' paid figures are their paid milestones"
    );

    // Funding, in several groupings: the same totals, the sums of the rows.
    for group_by in [
        "owner",
        "financial_year,supplier_scale",
        "programme,phase",
        "region",
    ] {
        let funding = report(
            server,
            &format!("/api/v1/reports/funding?group_by={group_by}"),
        );
        let totals = &funding["totals"][0];
        assert_eq!(minor(&totals["committed"]), committed, "{group_by}");
        assert_eq!(minor(&totals["paid"]), paid, "{group_by}");
        assert_eq!(count(&totals["awards"]), standing.len() as i64);
        assert_eq!(count(&totals["payments"]), milestones.len() as i64);
        assert_eq!(money_sum(&funding, "committed"), committed, "{group_by}");
        assert_eq!(money_sum(&funding, "paid"), paid, "{group_by}");
        assert_eq!(count_sum(&funding, "awards"), standing.len() as i64);
    }

    // By financial year, each row is the awards that started in it.
    let mut by_year: BTreeMap<String, i64> = BTreeMap::new();
    for award in &standing {
        let day = award["starts_on"]
            .as_str()
            .unwrap_or_else(|| award["created_at"].as_str().unwrap());
        *by_year.entry(financial_year(day)).or_default() += minor(&award["amount"]);
    }
    let funding = report(server, "/api/v1/reports/funding?group_by=financial_year");
    let reported: BTreeMap<String, i64> = funding["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| minor(&row["committed"]) > 0)
        .map(|row| {
            (
                row["financial_year"].as_str().unwrap().to_owned(),
                minor(&row["committed"]),
            )
        })
        .collect();
    assert_eq!(reported, by_year);
    // One year alone: its row, and nothing else.
    let (year, value) = by_year.iter().next().unwrap();
    let one = report(
        server,
        &format!("/api/v1/reports/funding?group_by=financial_year&financial_year={year}"),
    );
    assert_eq!(one["filters"]["financial_year"], year.as_str());
    assert_eq!(minor(&one["totals"][0]["committed"]), *value);

    // The CSV holds the same rows, in pounds and pence.
    let rows = csv(server, "/api/v1/reports/funding?group_by=owner");
    assert_eq!(
        rows.len(),
        report(server, "/api/v1/reports/funding?group_by=owner")["rows"]
            .as_array()
            .unwrap()
            .len()
    );
    let csv_committed: i64 = rows.iter().map(|row| pence(&row["committed"])).sum();
    assert_eq!(csv_committed, committed);

    // SME share: the SMEs' value recomputed from the suppliers' scale and kind.
    let is_sme = |award: &Value| {
        let supplier = &organisations[award["supplier_organisation_id"].as_str().unwrap()];
        match supplier["scale"].as_str() {
            Some(scale) => scale != "large",
            None => supplier["kind"] == "sme",
        }
    };
    let sme_value: i64 = standing
        .iter()
        .filter(|award| is_sme(award))
        .map(|award| minor(&award["amount"]))
        .sum();
    let sme_contracts = standing.iter().filter(|award| is_sme(award)).count() as i64;
    let share = report(server, "/api/v1/reports/sme-share");
    assert_eq!(
        share["group_by"],
        serde_json::json!(["owner", "financial_year"])
    );
    let totals = &share["totals"][0];
    assert_eq!(minor(&totals["awarded_value"]), committed);
    assert_eq!(minor(&totals["sme_value"]), sme_value);
    assert_eq!(money_sum(&share, "sme_value"), sme_value);
    assert_eq!(money_sum(&share, "awarded_value"), committed);
    // SMEs without a recorded scale count in the SME value but in no band.
    assert!(
        minor(&totals["micro_value"])
            + minor(&totals["small_value"])
            + minor(&totals["medium_value"])
            <= sme_value
    );
    let supplier =
        |award: &Value| &organisations[award["supplier_organisation_id"].as_str().unwrap()];
    for band in ["micro", "small", "medium"] {
        let expected: i64 = standing
            .iter()
            .filter(|award| is_sme(award) && supplier(award)["scale"] == band)
            .map(|award| minor(&award["amount"]))
            .sum();
        assert_eq!(minor(&totals[format!("{band}_value")]), expected, "{band}");
    }
    // The region filter keeps the awards whose supplier is in the region.
    if let Some(region) = standing
        .iter()
        .find_map(|award| supplier(award)["region"].as_str())
    {
        let in_region: Vec<&&Value> = standing
            .iter()
            .filter(|award| supplier(award)["region"] == region)
            .collect();
        let filtered = report(
            server,
            &format!("/api/v1/reports/sme-share?region={region}"),
        );
        let filtered_totals = &filtered["totals"][0];
        assert_eq!(
            minor(&filtered_totals["awarded_value"]),
            in_region
                .iter()
                .map(|award| minor(&award["amount"]))
                .sum::<i64>()
        );
        assert_eq!(
            minor(&filtered_totals["sme_value"]),
            in_region
                .iter()
                .filter(|award| is_sme(award))
                .map(|award| minor(&award["amount"]))
                .sum::<i64>()
        );
        assert_eq!(count_sum(&filtered, "contracts"), in_region.len() as i64);
    }
    assert_eq!(count(&totals["sme_contracts"]), sme_contracts);
    assert_eq!(count_sum(&share, "contracts"), standing.len() as i64);
    let expected_share = ((sme_value as f64 / committed as f64) * 10_000.0).round() / 10_000.0;
    assert_eq!(totals["value_share"].as_f64().unwrap(), expected_share);
    assert_eq!(totals["target"].as_f64().unwrap(), 0.33);
    assert_eq!(
        totals["meets_target"].as_bool().unwrap(),
        expected_share >= 0.33
    );
    assert_eq!(
        csv(server, "/api/v1/reports/sme-share?format=csv").len(),
        share["rows"].as_array().unwrap().len()
    );

    // Pipeline: applications made (submitted), decisions and awards.
    let applications = everything(server, "/api/v1/applications");
    let submitted = applications
        .iter()
        .filter(|application| !application["submitted_at"].is_null())
        .count() as i64;
    let successful = applications
        .iter()
        .filter(|application| application["status"] == "successful")
        .count() as i64;
    let pipeline = report(server, "/api/v1/reports/pipeline");
    let totals = &pipeline["totals"][0];
    assert_eq!(count(&totals["applications"]), submitted);
    assert_eq!(count_sum(&pipeline, "applications"), submitted);
    assert_eq!(count(&totals["successful"]), successful);
    assert_eq!(count_sum(&pipeline, "successful"), successful);
    assert_eq!(count(&totals["awards"]), standing.len() as i64);
    assert_eq!(count_sum(&pipeline, "awards"), standing.len() as i64);
    // Progression recomputed from lineage: phase 1 awards that a phase 2 award names.
    let parents: std::collections::HashSet<&str> = awards
        .iter()
        .filter_map(|award| award["parent_award_id"].as_str())
        .collect();
    let phases: HashMap<String, i64> = everything(server, "/api/v1/phases")
        .into_iter()
        .map(|phase| {
            (
                phase["id"].as_str().unwrap().to_owned(),
                phase["number"].as_i64().unwrap(),
            )
        })
        .collect();
    let phase_one: Vec<&&Value> = standing
        .iter()
        .filter(|award| phases[award["phase_id"].as_str().unwrap()] == 1)
        .collect();
    let progressed = phase_one
        .iter()
        .filter(|award| parents.contains(award["id"].as_str().unwrap()))
        .count() as i64;
    let row_one = pipeline["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["phase"] == "1")
        .unwrap();
    assert_eq!(count(&row_one["awards"]), phase_one.len() as i64);
    assert_eq!(count(&row_one["progressed"]), progressed);
    let expected = ((progressed as f64 / phase_one.len() as f64) * 10_000.0).round() / 10_000.0;
    assert_eq!(
        totals["phase_1_to_phase_2_rate"].as_f64().unwrap(),
        expected
    );

    assert_eq!(
        csv(server, "/api/v1/reports/pipeline")
            .iter()
            .map(|row| row["applications"].parse::<i64>().unwrap())
            .sum::<i64>(),
        submitted,
        "the pipeline's CSV holds the same rows"
    );

    // Trials: every trial, by status.
    let trials = everything(server, "/api/v1/trials");
    let trial_report = report(server, "/api/v1/reports/trials");
    assert_eq!(
        count(&trial_report["totals"][0]["trials"]),
        trials.len() as i64
    );
    assert_eq!(count_sum(&trial_report, "trials"), trials.len() as i64);
    let adopted = trials
        .iter()
        .filter(|trial| trial["adopted"] == true)
        .count() as i64;
    assert_eq!(count(&trial_report["totals"][0]["adopted"]), adopted);
    let follow_on: i64 = trials
        .iter()
        .filter(|trial| trial["adopted"] == true)
        .filter_map(|trial| trial["follow_on_value"]["amount"].as_i64())
        .sum();
    assert_eq!(
        minor(&trial_report["totals"][0]["follow_on_value"]),
        follow_on
    );
    assert_eq!(money_sum(&trial_report, "follow_on_value"), follow_on);
    let trial_rows = csv(server, "/api/v1/reports/trials?group_by=status,result");
    assert_eq!(
        trial_rows
            .iter()
            .map(|row| row["trials"].parse::<i64>().unwrap())
            .sum::<i64>(),
        trials.len() as i64
    );
    assert_eq!(
        trial_rows
            .iter()
            .map(|row| pence(&row["follow_on_value"]))
            .sum::<i64>(),
        follow_on
    );
    crate::supplier_reports::reconcile_payment_times(server);
    crate::supplier_reports::reconcile_funnel(server, &organisations, &awards);
    crate::supplier_reports::reconcile_filtered_payment_times(server);
    crate::supplier_reports::reconcile_filtered_funnel(server);
}

#[test]
fn every_report_reconciles_with_the_demo_data() {
    for_each_backend(|server| {
        server.cli(&["seed", "demo"]);
        reconcile(server);
        // The demo's challenges say when they opened, so the days to each one's first contract
        // (its earliest standing award's start) are known from the API's own lists.
        let day = |text: &str| chrono_day(&text[..10]);
        let opened: HashMap<String, i64> = everything(server, "/api/v1/challenges")
            .iter()
            .filter_map(|challenge| {
                let opens_at = challenge["opens_at"].as_str()?;
                Some((challenge["id"].as_str()?.to_owned(), day(opens_at)))
            })
            .collect();
        assert!(
            !opened.is_empty(),
            "the demo's challenges say when they opened"
        );
        let mut first: HashMap<String, i64> = HashMap::new();
        for award in everything(server, "/api/v1/awards") {
            if award["status"] == "terminated" {
                continue;
            }
            let start = award["starts_on"]
                .as_str()
                .or(award["created_at"].as_str())
                .map(day)
                .unwrap();
            let challenge = award["challenge_id"].as_str().unwrap().to_owned();
            let earliest = first.entry(challenge).or_insert(start);
            *earliest = (*earliest).min(start);
        }
        let mut waits: Vec<i64> = first
            .iter()
            .filter_map(|(challenge, start)| Some(start - opened.get(challenge)?))
            .collect();
        waits.sort_unstable();
        assert!(!waits.is_empty(), "a challenge that opened has a contract");
        let middle = waits.len() / 2;
        let median = if waits.len() % 2 == 1 {
            waits[middle] as f64
        } else {
            (waits[middle - 1] + waits[middle]) as f64 / 2.0
        };
        let pipeline = report(server, "/api/v1/reports/pipeline");
        assert_eq!(
            pipeline["totals"][0]["median_days_to_first_contract"].as_f64(),
            Some(median),
            "{pipeline}"
        );
    });
}

#[test]
fn every_report_reconciles_with_a_synthetic_data_set() {
    for_each_backend(|server| {
        server.cli(&["seed", "synthetic", "--scale", "30"]);
        reconcile(server);
    });
}

#[test]
fn reports_are_for_staff_officers_and_report_clients_and_check_their_parameters() {
    for_each_backend(|server| {
        server.cli(&["seed", "demo"]);
        server
            .get("/api/v1/reports/funding")
            .assert_problem(401, "unauthenticated");
        let awards = everything(server, "/api/v1/awards");
        let supplier_organisation = awards[0]["supplier_organisation_id"].as_str().unwrap();
        let (_, supplier) = server.user("bid@supplier.test", "supplier", &[supplier_organisation]);
        server
            .get_as("/api/v1/reports/funding", &supplier)
            .assert_problem(403, "forbidden");
        let reader =
            server.api_client_token(&serde_json::json!({"name": "Reader", "scopes": ["read"]}));
        server
            .get_as("/api/v1/reports/sme-share", &reader)
            .assert_problem(403, "forbidden");
        let reporter =
            server.api_client_token(&serde_json::json!({"name": "Reports", "scopes": ["reports"]}));
        assert_eq!(
            server.get_as("/api/v1/reports/sme-share", &reporter).status,
            200
        );

        // An officer sees its own body's figures only, whatever it asks for.
        let owners: HashMap<String, String> = everything(server, "/api/v1/challenges")
            .into_iter()
            .map(|challenge| {
                (
                    challenge["id"].as_str().unwrap().to_owned(),
                    challenge["owner_organisation_id"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
            .collect();
        let owner_of = |award: &Value| owners[award["challenge_id"].as_str().unwrap()].clone();
        let owner = owner_of(&awards[0]);
        let own: i64 = awards
            .iter()
            .filter(|award| owner_of(award) == owner)
            .filter(|award| award["status"] != "terminated")
            .map(|award| minor(&award["amount"]))
            .sum();
        let (_, officer) = server.user("officer@owner.test", "authority_officer", &[&owner]);
        let mine = server
            .get_as("/api/v1/reports/funding?group_by=owner", &officer)
            .json();
        assert_eq!(mine["rows"].as_array().unwrap().len(), 1, "{mine}");
        assert_eq!(mine["rows"][0]["owner_id"], owner.as_str());
        assert_eq!(minor(&mine["totals"][0]["committed"]), own);
        let other = awards.iter().map(owner_of).find(|id| *id != owner);
        if let Some(other) = other {
            let theirs = server
                .get_as(
                    &format!("/api/v1/reports/funding?owner_id={other}"),
                    &officer,
                )
                .json();
            assert_eq!(theirs["rows"], serde_json::json!([]));
        }
        // Staff filtering by owner get the same figure.
        let filtered = report(server, &format!("/api/v1/reports/funding?owner_id={owner}"));
        assert_eq!(minor(&filtered["totals"][0]["committed"]), own);

        for (query, parameter) in [
            ("group_by=colour", "group_by"),
            ("financial_year=2019-21", "financial_year"),
            ("financial_year=", "financial_year"),
            ("financial_year=2019-2020", "financial_year"),
            ("from=2020-13-01", "from"),
            ("owner_id=leeds", "owner_id"),
            ("region=atlantis", "region"),
            ("format=xml", "format"),
            ("colour=blue", "colour"),
        ] {
            let problem = server
                .get_as(
                    &format!("/api/v1/reports/funding?{query}"),
                    &server.admin_token,
                )
                .assert_problem(400, "invalid_query");
            assert_eq!(problem["errors"][0]["parameter"], parameter, "{query}");
        }
        // A dimension named twice counts once, as a sort key does.
        let twice = report(server, "/api/v1/reports/funding?group_by=owner,%20owner");
        assert_eq!(twice["group_by"], serde_json::json!(["owner"]), "{twice}");
        // A period that ends before it starts holds no day: an empty report, not an error.
        for query in [
            "from=2021-01-01&to=2020-01-01",
            "financial_year=2019-20&from=2021-01-01",
        ] {
            for path in [
                "/api/v1/reports/funding",
                "/api/v1/reports/sme-share",
                "/api/v1/reports/pipeline",
                "/api/v1/reports/trials",
            ] {
                let empty = report(server, &format!("{path}?{query}"));
                let rows = empty["rows"].as_array().unwrap();
                if path.ends_with("/trials") || path.ends_with("/pipeline") {
                    // Counted by status or phase: every count in the period is zero.
                    assert!(
                        rows.iter().all(|row| row
                            .as_object()
                            .unwrap()
                            .values()
                            .all(|cell| !cell.is_number() || cell.as_f64() == Some(0.0))),
                        "{path}?{query}: {empty}"
                    );
                } else {
                    assert!(rows.is_empty(), "{path}?{query}: {empty}");
                }
            }
        }
        // A dimension another report has is not this one's.
        server
            .get_as(
                "/api/v1/reports/sme-share?group_by=status",
                &server.admin_token,
            )
            .assert_problem(400, "invalid_query");
        let reply = server.send(
            "GET",
            "/api/v1/reports/trials",
            &[
                ("authorization", &format!("Bearer {}", server.admin_token)),
                ("accept", "application/xml"),
            ],
            None,
        );
        reply.assert_problem(406, "not_acceptable");
    });
}

/// The declared members of `schema` (following `$ref` and `allOf` into `components`).
fn declared_members(components: &Value, schema: &Value, into: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        declared_members(components, &components["schemas"][name], into);
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        declared_members(components, part, into);
    }
    for name in schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name)
    {
        into.push(name.clone());
    }
}

/// Generated clients type report figures from the spec: every real answer, grouped by nothing
/// and by every dimension, must validate against its report's schema, and hold no member the
/// schema does not declare.
#[test]
fn every_report_answer_matches_its_typed_schema_in_the_spec() {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/v1.json")).unwrap(),
    )
    .unwrap();
    let components = &spec["components"];
    let reports = [
        (
            "funding",
            "FundingReport",
            "programme,challenge,phase,owner,region,supplier_scale,financial_year",
        ),
        (
            "sme-share",
            "SmeShareReport",
            "owner,financial_year,programme",
        ),
        (
            "pipeline",
            "PipelineReport",
            "phase,programme,challenge,owner",
        ),
        (
            "trials",
            "TrialsReport",
            "status,result,host,owner,programme,financial_year",
        ),
        (
            "payment-times",
            "PaymentTimesReport",
            "owner,programme,supplier_scale,region,financial_year",
        ),
        ("funnel", "FunnelReport", "supplier_scale,programme,owner"),
    ];
    for_each_backend(|server| {
        server.cli(&["seed", "demo"]);
        for (name, schema_name, dimensions) in reports {
            let root = serde_json::json!({
                "$ref": format!("#/components/schemas/{schema_name}"),
                "components": components,
            });
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&root)
                .unwrap();
            let schemas = &components["schemas"][schema_name]["properties"];
            let mut row_members = Vec::new();
            declared_members(components, &schemas["rows"]["items"], &mut row_members);
            let mut total_members = Vec::new();
            declared_members(components, &schemas["totals"]["items"], &mut total_members);
            for query in [String::new(), format!("?group_by={dimensions}")] {
                let answer = report(server, &format!("/api/v1/reports/{name}{query}"));
                let errors: Vec<String> = validator
                    .iter_errors(&answer)
                    .map(|error| format!("{error} at {}", error.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{name}{query}: {errors:#?}");
                assert!(
                    !answer["rows"].as_array().unwrap().is_empty(),
                    "{name}{query}"
                );
                for (items, declared) in [("rows", &row_members), ("totals", &total_members)] {
                    for item in answer[items].as_array().unwrap() {
                        for member in item.as_object().unwrap().keys() {
                            assert!(
                                declared.contains(member),
                                "{name}{query}: {items} member {member} is not in {schema_name}"
                            );
                        }
                    }
                }
            }
        }
    });
}

/// Each report has a `.csv` path, for clients that choose a format by path (generated ones):
/// the same text as `format=csv`, whatever `Accept` says, and it takes no `format`.
#[test]
fn each_report_has_a_csv_path_with_the_same_rows() {
    for_each_backend(|server| {
        server.cli(&["seed", "demo"]);
        for name in [
            "funding",
            "sme-share",
            "pipeline",
            "trials",
            "payment-times",
        ] {
            let by_parameter = server.get_as(
                &format!("/api/v1/reports/{name}?format=csv&group_by=owner"),
                &server.admin_token,
            );
            let by_path = server.send(
                "GET",
                &format!("/api/v1/reports/{name}.csv?group_by=owner"),
                &[
                    ("authorization", &format!("Bearer {}", server.admin_token)),
                    ("accept", "application/json"),
                ],
                None,
            );
            assert_eq!(by_path.status, 200, "{name}: {}", by_path.text());
            assert_eq!(
                by_path.header("content-type"),
                Some("text/csv; charset=utf-8")
            );
            assert_eq!(by_path.text(), by_parameter.text(), "{name}");
            server
                .get_as(
                    &format!("/api/v1/reports/{name}.csv?format=json"),
                    &server.admin_token,
                )
                .assert_problem(400, "invalid_query");
        }
        server
            .get("/api/v1/reports/funding.csv")
            .assert_problem(401, "unauthenticated");
    });
}

/// Without `format` or a `.csv` path, a report's format follows `Accept` as RFC 9110 (section
/// 12.5.1) reads it: weights count (`q=0` refuses), the type named more precisely wins a tie,
/// and the answer says `Vary: Accept` so no cache hands JSON to a caller that asked for CSV.
/// `application/json;q=0.5, text/csv` was answered in JSON, and no answer said it varied.
#[test]
fn a_reports_format_follows_accept_with_its_weights_and_says_it_varies() {
    common::for_each_backend(|server| {
        let ask = |accept: &str| server.negotiated("/api/v1/reports/funding", accept);
        let csv = "text/csv; charset=utf-8";
        assert_eq!(ask("application/json;q=0.5, text/csv"), csv);
        assert_eq!(ask("application/json;q=0, */*"), csv);
        assert_eq!(ask("text/csv, */*"), csv);
        assert_eq!(ask("text/*"), csv);
        assert_eq!(ask("text/csv;q=0, */*"), "application/json");
        assert_eq!(ask("*/*"), "application/json");
    });
}
