//! The supplier funnel: how suppliers enter public bodies' supply chains, stage by stage, from
//! applying to a challenge to having a solution adopted. The question the Transport Technology
//! Forum / Innovate UK study asks, answered by supplier scale.

use std::collections::BTreeSet;

use super::*;
use catalyst_persistence::reports::{FunnelFacts, FunnelStage};

/// The suppliers at each stage (a supplier counts once per stage and group; sets, so that
/// totals count each supplier once however many groups it is in). A supplier is known by a
/// number given per request: sets of numbers merge without comparing or copying ids.
#[derive(Debug, Clone, Default, PartialEq)]
struct Funnel {
    applied: BTreeSet<u32>,
    phase_1: BTreeSet<u32>,
    phase_2: BTreeSet<u32>,
    trialled: BTreeSet<u32>,
    adopted: BTreeSet<u32>,
}

impl Figures for Funnel {
    fn add(&mut self, other: &Self) {
        self.applied.extend(&other.applied);
        self.phase_1.extend(&other.phase_1);
        self.phase_2.extend(&other.phase_2);
        self.trialled.extend(&other.trialled);
        self.adopted.extend(&other.adopted);
    }
}

const FUNNEL_COLUMNS: [&str; 9] = [
    "suppliers_applied",
    "contracted_phase_1",
    "contracted_phase_2",
    "trialled",
    "adopted",
    "applied_to_phase_1_rate",
    "phase_1_to_phase_2_rate",
    "phase_2_to_trial_rate",
    "trial_to_adoption_rate",
];

fn size(set: &BTreeSet<u32>) -> i64 {
    i64::try_from(set.len()).unwrap_or(i64::MAX)
}

impl Funnel {
    fn cells(&self, row: &mut Row) {
        let (applied, one, two) = (
            size(&self.applied),
            size(&self.phase_1),
            size(&self.phase_2),
        );
        let (trialled, adopted) = (size(&self.trialled), size(&self.adopted));
        row.push("suppliers_applied", Cell::Count(applied));
        row.push("contracted_phase_1", Cell::Count(one));
        row.push("contracted_phase_2", Cell::Count(two));
        row.push("trialled", Cell::Count(trialled));
        row.push("adopted", Cell::Count(adopted));
        row.push("applied_to_phase_1_rate", Cell::Ratio(ratio(one, applied)));
        row.push("phase_1_to_phase_2_rate", Cell::Ratio(ratio(two, one)));
        row.push("phase_2_to_trial_rate", Cell::Ratio(ratio(trialled, two)));
        row.push(
            "trial_to_adoption_rate",
            Cell::Ratio(ratio(adopted, trialled)),
        );
    }

    fn stage(&mut self, stage: FunnelStage) -> &mut BTreeSet<u32> {
        match stage {
            FunnelStage::Applied => &mut self.applied,
            FunnelStage::PhaseOne => &mut self.phase_1,
            FunnelStage::PhaseTwo => &mut self.phase_2,
            FunnelStage::Trialled => &mut self.trialled,
            FunnelStage::Adopted => &mut self.adopted,
        }
    }
}

report_endpoints! {
    /// Supplier funnel: how many suppliers applied, were contracted in Phase 1, in Phase 2 (or
    /// later), trialled a solution and had it adopted.
    ///
    /// A supplier counts at a stage once per group: applied (an application submitted),
    /// contracted in Phase 1 or in Phase 2 and later (an award of that phase), trialled (a trial
    /// of one of its awards), adopted (such a trial adopted). Each stage's rate is its count over
    /// the stage before. `group_by` any of `supplier_scale` (default), `programme`, `owner`; a
    /// supplier working with two owners counts in both rows and once in the totals. Dates
    /// (`from`, `to`, `financial_year`) apply to each stage's own day: submission, the award's
    /// start, the trial's start.
    funnel_report at "/reports/funnel", funnel_report_csv at "/reports/funnel.csv",
    chart funnel_report_svg at "/reports/funnel.svg",
    schema = catalyst_api::reports::FunnelReport,
    answer = funnel_answer,
    csv_summary = "Supplier funnel, as CSV: the same rows, a line each after a header."
}

async fn funnel_answer(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let asked = ask(&request, caller.actor(), &FUNNEL)?;
    // Applications on one connection while awards and trials are read on another: the two
    // largest scans run at once, so one report waits for the longer, not for both.
    let read = |facts: &'static [FunnelFacts]| {
        let asked = asked.clone();
        state.with_read_connection(move |connection| {
            let mut found = Vec::new();
            for facts in facts {
                let (filter, period) = (&asked.filter, asked.period());
                found.extend(store::funnel_suppliers(
                    connection,
                    *facts,
                    filter,
                    period,
                    &asked.group_by,
                )?);
            }
            Ok(found)
        })
    };
    let (applicants, contracted) = futures_util::future::try_join(
        read(&[FunnelFacts::Applications]),
        read(&[FunnelFacts::Awards, FunnelFacts::Trials]),
    )
    .await?;
    let (asked, columns, rows, totals) = state
        .with_read_connection(move |connection| {
            let mut grouped: Grouped<Funnel> = Grouped::default();
            let mut numbers: HashMap<&str, u32> = HashMap::new();
            for found in applicants.iter().chain(&contracted) {
                let next = u32::try_from(numbers.len()).unwrap_or(u32::MAX);
                let number = *numbers.entry(&found.supplier_id).or_insert(next);
                let funnel = grouped.rows.entry(found.key.clone()).or_default();
                funnel.stage(found.stage).insert(number);
            }
            let (columns, rows, totals) = tabulate(
                connection,
                &asked,
                &grouped,
                &FUNNEL_COLUMNS,
                Money::None,
                |figures: &Funnel, row: &mut Row, _: &str| figures.cells(row),
            )?;
            Ok((asked.clone(), columns, rows, totals))
        })
        .await?;
    respond("funnel", &asked, &columns, rows, totals)
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(funnel_report)
        .service(funnel_report_csv)
        .service(funnel_report_svg);
}
