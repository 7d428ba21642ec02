//! A small SBRI world for tests: Leeds and York councils, GDS funding the GovTech Catalyst, a
//! programme manager, officers of both councils, and suppliers.

use serde_json::{json, Value};

use super::{local_authority, Reply, TestServer};

pub struct World {
    pub leeds: String,
    pub york: String,
    pub programme: String,
    pub manager: String,
    pub leeds_officer: String,
    pub york_officer: String,
    /// (organisation id, a member's token), for each supplier.
    pub suppliers: Vec<(String, String)>,
}

pub fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

pub fn created(reply: Reply) -> Value {
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

pub fn ok(reply: Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// Organisations, people and the programme; `suppliers` SMEs with one member each.
pub fn world(server: &TestServer, suppliers: usize) -> World {
    let leeds = id(&created(server.post_json(
        "/api/v1/organisations",
        &local_authority("Leeds City Council"),
    )));
    let york = id(&created(server.post_json(
        "/api/v1/organisations",
        &local_authority("City of York Council"),
    )));
    let gds = id(&created(server.post_json(
        "/api/v1/organisations",
        &json!({"name": "Government Digital Service", "kind": "central_government"}),
    )));
    let (_, manager) = server.user("pm@catalyst.test", "programme_manager", &[]);
    let (_, leeds_officer) = server.user("officer@leeds.test", "authority_officer", &[&leeds]);
    let (_, york_officer) = server.user("officer@york.test", "authority_officer", &[&york]);
    let suppliers = (0..suppliers)
        .map(|index| {
            let organisation = id(&created(server.post_json(
                "/api/v1/organisations",
                &json!({"name": format!("Supplier {index}"), "kind": "sme", "scale": "small"}),
            )));
            let (_, token) = server.user(
                &format!("bid{index}@supplier.test"),
                "supplier",
                &[&organisation],
            );
            (organisation, token)
        })
        .collect();
    let programme = id(&created(server.send_json(
        "POST",
        "/api/v1/programmes",
        &json!({
            "code": "govtech-catalyst", "title": "GovTech Catalyst", "funder_organisation_id": gds,
            "budget": {"amount": 2_000_000_000i64, "currency": "GBP"}, "opens_on": "2017-11-22", "closes_on": "2021-03-31"
        }),
        Some(&manager),
    )));
    World {
        leeds,
        york,
        programme,
        manager,
        leeds_officer,
        york_officer,
        suppliers,
    }
}

pub fn leeds_challenge(world: &World) -> Value {
    json!({
        "programme_id": world.programme, "owner_organisation_id": world.leeds, "reference": "gtc-r3-leeds",
        "title": "Monitoring the condition of council housing",
        "problem_statement": "How might we use technology to monitor the condition of the council's housing stock?",
        "themes": ["Housing", "IoT"]
    })
}

pub fn phase(number: i32, starts_on: &str, budget: i64, max_award: i64) -> Value {
    json!({
        "number": number, "kind": if number == 1 { "feasibility" } else { "prototype" },
        "budget": {"amount": budget, "currency": "GBP"}, "max_award": {"amount": max_award, "currency": "GBP"},
        "starts_on": starts_on
    })
}

/// Moves `path` (a resource with transitions) to `to` as the holder of `token`.
pub fn transition(server: &TestServer, path: &str, to: &str, token: &str) -> Reply {
    server.send_json(
        "POST",
        &format!("{path}/transitions"),
        &json!({"to": to}),
        Some(token),
    )
}

pub fn gbp(pence: i64) -> Value {
    json!({"amount": pence, "currency": "GBP"})
}
