//! Reports on how SMEs fare, each recomputed from the API's own lists (tests/api/reports.rs
//! runs the reconciliations on its data sets): payment times against the 30 days of
//! regulation 113, the supplier funnel, and a supplier's journey. On each backend.

use crate::common;
use crate::reports::{
    chrono_day, count, count_sum, csv, everything, financial_year, minor, report,
};

use std::collections::{BTreeMap, HashMap};

use common::{for_each_backend, TestServer};
use serde_json::Value;

/// The funnel's stages, from applying to adoption, as its columns.
const FUNNEL_COLUMNS: [&str; 5] = [
    "suppliers_applied",
    "contracted_phase_1",
    "contracted_phase_2",
    "trialled",
    "adopted",
];

/// Payment times, recomputed from the milestones list: invoices (invoiced, then paid or not
/// yet), days from invoice to payment, the 30 days of regulation 113.
pub(crate) fn reconcile_payment_times(server: &TestServer) {
    let today = chrono::Utc::now().date_naive().to_string();
    let invoices: Vec<Value> = everything(server, "/api/v1/milestones")
        .into_iter()
        .filter(|milestone| {
            milestone["invoiced_on"].is_string()
                && (milestone["status"] == "invoiced" || milestone["status"] == "paid")
        })
        .collect();
    assert!(!invoices.is_empty(), "the data set has invoices");
    let waited = |milestone: &Value, until: &str| {
        chrono_day(until) - chrono_day(milestone["invoiced_on"].as_str().unwrap())
    };
    let mut days: Vec<i64> = invoices
        .iter()
        .filter(|milestone| milestone["status"] == "paid")
        .map(|milestone| waited(milestone, milestone["paid_on"].as_str().unwrap()))
        .collect();
    days.sort_unstable();
    let unpaid: Vec<&Value> = invoices
        .iter()
        .filter(|milestone| milestone["status"] == "invoiced")
        .collect();
    let late_unpaid = unpaid
        .iter()
        .filter(|milestone| waited(milestone, &today) > 30)
        .count() as i64;
    let prompt = days.iter().filter(|days| **days <= 30).count() as i64;
    let median = (!days.is_empty()).then(|| {
        let middle = days.len() / 2;
        if days.len() % 2 == 1 {
            days[middle] as f64
        } else {
            (days[middle - 1] + days[middle]) as f64 / 2.0
        }
    });
    // The nearest rank: the ceil(0.9 n)th smallest.
    let p90 = (!days.is_empty()).then(|| days[(days.len() * 9).div_ceil(10) - 1]);
    for group_by in ["financial_year", "owner,supplier_scale", "programme,region"] {
        let answer = report(
            server,
            &format!("/api/v1/reports/payment-times?group_by={group_by}"),
        );
        let totals = &answer["totals"][0];
        assert_eq!(
            count(&totals["invoices"]),
            invoices.len() as i64,
            "{group_by}"
        );
        assert_eq!(count(&totals["paid"]), days.len() as i64, "{group_by}");
        assert_eq!(totals["median_days"].as_f64(), median, "{group_by}");
        assert_eq!(totals["p90_days"].as_i64(), p90, "{group_by}");
        assert_eq!(count(&totals["paid_within_30_days"]), prompt, "{group_by}");
        assert_eq!(count(&totals["unpaid"]), unpaid.len() as i64, "{group_by}");
        assert_eq!(
            count(&totals["unpaid_past_30_days"]),
            late_unpaid,
            "{group_by}"
        );
        assert_eq!(
            count_sum(&answer, "invoices"),
            invoices.len() as i64,
            "{group_by}"
        );
        assert_eq!(
            count_sum(&answer, "paid_within_30_days"),
            prompt,
            "{group_by}"
        );
    }
    // Each financial year's row holds the invoices raised in it.
    let mut by_year: BTreeMap<String, i64> = BTreeMap::new();
    for invoice in &invoices {
        *by_year
            .entry(financial_year(invoice["invoiced_on"].as_str().unwrap()))
            .or_default() += 1;
    }
    let rows = csv(
        server,
        "/api/v1/reports/payment-times?group_by=financial_year",
    );
    let reported: BTreeMap<String, i64> = rows
        .iter()
        .map(|row| {
            (
                row["financial_year"].clone(),
                row["invoices"].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(reported, by_year);
}

/// The supplier funnel, recomputed from the applications, awards, phases and trials lists: the
/// distinct suppliers at each stage, by scale (each supplier has one scale, so the rows add up
/// to the totals).
pub(crate) fn reconcile_funnel(
    server: &TestServer,
    organisations: &HashMap<String, Value>,
    awards: &[Value],
) {
    use std::collections::BTreeSet;
    let phase_numbers: HashMap<String, i64> = everything(server, "/api/v1/phases")
        .iter()
        .map(|phase| (id_of(phase), phase["number"].as_i64().unwrap()))
        .collect();
    let supplier_of: HashMap<String, String> = awards
        .iter()
        .map(|award| {
            (
                id_of(award),
                award["supplier_organisation_id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let mut stages: [BTreeSet<String>; 5] = Default::default();
    for application in everything(server, "/api/v1/applications") {
        if application["submitted_at"].is_string() {
            stages[0].insert(
                application["supplier_organisation_id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    for award in awards {
        let stage = if phase_numbers[award["phase_id"].as_str().unwrap()] <= 1 {
            1
        } else {
            2
        };
        stages[stage].insert(
            award["supplier_organisation_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for trial in everything(server, "/api/v1/trials") {
        let Some(supplier) = trial["award_id"]
            .as_str()
            .and_then(|award| supplier_of.get(award))
        else {
            continue;
        };
        stages[3].insert(supplier.clone());
        if trial["adopted"] == true {
            stages[4].insert(supplier.clone());
        }
    }
    assert!(
        !stages[1].is_empty(),
        "the data set has contracted suppliers"
    );
    let funnel = report(server, "/api/v1/reports/funnel");
    for (column, stage) in FUNNEL_COLUMNS.iter().zip(&stages) {
        assert_eq!(
            count(&funnel["totals"][0][*column]),
            stage.len() as i64,
            "{column}: {funnel}"
        );
        assert_eq!(count_sum(&funnel, column), stage.len() as i64, "{column}");
    }
    // Row by row: each scale's suppliers.
    let scale_of = |supplier: &String| {
        organisations[supplier]["scale"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let rows = csv(server, "/api/v1/reports/funnel.csv");
    for row in &rows {
        for (column, stage) in FUNNEL_COLUMNS.iter().zip(&stages) {
            let expected = stage
                .iter()
                .filter(|supplier| scale_of(supplier) == row["supplier_scale"])
                .count();
            assert_eq!(
                row[*column].parse::<usize>().unwrap(),
                expected,
                "{column} {row:?}"
            );
        }
    }
    // By owner, a supplier working with two bodies counts in both rows: the rows' sum is at
    // least the total, which counts it once.
    let by_owner = report(server, "/api/v1/reports/funnel?group_by=owner");
    assert_eq!(
        count(&by_owner["totals"][0]["contracted_phase_1"]),
        stages[1].len() as i64
    );
    assert!(count_sum(&by_owner, "contracted_phase_1") >= stages[1].len() as i64);
}

fn id_of(record: &Value) -> String {
    record["id"].as_str().unwrap().to_owned()
}

/// A supplier's journey lists what the applications, awards and trials lists show the same
/// caller for that supplier, and its summary counts them; CSV gives a line per step.
#[test]
fn a_suppliers_journey_agrees_with_the_lists() {
    for_each_backend(|server| {
        server.cli(&["seed", "demo"]);
        let suppliers: std::collections::BTreeSet<String> = everything(server, "/api/v1/awards")
            .iter()
            .map(|award| {
                award["supplier_organisation_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert!(!suppliers.is_empty());
        let ids = |records: &[Value]| -> std::collections::BTreeSet<String> {
            records.iter().map(id_of).collect()
        };
        let mut adopted_somewhere = false;
        for supplier in &suppliers {
            let journey = report(server, &format!("/api/v1/organisations/{supplier}/journey"));
            let listed_applications = everything(
                server,
                &format!("/api/v1/applications?supplier_id={supplier}"),
            );
            let listed_awards =
                everything(server, &format!("/api/v1/awards?supplier_id={supplier}"));
            let listed_trials =
                everything(server, &format!("/api/v1/trials?supplier_id={supplier}"));
            let journey_awards = journey["awards"].as_array().unwrap();
            let journey_trials: Vec<Value> = journey_awards
                .iter()
                .flat_map(|award| award["trials"].as_array().unwrap().clone())
                .collect();
            assert_eq!(
                ids(journey["applications"].as_array().unwrap()),
                ids(&listed_applications)
            );
            assert_eq!(ids(journey_awards), ids(&listed_awards));
            let with_award: Vec<Value> = listed_trials
                .iter()
                .filter(|trial| trial["award_id"].is_string())
                .cloned()
                .collect();
            assert_eq!(ids(&journey_trials), ids(&with_award));
            let summary = &journey["summary"];
            assert_eq!(
                count(&summary["applications_submitted"]),
                listed_applications
                    .iter()
                    .filter(|application| application["submitted_at"].is_string())
                    .count() as i64
            );
            assert_eq!(
                count(&summary["phase_1_awards"]) + count(&summary["phase_2_awards"]),
                listed_awards.len() as i64
            );
            let adopted: Vec<&Value> = with_award
                .iter()
                .filter(|trial| trial["adopted"] == true)
                .collect();
            assert_eq!(count(&summary["adopted"]), adopted.len() as i64);
            adopted_somewhere |= !adopted.is_empty();
            let follow_on: i64 = adopted
                .iter()
                .filter_map(|trial| trial["follow_on_value"]["amount"].as_i64())
                .sum();
            assert_eq!(minor(&summary["follow_on_value"]), follow_on);
            // CSV: a header, then a line per application, award and trial.
            let reply = server.get_as(
                &format!("/api/v1/organisations/{supplier}/journey?format=csv"),
                &server.admin_token,
            );
            assert_eq!(reply.status, 200, "{}", reply.text());
            assert_eq!(
                reply.header("content-type"),
                Some("text/csv; charset=utf-8")
            );
            let lines = reply.text().split_terminator("\r\n").count();
            assert_eq!(
                lines,
                1 + listed_applications.len() + listed_awards.len() + with_award.len()
            );
            // Without a token: the public part (awards, published trials), no applications.
            let public = server.get(&format!("/api/v1/organisations/{supplier}/journey"));
            assert_eq!(public.status, 200, "{}", public.text());
            let public = public.json();
            assert_eq!(public["applications"], serde_json::json!([]));
            assert_eq!(
                ids(public["awards"].as_array().unwrap()),
                ids(&listed_awards)
            );
        }
        assert!(adopted_somewhere, "the demo has an adopted trial");
        server
            .get("/api/v1/organisations/not-an-id/journey")
            .assert_problem(404, "not_found");
        server
            .get(&format!(
                "/api/v1/organisations/{}/journey?format=xml",
                suppliers.iter().next().unwrap()
            ))
            .assert_problem(400, "invalid_query");
    });
}

/// A report's filters, and whether a fact passes them (every owner it is reported to must be
/// the one asked for; dates are the fact's own day).
#[derive(Debug, Default, Clone)]
struct Filters {
    programme: Option<String>,
    owner: Option<String>,
    region: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl Filters {
    fn query(&self) -> String {
        let pairs = [
            ("programme_id", &self.programme),
            ("owner_id", &self.owner),
            ("region", &self.region),
            ("from", &self.from),
            ("to", &self.to),
        ];
        pairs
            .iter()
            .filter_map(|(name, value)| value.as_ref().map(|value| format!("&{name}={value}")))
            .collect()
    }

    fn keeps(&self, fact: &Fact) -> bool {
        let matches = |wanted: &Option<String>, value: Option<&String>| {
            wanted.as_ref().is_none_or(|wanted| value == Some(wanted))
        };
        matches(&self.programme, Some(&fact.programme))
            && fact
                .owners
                .iter()
                .all(|owner| matches(&self.owner, Some(owner)))
            && matches(&self.region, fact.region.as_ref())
            && self.from.as_ref().is_none_or(|from| fact.day >= *from)
            && self.to.as_ref().is_none_or(|to| fact.day <= *to)
    }
}

/// A record a report counts, with what its filters look at.
#[derive(Debug, Clone)]
struct Fact {
    programme: String,
    owners: Vec<String>,
    region: Option<String>,
    day: String,
    supplier: String,
    /// The funnel's stage (0 applied .. 4 adopted), or for an invoice whether it is paid.
    stage: usize,
    /// An invoice's days waited (paid) or days unpaid until today.
    waited: i64,
}

/// The lists a filtered report is recomputed from: each challenge's programme and owner, each
/// award, each supplier's region.
struct Lists {
    challenges: HashMap<String, (String, String)>,
    awards: HashMap<String, Value>,
    regions: HashMap<String, Option<String>>,
}

impl Lists {
    fn read(server: &TestServer) -> Lists {
        let text = |value: &Value| value.as_str().unwrap().to_owned();
        Lists {
            challenges: everything(server, "/api/v1/challenges")
                .iter()
                .map(|challenge| {
                    (
                        id_of(challenge),
                        (
                            text(&challenge["programme_id"]),
                            text(&challenge["owner_organisation_id"]),
                        ),
                    )
                })
                .collect(),
            awards: everything(server, "/api/v1/awards")
                .into_iter()
                .map(|award| (id_of(&award), award))
                .collect(),
            regions: everything(server, "/api/v1/organisations")
                .iter()
                .map(|organisation| {
                    (
                        id_of(organisation),
                        organisation["region"].as_str().map(str::to_owned),
                    )
                })
                .collect(),
        }
    }

    /// A fact of a record of `challenge` with `supplier`, on `day`.
    fn fact(&self, challenge: &Value, supplier: &Value, day: &str, stage: usize) -> Fact {
        let (programme, owner) = &self.challenges[challenge.as_str().unwrap()];
        let supplier = supplier.as_str().unwrap().to_owned();
        Fact {
            programme: programme.clone(),
            owners: vec![owner.clone()],
            region: self.regions[&supplier].clone(),
            day: day[..10].to_owned(),
            supplier,
            stage,
            waited: 0,
        }
    }

    /// An award's fact on its start (or recording) day.
    fn award_fact(&self, award: &Value, stage: usize) -> Fact {
        let day = award["starts_on"]
            .as_str()
            .or(award["created_at"].as_str())
            .unwrap();
        self.fact(
            &award["challenge_id"],
            &award["supplier_organisation_id"],
            day,
            stage,
        )
    }
}

/// Filters that each keep part of `facts`: the first fact's programme, owner and region, and
/// the later half of the days.
fn filters_for(facts: &[Fact]) -> Vec<Filters> {
    let first = &facts[0];
    let mut days: Vec<&String> = facts.iter().map(|fact| &fact.day).collect();
    days.sort_unstable();
    let middle = days[days.len() / 2].clone();
    vec![
        Filters {
            programme: Some(first.programme.clone()),
            ..Filters::default()
        },
        Filters {
            owner: Some(first.owners[0].clone()),
            from: Some(middle.clone()),
            ..Filters::default()
        },
        Filters {
            region: facts.iter().find_map(|fact| fact.region.clone()),
            to: Some(middle),
            ..Filters::default()
        },
    ]
}

/// Payment times under filters, recomputed from the milestones, awards and challenges lists.
pub(crate) fn reconcile_filtered_payment_times(server: &TestServer) {
    let lists = Lists::read(server);
    let today = chrono_day(&chrono::Utc::now().date_naive().to_string());
    let invoices: Vec<Fact> = everything(server, "/api/v1/milestones")
        .iter()
        .filter(|milestone| milestone["status"] == "invoiced" || milestone["status"] == "paid")
        .filter_map(|milestone| {
            let invoiced_on = milestone["invoiced_on"].as_str()?;
            let award = &lists.awards[milestone["award_id"].as_str().unwrap()];
            let mut fact = lists.fact(
                &award["challenge_id"],
                &award["supplier_organisation_id"],
                invoiced_on,
                usize::from(milestone["status"] == "paid"),
            );
            let until = milestone["paid_on"].as_str().map_or(today, chrono_day);
            fact.waited = until - chrono_day(invoiced_on);
            Some(fact)
        })
        .collect();
    for filters in filters_for(&invoices) {
        let kept: Vec<&Fact> = invoices.iter().filter(|fact| filters.keeps(fact)).collect();
        let mut days: Vec<i64> = kept
            .iter()
            .filter(|fact| fact.stage == 1)
            .map(|fact| fact.waited)
            .collect();
        days.sort_unstable();
        let unpaid: Vec<&&Fact> = kept.iter().filter(|fact| fact.stage == 0).collect();
        let path = format!(
            "/api/v1/reports/payment-times?group_by=owner{}",
            filters.query()
        );
        let totals = &report(server, &path)["totals"][0];
        assert_eq!(count(&totals["invoices"]), kept.len() as i64, "{path}");
        assert_eq!(count(&totals["paid"]), days.len() as i64, "{path}");
        let p90 = (!days.is_empty()).then(|| days[(days.len() * 9).div_ceil(10) - 1]);
        assert_eq!(totals["p90_days"].as_i64(), p90, "{path}");
        assert_eq!(
            count(&totals["paid_within_30_days"]),
            days.iter().filter(|days| **days <= 30).count() as i64,
            "{path}"
        );
        assert_eq!(count(&totals["unpaid"]), unpaid.len() as i64, "{path}");
        assert_eq!(
            count(&totals["unpaid_past_30_days"]),
            unpaid.iter().filter(|fact| fact.waited > 30).count() as i64,
            "{path}"
        );
    }
}

/// The funnel under filters, recomputed from the applications, awards, phases and trials lists.
pub(crate) fn reconcile_filtered_funnel(server: &TestServer) {
    use std::collections::BTreeSet;
    let lists = Lists::read(server);
    let phase_numbers: HashMap<String, i64> = everything(server, "/api/v1/phases")
        .iter()
        .map(|phase| (id_of(phase), phase["number"].as_i64().unwrap()))
        .collect();
    let mut facts: Vec<Fact> = everything(server, "/api/v1/applications")
        .iter()
        .filter_map(|application| {
            let submitted_at = application["submitted_at"].as_str()?;
            Some(lists.fact(
                &application["challenge_id"],
                &application["supplier_organisation_id"],
                submitted_at,
                0,
            ))
        })
        .collect();
    for award in lists.awards.values() {
        let stage = if phase_numbers[award["phase_id"].as_str().unwrap()] <= 1 {
            1
        } else {
            2
        };
        facts.push(lists.award_fact(award, stage));
    }
    for trial in everything(server, "/api/v1/trials") {
        let Some(award) = trial["award_id"]
            .as_str()
            .and_then(|award| lists.awards.get(award))
        else {
            continue;
        };
        let mut fact = lists.award_fact(award, 3);
        fact.day = trial["starts_on"]
            .as_str()
            .or(trial["created_at"].as_str())
            .unwrap()[..10]
            .to_owned();
        // A trial is reported to its host as well as to its award's owner.
        fact.owners
            .push(trial["host_organisation_id"].as_str().unwrap().to_owned());
        if trial["adopted"] == true {
            facts.push(Fact {
                stage: 4,
                ..fact.clone()
            });
        }
        facts.push(fact);
    }
    for filters in filters_for(&facts) {
        let mut stages: [BTreeSet<&String>; 5] = Default::default();
        for fact in facts.iter().filter(|fact| filters.keeps(fact)) {
            stages[fact.stage].insert(&fact.supplier);
        }
        assert!(!stages[0].is_empty(), "{filters:?} keeps some applicants");
        let path = format!(
            "/api/v1/reports/funnel?group_by=programme{}",
            filters.query()
        );
        let totals = &report(server, &path)["totals"][0];
        for (column, stage) in FUNNEL_COLUMNS.iter().zip(&stages) {
            assert_eq!(
                count(&totals[*column]),
                stage.len() as i64,
                "{column} {path}"
            );
        }
    }
}
