//! Trials: what was tried and what it measured.

use super::*;

#[derive(Debug, Clone, Default, PartialEq)]
struct TrialFigures {
    trials: i64,
    adopted: i64,
    not_adopted: i64,
    outcomes: i64,
    outcomes_with_target: i64,
    outcomes_met: i64,
    follow_on: BTreeMap<String, i64>,
}

impl Figures for TrialFigures {
    fn add(&mut self, other: &Self) {
        self.trials += other.trials;
        self.adopted += other.adopted;
        self.not_adopted += other.not_adopted;
        self.outcomes += other.outcomes;
        self.outcomes_with_target += other.outcomes_with_target;
        self.outcomes_met += other.outcomes_met;
        for (currency, value) in &other.follow_on {
            *self.follow_on.entry(currency.clone()).or_default() += value;
        }
    }
}

impl TrialFigures {
    fn cells(&self, row: &mut Row) {
        row.push("trials", Cell::Count(self.trials));
        row.push("adopted", Cell::Count(self.adopted));
        row.push("not_adopted", Cell::Count(self.not_adopted));
        row.push(
            "adoption_rate",
            Cell::Ratio(ratio(self.adopted, self.adopted + self.not_adopted)),
        );
        row.push("outcomes", Cell::Count(self.outcomes));
        row.push(
            "outcomes_with_target",
            Cell::Count(self.outcomes_with_target),
        );
        row.push("outcomes_met_target", Cell::Count(self.outcomes_met));
        row.push(
            "target_met_rate",
            Cell::Ratio(ratio(self.outcomes_met, self.outcomes_with_target)),
        );
        // Follow-on contracts are in pounds in every programme so far; another currency is shown
        // apart rather than added in.
        let gbp = self.follow_on.get("GBP").copied().unwrap_or(0);
        row.push("follow_on_value", Cell::Money(gbp, "GBP".to_owned()));
        let others: Vec<String> = self
            .follow_on
            .iter()
            .filter(|(currency, _)| currency.as_str() != "GBP")
            .map(|(currency, value)| format!("{currency} {value}"))
            .collect();
        row.push(
            "follow_on_other_currencies",
            Cell::Text((!others.is_empty()).then(|| others.join("; "))),
        );
    }
}

const TRIAL_COLUMNS: [&str; 10] = [
    "trials",
    "adopted",
    "not_adopted",
    "adoption_rate",
    "outcomes",
    "outcomes_with_target",
    "outcomes_met_target",
    "target_met_rate",
    "follow_on_value",
    "follow_on_other_currencies",
];

report_endpoints! {
    /// Trials: by status and result, outcomes against targets, adoption and follow-on value.
    ///
    /// Per group: trials, how many were adopted (a follow-on contract) or not, outcomes measured
    /// against a target and how many met it, and the follow-on contracts' value. `group_by` any of
    /// `status` (default), `result`, `host` (the host body, also `owner`), `programme` (through the
    /// trial's award), `financial_year` (of its start). Every trial counts, private ones included:
    /// reports are for programme staff and the hosts' own officers.
    trials_report at "/reports/trials", trials_report_csv at "/reports/trials.csv",
    schema = catalyst_api::reports::TrialsReport,
    answer = trials_answer,
    csv_summary = "Trials, as CSV: the same rows, a line each after a header."
}

async fn trials_answer(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let asked = ask(&request, caller.actor(), &TRIALS)?;
    let (asked, columns, rows, totals) = state
        .with_read_connection(move |connection| {
            let trials = store::trial_facts(connection, &asked.filter)?;
            let mut grouped: Grouped<TrialFigures> = Grouped::default();
            for trial in trials.iter().filter(|trial| asked.covers(trial.starts_on)) {
                let with_target: Vec<bool> = trial
                    .outcomes
                    .iter()
                    .filter_map(|(baseline, target, actual)| {
                        catalyst_domain::trial::met_target(*baseline, *target, *actual)
                    })
                    .collect();
                let place = Place {
                    programme: trial.programme_id.as_deref(),
                    owner: Some(&trial.host_id),
                    day: Some(trial.starts_on),
                    status: Some(&trial.status),
                    result: trial.result.as_deref(),
                    ..Place::default()
                };
                let mut follow_on = BTreeMap::new();
                if let (Some(true), Some((value, currency))) = (trial.adopted, &trial.follow_on) {
                    follow_on.insert(currency.clone(), *value);
                }
                grouped.add(
                    place.key(&asked.group_by, None),
                    &TrialFigures {
                        trials: 1,
                        adopted: i64::from(trial.adopted == Some(true)),
                        not_adopted: i64::from(trial.adopted == Some(false)),
                        outcomes: i64::try_from(trial.outcomes.len()).unwrap_or(i64::MAX),
                        outcomes_with_target: i64::try_from(with_target.len()).unwrap_or(i64::MAX),
                        outcomes_met: i64::try_from(with_target.iter().filter(|met| **met).count())
                            .unwrap_or(i64::MAX),
                        follow_on,
                    },
                );
            }
            let (columns, rows, totals) = tabulate(
                connection,
                &asked,
                &grouped,
                &TRIAL_COLUMNS,
                Money::None,
                |figures: &TrialFigures, row: &mut Row, _: &str| figures.cells(row),
            )?;
            Ok((asked.clone(), columns, rows, totals))
        })
        .await?;
    respond("trials", &asked, &columns, rows, totals)
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(trials_report).service(trials_report_csv);
}
