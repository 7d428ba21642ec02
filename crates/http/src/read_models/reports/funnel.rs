//! The supplier funnel: how suppliers enter public bodies' supply chains, stage by stage, from
//! applying to a challenge to having a solution adopted. The question the Transport Technology
//! Forum / Innovate UK study asks, answered by supplier scale.

use std::collections::BTreeSet;

use super::*;
use catalyst_persistence::reports::FunnelStage;

/// The suppliers at each stage, by id (a supplier counts once per stage and group; sets, so
/// that totals count each supplier once however many groups it is in).
#[derive(Debug, Clone, Default, PartialEq)]
struct Funnel {
    applied: BTreeSet<String>,
    phase_1: BTreeSet<String>,
    phase_2: BTreeSet<String>,
    trialled: BTreeSet<String>,
    adopted: BTreeSet<String>,
}

impl Figures for Funnel {
    fn add(&mut self, other: &Self) {
        self.applied.extend(other.applied.iter().cloned());
        self.phase_1.extend(other.phase_1.iter().cloned());
        self.phase_2.extend(other.phase_2.iter().cloned());
        self.trialled.extend(other.trialled.iter().cloned());
        self.adopted.extend(other.adopted.iter().cloned());
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

fn size(set: &BTreeSet<String>) -> i64 {
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

    fn of(stage: FunnelStage, supplier: String) -> Funnel {
        let mut funnel = Funnel::default();
        let suppliers = match stage {
            FunnelStage::Applied => &mut funnel.applied,
            FunnelStage::PhaseOne => &mut funnel.phase_1,
            FunnelStage::PhaseTwo => &mut funnel.phase_2,
            FunnelStage::Trialled => &mut funnel.trialled,
            FunnelStage::Adopted => &mut funnel.adopted,
        };
        suppliers.insert(supplier);
        funnel
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
    schema = crate::read_models::report_schemas::FunnelReport,
    answer = funnel_answer,
    csv_summary = "Supplier funnel, as CSV: the same rows, a line each after a header."
}

async fn funnel_answer(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let asked = ask(&request, caller.actor(), &FUNNEL)?;
    let (asked, columns, rows, totals) = state
        .with_read_connection(move |connection| {
            let suppliers = store::funnel_suppliers(
                connection,
                &asked.filter,
                asked.period(),
                &asked.group_by,
            )?;
            let mut grouped: Grouped<Funnel> = Grouped::default();
            for found in suppliers {
                grouped.add(found.key, &Funnel::of(found.stage, found.supplier_id));
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
