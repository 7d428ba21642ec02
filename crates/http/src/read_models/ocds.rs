//! Open Contracting Data Standard 1.1: `/api/v1/ocds/releases` (a release package) and
//! `/api/v1/ocds/records/{ocid}` (a record package with its compiled release).
//!
//! Each phase of a published challenge is one contracting process (an SBRI phase is its own
//! competition): `ocid` = the configured prefix + the phase's id. Its release holds the tender
//! (the challenge's problem in that phase, its budget and dates), the awards and their
//! contracts, the contracts' milestones, and the payments as implementation transactions. A
//! later phase names the one before as a `prior` related process. Drafts are never published.

use std::collections::{BTreeMap, HashMap};

use actix_web::{get, web, HttpRequest, HttpResponse};
use catalyst_domain::{
    Award, AwardStatus, Challenge, ChallengeStatus, Milestone, MilestoneKind, MilestoneStatus,
    Money, Organisation, Phase, PhaseId, PhaseStatus, Programme, Timestamp,
};
use catalyst_persistence::challenges::Visibility;
use catalyst_persistence::keyset::Sort;
use catalyst_persistence::phases::{PhaseFilter, PhaseSortField};
use catalyst_persistence::{
    awards, challenges, milestones, organisations, phases, programmes, DbConnection, StoreError,
};
use chrono::NaiveDate;
use serde_json::{json, Value};
use utoipa::IntoParams;

use crate::extract::pagination::{decode_cursor, encode_cursor, KeyKind};
use crate::extract::query::QueryParams;
use crate::problem::{ApiError, ProblemItem};
use crate::server::state::AppState;

pub const TAG: &str = "ocds";

const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 20;
/// Cursors of the release list (one order, no filters).
const CURSOR_SCOPE: &str = "ocds-releases";

/// A process's facts, read from the stores.
struct Process {
    phase: Phase,
    previous: Option<Phase>,
    challenge: Challenge,
    programme: Programme,
    awards: Vec<(Award, Vec<Milestone>)>,
    organisations: HashMap<String, Organisation>,
}

fn not_found() -> ApiError {
    ApiError::NotFound("no published contracting process has this ocid".to_owned())
}

/// Reads one phase's process, if its challenge is published.
fn load(connection: &mut DbConnection, phase: Phase) -> Result<Option<Process>, ApiError> {
    let challenge = challenges::find(connection, phase.fields.challenge_id)?;
    if !challenge.is_published() {
        return Ok(None);
    }
    let programme = programmes::find(connection, challenge.fields.programme_id)?;
    let previous = if phase.fields.number > 1 {
        phases::find_by_number(connection, challenge.id, phase.fields.number - 1)?
    } else {
        None
    };
    let mut found = Vec::new();
    let mut after = None;
    let sort = Sort::ascending(awards::AwardSortField::Id);
    loop {
        let page = awards::list(
            connection,
            &awards::AwardFilter {
                phase_id: Some(phase.id),
                ..awards::AwardFilter::default()
            },
            &sort,
            after.as_ref(),
            500,
        )?;
        found.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // Every milestone of the phase's awards in one query, not one per award.
    let award_ids: Vec<_> = found.iter().map(|award| award.id).collect();
    let mut by_award: HashMap<_, Vec<Milestone>> = HashMap::new();
    for milestone in milestones::all_of_awards(connection, &award_ids)? {
        by_award
            .entry(milestone.fields.award_id)
            .or_default()
            .push(milestone);
    }
    let with_milestones: Vec<(Award, Vec<Milestone>)> = found
        .into_iter()
        .map(|award| {
            let milestones = by_award.remove(&award.id).unwrap_or_default();
            (award, milestones)
        })
        .collect();
    let mut ids = vec![
        challenge.fields.owner_organisation_id,
        programme.fields.funder_organisation_id,
    ];
    ids.extend(
        with_milestones
            .iter()
            .map(|(award, _)| award.fields.supplier_organisation_id),
    );
    let mut organisations = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(entry) =
            organisations.entry(id.to_string())
        {
            entry.insert(organisations::find(connection, id)?);
        }
    }
    Ok(Some(Process {
        phase,
        previous,
        challenge,
        programme,
        awards: with_milestones,
        organisations,
    }))
}

/// `2019-08-01T00:00:00Z`: OCDS dates are date-times.
fn day_time(day: NaiveDate) -> String {
    format!("{day}T00:00:00Z")
}

fn time(at: Timestamp) -> String {
    at.as_datetime().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// OCDS values are in major units.
fn value(money: Money) -> Value {
    #[allow(clippy::cast_precision_loss)] // Pence far below 2^52.
    let amount = money.minor_units() as f64 / 100.0;
    json!({"amount": amount, "currency": money.currency().code()})
}

fn period(start: Option<String>, end: Option<String>) -> Value {
    let mut period = serde_json::Map::new();
    if let Some(start) = start {
        period.insert("startDate".to_owned(), Value::String(start));
    }
    if let Some(end) = end {
        period.insert("endDate".to_owned(), Value::String(end));
    }
    Value::Object(period)
}

/// A party's id: its registered identifier where it has one (as org-id.guide spells it), or
/// its Catalyst id.
fn party_id(organisation: &Organisation) -> String {
    match &organisation.fields.identifier {
        Some(identifier) => format!("{}-{}", identifier.scheme.as_str(), identifier.id),
        None => organisation.id.to_string(),
    }
}

fn reference(organisation: &Organisation) -> Value {
    json!({"id": party_id(organisation), "name": organisation.fields.name})
}

/// OCDS party scale: micro, sme or large.
fn scale(organisation: &Organisation) -> Option<&'static str> {
    use catalyst_domain::Scale;
    organisation.fields.scale.map(|scale| match scale {
        Scale::Micro => "micro",
        Scale::Small | Scale::Medium => "sme",
        Scale::Large => "large",
    })
}

fn tender_status(phase: &Phase, challenge: &Challenge) -> &'static str {
    if challenge.status == ChallengeStatus::Cancelled || phase.status == PhaseStatus::Cancelled {
        return "cancelled";
    }
    match phase.status {
        PhaseStatus::Planned => "planned",
        PhaseStatus::Open => "active",
        _ => "complete",
    }
}

fn award_status(award: &Award) -> &'static str {
    match award.status {
        AwardStatus::Terminated => "cancelled",
        _ => "active",
    }
}

fn contract_status(award: &Award) -> &'static str {
    match award.status {
        AwardStatus::Active => "active",
        _ => "terminated",
    }
}

fn milestone_type(kind: MilestoneKind) -> &'static str {
    match kind {
        MilestoneKind::Delivery => "delivery",
        MilestoneKind::Report => "reporting",
        MilestoneKind::Payment => "payment",
    }
}

fn milestone_status(status: MilestoneStatus) -> &'static str {
    match status {
        MilestoneStatus::Paid => "met",
        MilestoneStatus::Withheld => "notMet",
        _ => "scheduled",
    }
}

/// The release of a process: its current state (a compiled release), tagged with the stages
/// it has reached. Its id changes whenever its content does.
fn release(prefix: &str, process: &Process) -> Value {
    let Process {
        phase,
        previous,
        challenge,
        programme,
        awards,
        organisations,
    } = process;
    let ocid = format!("{prefix}-{}", phase.id);
    let organisation = |id: String| organisations.get(&id);
    let owner = organisation(challenge.fields.owner_organisation_id.to_string());
    let funder = organisation(programme.fields.funder_organisation_id.to_string());

    // Parties, each once, with every role it plays.
    let mut parties: BTreeMap<String, (Value, Vec<&'static str>)> = BTreeMap::new();
    let mut play = |organisation: Option<&Organisation>, roles: &[&'static str]| {
        if let Some(organisation) = organisation {
            let entry = parties.entry(party_id(organisation)).or_insert_with(|| {
                let mut party =
                    json!({"id": party_id(organisation), "name": organisation.fields.name});
                if let Some(identifier) = &organisation.fields.identifier {
                    party["identifier"] = json!({
                        "scheme": identifier.scheme.as_str(),
                        "id": identifier.id,
                        "legalName": organisation.fields.name,
                    });
                }
                if let Some(scale) = scale(organisation) {
                    party["details"] = json!({"scale": scale});
                }
                (party, Vec::new())
            });
            for role in roles {
                if !entry.1.contains(role) {
                    entry.1.push(role);
                }
            }
        }
    };
    play(owner, &["buyer", "procuringEntity"]);
    play(funder, &["funder"]);

    let mut latest = phase.updated_at.max(challenge.updated_at);
    let mut award_list = Vec::new();
    let mut contracts = Vec::new();
    for (award, milestones) in awards {
        latest = latest.max(award.updated_at);
        let supplier = organisation(award.fields.supplier_organisation_id.to_string());
        play(supplier, &["supplier", "tenderer"]);
        if milestones.iter().any(|m| m.status == MilestoneStatus::Paid) {
            play(supplier, &["payee"]);
            play(owner, &["payer"]);
        }
        let contract_period = period(
            award.fields.starts_on.map(day_time),
            award.fields.ends_on.map(day_time),
        );
        award_list.push(json!({
            "id": award.id.to_string(),
            "title": award.fields.contract_reference,
            "status": award_status(award),
            "date": time(award.created_at),
            "value": value(award.fields.amount),
            "suppliers": supplier.map(reference).into_iter().collect::<Vec<_>>(),
            "contractPeriod": contract_period,
        }));
        let mut milestone_list = Vec::new();
        let mut transactions = Vec::new();
        for milestone in milestones {
            latest = latest.max(milestone.updated_at);
            let mut entry = json!({
                "id": milestone.id.to_string(),
                "title": milestone.fields.title,
                "type": milestone_type(milestone.fields.kind),
                "status": milestone_status(milestone.status),
                "dateModified": time(milestone.updated_at),
            });
            if let Some(due) = milestone.fields.due_on {
                entry["dueDate"] = Value::String(day_time(due));
            }
            if let (MilestoneStatus::Paid, Some(paid_on)) = (milestone.status, milestone.paid_on) {
                entry["dateMet"] = Value::String(day_time(paid_on));
                if let Some(amount) = milestone.fields.amount {
                    transactions.push(json!({
                        "id": milestone.id.to_string(),
                        "date": day_time(paid_on),
                        "value": value(amount),
                        "payer": owner.map(reference),
                        "payee": supplier.map(reference),
                    }));
                }
            }
            milestone_list.push(entry);
        }
        let mut contract = json!({
            "id": award.id.to_string(),
            "awardID": award.id.to_string(),
            "title": award.fields.contract_reference,
            "status": contract_status(award),
            "value": value(award.fields.amount),
            "period": period(award.fields.starts_on.map(day_time), award.fields.ends_on.map(day_time)),
            "milestones": milestone_list,
        });
        if let Some(start) = award.fields.starts_on {
            contract["dateSigned"] = Value::String(day_time(start));
        }
        if !transactions.is_empty() {
            contract["implementation"] = json!({"transactions": transactions});
        }
        contracts.push(contract);
    }

    let mut tags = vec!["tender"];
    if !award_list.is_empty() {
        tags.extend(["award", "contract"]);
    }
    if contracts
        .iter()
        .any(|contract| contract.get("implementation").is_some())
    {
        tags.push("implementation");
    }
    let tender = json!({
        "id": phase.id.to_string(),
        "title": format!("{}: {} (phase {}, {})", challenge.fields.reference, challenge.fields.title, phase.fields.number, phase.fields.kind),
        "description": challenge.fields.problem_statement,
        "status": tender_status(phase, challenge),
        "procuringEntity": owner.map(reference),
        "value": value(phase.fields.budget),
        "procurementMethod": if phase.fields.open_to_all { "open" } else { "selective" },
        "procurementMethodDetails": format!("Small Business Research Initiative, phase {} ({})", phase.fields.number, phase.fields.kind),
        "mainProcurementCategory": "services",
        "tenderPeriod": period(challenge.fields.opens_at.map(time), challenge.fields.closes_at.map(time)),
        "contractPeriod": period(phase.fields.starts_on.map(day_time), phase.fields.ends_on.map(day_time)),
        "numberOfTenderers": award_list.len(),
        "documents": challenge.fields.documents.iter().enumerate().map(|(index, document)| json!({
            "id": (index + 1).to_string(),
            "documentType": "tenderNotice",
            "title": document.title,
            "url": document.url,
        })).collect::<Vec<_>>(),
    });
    let parties: Vec<Value> = parties
        .into_values()
        .map(|(mut party, roles)| {
            party["roles"] = json!(roles);
            party
        })
        .collect();
    let mut release = json!({
        "ocid": ocid,
        "date": time(latest),
        "tag": tags,
        "initiationType": "tender",
        "language": "en",
        "parties": parties,
        "buyer": owner.map(reference),
        "tender": tender,
        "awards": award_list,
        "contracts": contracts,
    });
    if let Some(previous) = previous {
        release["relatedProcesses"] = json!([{
            "id": "1",
            "relationship": ["prior"],
            "title": format!("{} phase {}", challenge.fields.reference, previous.fields.number),
            "scheme": "ocid",
            "identifier": format!("{prefix}-{}", previous.id),
        }]);
    }
    // The id names this state: a release is never changed, a new state is a new release.
    let fingerprint = crate::extract::pagination::fingerprint(&release.to_string());
    release["id"] = Value::String(format!("{ocid}-{fingerprint}"));
    release
}

fn publisher() -> Value {
    json!({"name": "Catalyst", "uri": "https://github.com/catalyst-sbri/catalyst"})
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `QueryParams` parses them.
pub struct ReleaseParams {
    /// Processes per package: 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<i64>,
    /// The `links.next` of the previous package carries it.
    cursor: Option<String>,
}

/// OCDS releases: one per contracting process (each phase of a published challenge), as a
/// release package.
///
/// Pages through the processes in id order: `links.next` is the next page. Validates against
/// the OCDS 1.1.5 release package schema. Public: only published data.
#[utoipa::path(
    tag = TAG, operation_id = "ocds_releases", params(ReleaseParams),
    responses(
        (status = 200, description = "A release package", content_type = "application/json", body = Object),
        (status = 400, description = "A bad limit or cursor"),
    )
)]
#[get("/ocds/releases")]
pub async fn ocds_releases(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = QueryParams::parse(&request, &["limit", "cursor"])?;
    let limit = match params.get("limit") {
        None => DEFAULT_PAGE,
        Some(text) => match text.parse::<usize>() {
            Ok(limit) if (1..=MAX_PAGE).contains(&limit) => limit,
            _ => {
                return Err(ApiError::InvalidQuery(vec![ProblemItem::parameter(
                    "limit",
                    "invalid_limit",
                    format!("limit is a whole number from 1 to {MAX_PAGE}"),
                )]))
            }
        },
    };
    let after = params
        .get("cursor")
        .map(|cursor| {
            decode_cursor(cursor, CURSOR_SCOPE, &[KeyKind::Text])
                .map_err(|problem| ApiError::InvalidQuery(vec![problem]))
        })
        .transpose()?;
    let prefix = state.ocid_prefix.clone();
    let (releases, next) = state
        .with_read_connection(move |connection| {
            let page = phases::list(
                connection,
                &Visibility::PublishedAnd(Vec::new()),
                &PhaseFilter::default(),
                &Sort::ascending(PhaseSortField::Id),
                after.as_ref(),
                limit,
            )?;
            let mut releases = Vec::new();
            for phase in page.items {
                if let Some(process) = load(connection, phase)? {
                    releases.push(release(&prefix, &process));
                }
            }
            Ok((releases, page.next))
        })
        .await?;
    let base = crate::extract::links::base_url(&request);
    let mut package = json!({
        "uri": format!("{base}{}", request.uri()),
        "version": "1.1",
        "publishedDate": time(Timestamp::now()),
        "publisher": publisher(),
        "releases": releases,
    });
    if let Some(next) = next {
        let cursor = encode_cursor(&next, CURSOR_SCOPE);
        package["links"] =
            json!({"next": format!("{base}/api/v1/ocds/releases?limit={limit}&cursor={cursor}")});
    }
    Ok(HttpResponse::Ok().json(package))
}

/// One contracting process as an OCDS record package: its release and the compiled release.
#[utoipa::path(
    tag = TAG, operation_id = "ocds_record",
    params(("ocid" = String, Path, description = "The process's Open Contracting ID: the prefix and a phase's id")),
    responses(
        (status = 200, description = "A record package", content_type = "application/json", body = Object),
        (status = 404, description = "No published process has this ocid"),
    )
)]
#[get("/ocds/records/{ocid}")]
pub async fn ocds_record(
    request: HttpRequest,
    ocid: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let prefix = state.ocid_prefix.clone();
    let phase_id: PhaseId = ocid
        .strip_prefix(&format!("{prefix}-"))
        .and_then(|id| id.parse().ok())
        .ok_or_else(not_found)?;
    let compiled = state
        .with_read_connection(move |connection| {
            let phase = match phases::find(connection, phase_id) {
                Ok(phase) => phase,
                Err(StoreError::NotFound) => return Err(not_found()),
                Err(error) => return Err(error.into()),
            };
            let process = load(connection, phase)?.ok_or_else(not_found)?;
            Ok(release(&prefix, &process))
        })
        .await?;
    let base = crate::extract::links::base_url(&request);
    let package_url = format!("{base}/api/v1/ocds/records/{ocid}");
    let mut compiled_release = compiled.clone();
    compiled_release["tag"] = json!(["compiled"]);
    Ok(HttpResponse::Ok().json(json!({
        "uri": package_url,
        "version": "1.1",
        "publishedDate": time(Timestamp::now()),
        "publisher": publisher(),
        "records": [{
            "ocid": compiled_release["ocid"],
            "releases": [compiled],
            "compiledRelease": compiled_release,
        }],
    })))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(ocds_releases).service(ocds_record);
}
