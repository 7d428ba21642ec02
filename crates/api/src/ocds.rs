//! Open Contracting Data Standard 1.1 releases made from a contracting process's records: each
//! phase of a published challenge is one process, its release holding the tender, the awards and
//! their contracts, the contracts' milestones, and the payments as implementation transactions;
//! a later phase names the one before as a `prior` related process. The http crate's
//! `read_models/ocds.rs` reads the processes and serves the packages.

use std::collections::{BTreeMap, HashMap};

use catalyst_domain::{
    Award, AwardStatus, Challenge, ChallengeStatus, Milestone, MilestoneKind, MilestoneStatus,
    Money, Organisation, Phase, PhaseStatus, Programme, Timestamp,
};
use chrono::NaiveDate;
use serde_json::{json, Value};

/// A contracting process's facts, as read from the stores.
pub struct Process {
    pub phase: Phase,
    pub previous: Option<Phase>,
    pub challenge: Challenge,
    pub programme: Programme,
    pub awards: Vec<(Award, Vec<Milestone>)>,
    pub organisations: HashMap<String, Organisation>,
}

/// `2019-08-01T00:00:00Z`: OCDS dates are date-times.
fn day_time(day: NaiveDate) -> String {
    format!("{day}T00:00:00Z")
}

/// A moment as OCDS writes it (whole seconds, UTC).
pub fn time(at: Timestamp) -> String {
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
pub fn release(prefix: &str, process: &Process) -> Value {
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
    let fingerprint = crate::fingerprint(&release.to_string());
    release["id"] = Value::String(format!("{ocid}-{fingerprint}"));
    release
}

pub fn publisher() -> Value {
    json!({"name": "Catalyst", "uri": "https://github.com/catalyst-sbri/catalyst"})
}
