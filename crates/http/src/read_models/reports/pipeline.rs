//! Pipeline: how challenges move from application to adoption.

use super::*;

#[derive(Debug, Clone, Default, PartialEq)]
struct PipelineFigures {
    applications: i64,
    successful: i64,
    unsuccessful: i64,
    awards: i64,
    progressed: i64,
    adopted: i64,
    /// Days from each challenge's opening to its first contract (one value per challenge).
    days_to_first_contract: Vec<i64>,
}

impl Figures for PipelineFigures {
    fn add(&mut self, other: &Self) {
        self.applications += other.applications;
        self.successful += other.successful;
        self.unsuccessful += other.unsuccessful;
        self.awards += other.awards;
        self.progressed += other.progressed;
        self.adopted += other.adopted;
        self.days_to_first_contract
            .extend_from_slice(&other.days_to_first_contract);
    }
}

impl PipelineFigures {
    fn cells(&self, row: &mut Row) {
        row.push("applications", Cell::Count(self.applications));
        row.push("successful", Cell::Count(self.successful));
        row.push("unsuccessful", Cell::Count(self.unsuccessful));
        row.push(
            "success_rate",
            Cell::Ratio(ratio(self.successful, self.successful + self.unsuccessful)),
        );
        row.push("awards", Cell::Count(self.awards));
        row.push("progressed", Cell::Count(self.progressed));
        row.push(
            "progression_rate",
            Cell::Ratio(ratio(self.progressed, self.awards)),
        );
        row.push("adopted", Cell::Count(self.adopted));
        row.push(
            "adoption_rate",
            Cell::Ratio(ratio(self.adopted, self.awards)),
        );
        row.push(
            "challenges_contracted",
            Cell::Count(i64::try_from(self.days_to_first_contract.len()).unwrap_or(i64::MAX)),
        );
        row.push(
            "median_days_to_first_contract",
            Cell::Ratio(median(self.days_to_first_contract.clone())),
        );
    }
}

const PIPELINE_COLUMNS: [&str; 11] = [
    "applications",
    "successful",
    "unsuccessful",
    "success_rate",
    "awards",
    "progressed",
    "progression_rate",
    "adopted",
    "adoption_rate",
    "challenges_contracted",
    "median_days_to_first_contract",
];

report_endpoints! {
    /// Pipeline: applications, success rates, progression and adoption.
    ///
    /// Per group: applications submitted, decided successful and unsuccessful, and the success
    /// rate; awards, how many progressed (the supplier won the next phase: an award whose
    /// `parent_award_id` is this one), and how many were adopted (a trial of it, or of a later
    /// award in its line, was adopted: a follow-on contract); the median days from a challenge's
    /// opening to its first contract. Grouped by `phase` (its number: the default, giving Phase 1
    /// → Phase 2 progression on the row of phase 1 and Phase 2 → adoption on the row of phase 2),
    /// `programme`, `challenge`, `owner`. The totals add `phase_1_to_phase_2_rate` and
    /// `phase_2_to_adoption_rate`.
    pipeline_report at "/reports/pipeline", pipeline_report_csv at "/reports/pipeline.csv",
    schema = catalyst_api::reports::PipelineReport,
    answer = pipeline_answer,
    csv_summary = "Pipeline, as CSV: the same rows, a line each after a header."
}

async fn pipeline_answer(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut asked = ask(&request, caller.actor(), &PIPELINE)?;
    // Here `phase` is a phase's number across challenges.
    for dimension in &mut asked.group_by {
        if *dimension == Dimension::Phase {
            *dimension = Dimension::PhaseNumber;
        }
    }
    let (asked, columns, rows, totals) = state
        .with_read_connection(move |connection| {
            let awards = store::award_facts(connection, &asked.filter)?;
            let applications = store::application_facts(connection, &asked.filter)?;
            let trials = store::trial_facts(connection, &ReportFilter::default())?;
            let grouped = pipeline(&asked, &awards, &applications, &trials);
            let (columns, rows, mut totals) = tabulate(
                connection,
                &asked,
                &grouped,
                &PIPELINE_COLUMNS,
                Money::None,
                |figures: &PipelineFigures, row: &mut Row, _: &str| figures.cells(row),
            )?;
            let mut by_number: BTreeMap<i32, PipelineFigures> = BTreeMap::new();
            let mut per_phase = asked.clone();
            per_phase.group_by = vec![Dimension::PhaseNumber];
            for (key, figures) in pipeline(&per_phase, &awards, &applications, &trials).rows {
                if let Some(number) = key.first().and_then(|number| number.parse().ok()) {
                    by_number.insert(number, figures);
                }
            }
            let rate = |number: i32, adopted: bool| {
                by_number.get(&number).and_then(|figures| {
                    ratio(
                        if adopted {
                            figures.adopted
                        } else {
                            figures.progressed
                        },
                        figures.awards,
                    )
                })
            };
            if let Some(total) = totals.first_mut() {
                total.push("phase_1_to_phase_2_rate", Cell::Ratio(rate(1, false)));
                total.push("phase_2_to_adoption_rate", Cell::Ratio(rate(2, true)));
            }
            Ok((asked.clone(), columns, rows, totals))
        })
        .await?;
    respond("pipeline", &asked, &columns, rows, totals)
}

fn pipeline(
    asked: &Asked,
    awards: &[AwardFact],
    applications: &[store::ApplicationFact],
    trials: &[store::TrialFact],
) -> Grouped<PipelineFigures> {
    let mut grouped = Grouped::default();
    for application in applications {
        // Drafts were never made; a date range counts applications by submission.
        let Some(submitted) = application.submitted_on else {
            continue;
        };
        if !asked.covers(submitted) {
            continue;
        }
        let place = Place {
            programme: Some(&application.programme_id),
            challenge: Some(&application.challenge_id),
            phase: Some(&application.phase_id),
            phase_number: Some(application.phase_number),
            owner: Some(&application.owner_id),
            day: Some(submitted),
            ..Place::default()
        };
        grouped.add(
            place.key(&asked.group_by, None),
            &PipelineFigures {
                applications: 1,
                successful: i64::from(application.status == "successful"),
                unsuccessful: i64::from(application.status == "unsuccessful"),
                ..PipelineFigures::default()
            },
        );
    }
    // Lineage: each award's children (the next phase's awards naming it as parent), and whether
    // a trial of it was adopted.
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for award in awards {
        if let Some(parent) = &award.parent_award_id {
            children.entry(parent.as_str()).or_default().push(&award.id);
        }
    }
    let adopted_here: HashSet<&str> = trials
        .iter()
        .filter(|trial| trial.adopted == Some(true))
        .filter_map(|trial| trial.award_id.as_deref())
        .collect();
    let adopted = |award: &str| {
        let mut stack = vec![award];
        let mut seen = HashSet::new();
        while let Some(next) = stack.pop() {
            if adopted_here.contains(next) {
                return true;
            }
            if seen.insert(next) {
                stack.extend(children.get(next).into_iter().flatten().copied());
            }
        }
        false
    };
    let mut first_contract: HashMap<&str, &AwardFact> = HashMap::new();
    for award in awards
        .iter()
        .filter(|award| stands(award) && asked.covers(award.awarded_on))
    {
        let place = Place::of_award(award, award.awarded_on);
        grouped.add(
            place.key(&asked.group_by, None),
            &PipelineFigures {
                awards: 1,
                progressed: i64::from(children.contains_key(award.id.as_str())),
                adopted: i64::from(adopted(&award.id)),
                ..PipelineFigures::default()
            },
        );
        let first = first_contract.entry(&award.challenge_id).or_insert(award);
        if (award.awarded_on, &award.id) < (first.awarded_on, &first.id) {
            *first = award;
        }
    }
    // Each challenge's wait for its first contract goes to the row of that contract.
    for award in first_contract.values() {
        if let Some(opened) = award.challenge_opens_at {
            let days = (award.awarded_on - opened.date()).num_days();
            grouped.add(
                Place::of_award(award, award.awarded_on).key(&asked.group_by, None),
                &PipelineFigures {
                    days_to_first_contract: vec![days],
                    ..PipelineFigures::default()
                },
            );
        }
    }
    grouped
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(pipeline_report).service(pipeline_report_csv);
}
