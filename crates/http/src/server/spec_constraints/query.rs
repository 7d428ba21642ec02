//! Query parameters: the closed sets and shapes (lists, sorts) the server checks, written into
//! each operation's parameters.

use super::*;

/// Query parameters whose values are a closed set or have a shape the server checks.
pub(super) fn constrain_query_parameters(document: &mut Value) {
    let (_, _, search_pattern) = constraints(Rule::Line(200), false);
    for_each_parameter(document, |path, parameter| {
        if parameter["in"] != "query" {
            return;
        }
        let schema = match (path, parameter["name"].as_str().unwrap_or("")) {
            (_, "region") => json!({ "$ref": "#/components/schemas/Region" }),
            (_, "updated_since") => json!({ "type": "string", "format": "date-time" }),
            (_, "q") => json!({ "type": "string", "pattern": search_pattern }),
            ("/api/v1/imports", "collection") => json!({
                "type": "string",
                "enum": catalyst_domain::ImportCollection::ALL
                    .iter()
                    .map(|collection| collection.as_str())
                    .collect::<Vec<_>>(),
            }),
            ("/api/v1/imports", "mode") => {
                json!({ "type": "string", "enum": ["all_or_nothing", "partial"] })
            }
            ("/api/v1/imports", "format") => {
                json!({ "type": "string", "enum": ["ndjson", "csv"] })
            }
            ("/api/v1/imports/{id}/results", "outcome") => json!({
                "type": "string",
                "enum": ["created", "updated", "unchanged", "rejected"],
            }),
            (exports, "format") if exports.starts_with("/api/v1/exports/") => {
                json!({ "type": "string", "enum": ["csv", "ndjson"] })
            }
            (reports, "format")
                if reports.starts_with("/api/v1/reports/")
                    || reports == "/api/v1/organisations/{id}/journey" =>
            {
                json!({ "type": "string", "enum": ["json", "csv"] })
            }
            ("/api/v1/changes", "entity") => json!({
                "type": "string",
                "pattern": list_pattern(&crate::read_models::changes::ENTITIES, false),
            }),
            (reports, "group_by") if reports.starts_with("/api/v1/reports/") => {
                let report = reports
                    .strip_suffix(".csv")
                    .or_else(|| reports.strip_suffix(".svg"))
                    .unwrap_or(reports);
                let Some(grouping) = crate::read_models::reports::GROUPINGS
                    .iter()
                    .find(|grouping| report == format!("/api/v1{}", grouping.path))
                else {
                    return;
                };
                json!({ "type": "string", "pattern": list_pattern(grouping.dimensions, true) })
            }
            (reports, "financial_year") if reports.starts_with("/api/v1/reports/") => {
                json!({
                    "type": "string",
                    "pattern": format!(
                        "^{SPACE}*{}{SPACE}*$",
                        catalyst_domain::report::FinancialYear::pattern()
                    ),
                })
            }
            ("/api/v1/organisations/{id}/contacts", "sort") => json!({
                "type": "string",
                "pattern": sort_pattern(&["name", "created_at", "updated_at", "id"]),
            }),
            ("/api/v1/trials/{id}/outcomes", "sort") => json!({
                "type": "string",
                "pattern": sort_pattern(&["created_at", "updated_at", "id"]),
            }),
            _ => return,
        };
        parameter["schema"] = schema;
    });
}

/// Calls `visit` with each operation's path and each of its parameters.
pub(super) fn for_each_parameter(document: &mut Value, mut visit: impl FnMut(&str, &mut Value)) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let parameters = item
            .as_object_mut()
            .into_iter()
            .flat_map(|item| item.values_mut())
            .filter_map(|operation| {
                operation
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut)
            })
            .flatten();
        for parameter in parameters {
            visit(path, parameter);
        }
    }
}

/// Comma-separated names, each with spaces around it or not; `empty_items` when an empty item
/// (and so an empty list) is allowed and ignored.
pub(super) fn list_pattern(names: &[&str], empty_items: bool) -> String {
    let name = format!(
        "{SPACE}*({}){}{SPACE}*",
        names.join("|"),
        if empty_items { "?" } else { "" }
    );
    format!("^{name}(,{name})*$")
}

/// Comma-separated keys, each optionally prefixed with `-` (descending) or `+`.
pub(super) fn sort_pattern(keys: &[&str]) -> String {
    let key = format!("[-+]?({})", keys.join("|"));
    format!("^{key}(,{key})*$")
}
