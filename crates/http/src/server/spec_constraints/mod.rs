//! The rules the domain applies to text, written into the spec's request schemas as `maxLength`
//! and `pattern`, so that every string a client may send has a documented limit and shape, and
//! a client (or a property-based test) can tell what will be accepted before sending it.
//!
//! The patterns mirror `catalyst_domain::text`: text is trimmed of white space (Rust's
//! `White_Space`), must then hold no control characters (multi-line text may keep tabs and line
//! breaks), and required text must not be blank. Lengths count characters as sent.

use serde_json::{json, Map, Value};

mod query;
mod text_rules;

use query::*;
use text_rules::*;

/// Each status-changing operation takes the statuses of its own entity.
const TRANSITIONS: &[(&str, &str)] = &[
    ("/api/v1/challenges/{id}/transitions", "ChallengeStatus"),
    ("/api/v1/phases/{id}/transitions", "PhaseStatus"),
    ("/api/v1/applications/{id}/transitions", "ApplicationStatus"),
    ("/api/v1/awards/{id}/transitions", "AwardStatus"),
    ("/api/v1/trials/{id}/transitions", "TrialStatus"),
    ("/api/v1/milestones/{id}/transitions", "MilestoneStatus"),
];

/// Writes the domain's rules into the spec (the JSON of the document): text limits and shapes
/// in every request schema, the statuses each transition takes, the members each token grant
/// needs, and the closed sets of values that are plain strings in the code.
pub fn constrain(document: &mut Value) {
    constrain_text(document);
    for (path, status) in TRANSITIONS {
        let pointer = format!(
            "/paths/{}/post/requestBody/content/application~1json/schema",
            path.replace('~', "~0").replace('/', "~1")
        );
        inline_request_schema(document, &pointer, |schema| {
            schema["properties"]["to"] =
                json!({ "$ref": format!("#/components/schemas/{status}") });
        });
    }
    let mut event_types = vec![json!("*")];
    for entity in catalyst_domain::webhook::EVENT_ENTITIES {
        event_types.push(json!(format!("{entity}.*")));
        for action in catalyst_domain::webhook::EVENT_ACTIONS {
            event_types.push(json!(format!("{entity}.{action}")));
        }
    }
    for schema in ["CreateWebhook", "UpdateWebhook"] {
        if let Some(items) = document.pointer_mut(&format!(
            "/components/schemas/{schema}/properties/event_types/items"
        )) {
            *items = json!({ "type": "string", "enum": event_types });
        }
        if let Some(list) = document
            .pointer_mut(&format!(
                "/components/schemas/{schema}/properties/event_types"
            ))
            .and_then(Value::as_object_mut)
        {
            list.insert("minItems".to_owned(), json!(1));
            list.insert("maxItems".to_owned(), json!(100));
        }
    }
    for (schema, member, most) in [
        (
            "CreateChallenge",
            "themes",
            catalyst_domain::challenge::MAX_THEMES,
        ),
        (
            "UpdateChallenge",
            "themes",
            catalyst_domain::challenge::MAX_THEMES,
        ),
        (
            "CreateChallenge",
            "documents",
            catalyst_domain::challenge::MAX_DOCUMENTS,
        ),
        (
            "UpdateChallenge",
            "documents",
            catalyst_domain::challenge::MAX_DOCUMENTS,
        ),
        ("CreateTrial", "sites", catalyst_domain::trial::MAX_SITES),
        ("UpdateTrial", "sites", catalyst_domain::trial::MAX_SITES),
    ] {
        if let Some(list) = document
            .pointer_mut(&format!("/components/schemas/{schema}/properties/{member}"))
            .and_then(Value::as_object_mut)
        {
            list.insert("maxItems".to_owned(), json!(most));
        }
    }
    for schema in ["CreateTrial", "UpdateTrial"] {
        if let Some(units) = document
            .pointer_mut(&format!("/components/schemas/{schema}/properties/units"))
            .and_then(Value::as_object_mut)
        {
            units.insert("minimum".to_owned(), json!(0));
        }
    }
    for schema in ["CreatePhase", "UpdatePhase"] {
        if let Some(most) = document
            .pointer_mut(&format!(
                "/components/schemas/{schema}/properties/max_suppliers"
            ))
            .and_then(Value::as_object_mut)
        {
            most.insert("minimum".to_owned(), json!(1));
        }
        if let Some(number) = document
            .pointer_mut(&format!("/components/schemas/{schema}/properties/number"))
            .and_then(Value::as_object_mut)
        {
            number.insert("minimum".to_owned(), json!(1));
            number.insert("maximum".to_owned(), json!(9));
        }
    }
    // A record has at most this many partners' keys.
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            if let Some(list) = schema
                .pointer_mut("/properties/external_ids")
                .and_then(Value::as_object_mut)
            {
                list.insert(
                    "maxItems".to_owned(),
                    json!(catalyst_domain::external_id::MAX_PER_RECORD),
                );
            }
        }
    }
    if let Some(token) = document
        .pointer_mut("/components/schemas/RevokeRequest/properties/token")
        .and_then(Value::as_object_mut)
    {
        token.insert("minLength".to_owned(), json!(1));
    }
    if let Some(scopes) = document
        .pointer_mut("/components/schemas/CreateApiClient/properties/scopes")
        .and_then(Value::as_object_mut)
    {
        scopes.insert("minItems".to_owned(), json!(1));
    }
    // A sub-collection's path names its parent; the list's own filter for it is not taken here.
    // (An award under a phase is also under that phase's challenge.)
    let list_filters = NESTED_COLLECTIONS
        .into_iter()
        .chain([("/api/v1/phases/{id}/awards", "challenge_id")]);
    for (path, parent) in list_filters {
        let pointer = format!("/paths/{}/get/parameters", path.replace('/', "~1"));
        if let Some(Value::Array(parameters)) = document.pointer_mut(&pointer) {
            parameters
                .retain(|parameter| !(parameter["in"] == "query" && parameter["name"] == parent));
        }
    }
    // A partner's key in a path: the same rules as in a body.
    let (_, _, source_pattern) = constraints(Rule::Source, true);
    let (_, _, key_pattern) = constraints(Rule::Key, true);
    for_each_parameter(document, |path, parameter| {
        if !path.ends_with("/by-external-id/{source}/{id}") {
            return;
        }
        let (pattern, max) = match parameter["name"].as_str() {
            Some("source") => (&source_pattern, 64),
            Some("id") => (&key_pattern, 200),
            _ => return,
        };
        parameter["schema"] = json!({ "type": "string", "pattern": pattern, "maxLength": max });
    });
    // An ocid: the registered prefix (`ocds-` and six letters or digits, lower case as the
    // server keeps it) and a phase's id. A pattern a generator builds values from, where a bare
    // string left Schemathesis discarding most of what it made for a path.
    for_each_parameter(document, |path, parameter| {
        if path == "/api/v1/ocds/records/{ocid}" && parameter["name"] == "ocid" {
            parameter["schema"] = json!({
                "type": "string",
                "pattern": "^ocds-[a-z0-9]{6}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                "maxLength": 47,
            });
        }
    });
    constrain_query_parameters(document);
    // Rules between members of a new record, as JSON Schema conditions.
    let conditions = [
        (
            "CreateOrganisation",
            json!({
                "allOf": [
                    {
                        "if": { "required": ["kind"], "properties": { "kind": { "const": "sme" } } },
                        "then": {
                            "required": ["scale"],
                            "properties": { "scale": { "enum": ["micro", "small", "medium"] } }
                        }
                    },
                    {
                        "if": {
                            "required": ["kind"],
                            "properties": { "kind": { "const": "large_business" } }
                        },
                        "then": { "properties": { "scale": { "enum": ["large", null] } } }
                    }
                ]
            }),
        ),
        (
            "CreateMilestone",
            json!({
                "if": { "required": ["kind"], "properties": { "kind": { "const": "payment" } } },
                "then": {
                    "required": ["amount"],
                    "properties": { "amount": { "$ref": "#/components/schemas/Money" } }
                }
            }),
        ),
        (
            "CreateUser",
            json!({
                "if": {
                    "required": ["role"],
                    "properties": { "role": { "enum": ["authority_officer", "supplier"] } }
                },
                "then": {
                    "required": ["organisation_ids"],
                    "properties": { "organisation_ids": { "minItems": 1 } }
                }
            }),
        ),
    ];
    // An identifier's shape depends on its register.
    let shapes: Vec<Value> = [
        catalyst_domain::IdentifierScheme::CompaniesHouse,
        catalyst_domain::IdentifierScheme::CharityCommission,
        catalyst_domain::IdentifierScheme::Ppon,
        catalyst_domain::IdentifierScheme::LocalAuthority,
    ]
    .into_iter()
    .map(|scheme| {
        json!({
            "if": { "required": ["scheme"], "properties": { "scheme": { "const": scheme.as_str() } } },
            "then": {
                "properties": {
                    "id": { "pattern": format!("^{SPACE}*{}{SPACE}*$", scheme.id_pattern()) }
                }
            }
        })
    })
    .collect();
    let conditions = conditions
        .into_iter()
        .chain([("OrganisationIdentifier", json!({ "allOf": shapes }))]);
    for (schema, condition) in conditions {
        if let (Some(target), Some(condition)) = (
            document
                .pointer_mut(&format!("/components/schemas/{schema}"))
                .and_then(Value::as_object_mut),
            condition.as_object(),
        ) {
            for (keyword, value) in condition {
                target.insert(keyword.clone(), value.clone());
            }
        }
    }
    // A nested POST takes its parent from its path: the body need not (and, if it does, must
    // agree) name it, so its schema leaves it out.
    for (path, parent) in NESTED_COLLECTIONS {
        let pointer = format!(
            "/paths/{}/post/requestBody/content/application~1json/schema",
            path.replace('/', "~1")
        );
        inline_request_schema(document, &pointer, |schema| {
            if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
                properties.remove(parent);
            }
            if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
                required.retain(|name| name != parent);
            }
        });
    }
    // A PUT by a partner's key may create the record, so it names the parent that a nested
    // POST takes from its path.
    for (collection, parent) in [
        ("applications", "phase_id"),
        ("awards", "phase_id"),
        ("contacts", "organisation_id"),
        ("milestones", "award_id"),
        ("phases", "challenge_id"),
    ] {
        let pointer = format!(
            "/paths/~1api~1v1~1{collection}~1by-external-id~1{{source}}~1{{id}}/put/requestBody/content/application~1json/schema"
        );
        inline_request_schema(document, &pointer, |schema| {
            if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
                required.push(json!(parent));
            } else {
                schema["required"] = json!([parent]);
            }
            if let Some(property) = schema.pointer_mut(&format!("/properties/{parent}")) {
                not_null(property);
            }
        });
    }
    if let Some(rows) = document.pointer_mut(
        "/paths/~1api~1v1~1imports/post/requestBody/content/application~1octet-stream/schema",
    ) {
        // A file of rows, bounded by the server's import limit (CATALYST_IMPORT_LIMIT) rather
        // than by a length a schema could state.
        *rows = json!({ "type": "string", "format": "binary", "minLength": 1 });
    }
    if let Some(status) =
        document.pointer_mut("/components/schemas/UpdateWebhook/properties/status")
    {
        *status = json!({ "type": "string", "enum": ["active", "disabled"] });
    }
    if let Some(hint) =
        document.pointer_mut("/components/schemas/RevokeRequest/properties/token_type_hint")
    {
        *hint = json!({
            "type": ["string", "null"],
            "maxLength": 64,
            "description": "`refresh_token` or `access_token`; any other is ignored (RFC 7009)",
        });
    }
    if let Some(token_request) = document.pointer_mut("/components/schemas/TokenRequest") {
        *token_request = token_request_schema(token_request);
    }
}

/// Sub-collections, each with the member that names its parent: the path gives it, so neither
/// the list's filters nor the nested POST's body take it.
const NESTED_COLLECTIONS: [(&str, &str); 6] = [
    ("/api/v1/awards/{id}/milestones", "award_id"),
    ("/api/v1/organisations/{id}/contacts", "organisation_id"),
    ("/api/v1/phases/{id}/awards", "phase_id"),
    ("/api/v1/phases/{id}/applications", "phase_id"),
    ("/api/v1/challenges/{id}/phases", "challenge_id"),
    ("/api/v1/trials/{id}/outcomes", "trial_id"),
];

/// Replaces the request schema at `pointer`, a `$ref`, by a copy of the schema it names,
/// changed by `edit`: one operation's body then differs from the shared schema.
fn inline_request_schema(document: &mut Value, pointer: &str, edit: impl FnOnce(&mut Value)) {
    let Some(reference) = document
        .pointer(pointer)
        .and_then(|schema| schema.get("$ref"))
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return;
    };
    let Some(mut schema) = document.pointer(reference.trim_start_matches('#')).cloned() else {
        return;
    };
    edit(&mut schema);
    if let Some(target) = document.pointer_mut(pointer) {
        *target = schema;
    }
}

/// A token request is one of three grants, each with the members it needs.
fn token_request_schema(flat: &Value) -> Value {
    let member = |name: &str| flat["properties"][name].clone();
    // Parameters the server does not know are ignored (RFC 6749 §3.2), so no schema closes
    // itself with additionalProperties.
    let grant = |grant_type: &str, needs: &[&str], may: &[&str]| {
        let mut properties = Map::new();
        properties.insert(
            "grant_type".to_owned(),
            json!({ "type": "string", "enum": [grant_type] }),
        );
        let mut required = vec![json!("grant_type")];
        // A form has no null: each member is a string, and one given cannot be empty (an empty
        // member is read as a missing one).
        let form_member = |name: &str| {
            let mut schema = member(name);
            schema["type"] = json!("string");
            schema["minLength"] = json!(1);
            schema
        };
        for name in needs {
            properties.insert((*name).to_owned(), form_member(name));
            required.push(json!(name));
        }
        for name in may {
            properties.insert((*name).to_owned(), form_member(name));
        }
        json!({
            "type": "object",
            "title": format!("{grant_type} grant"),
            "required": required,
            "properties": properties,
        })
    };
    // Space-separated scope names (RFC 6749 §3.3), as the server splits them.
    let names = catalyst_domain::Scope::ALL
        .iter()
        .map(catalyst_domain::Scope::as_str)
        .collect::<Vec<_>>()
        .join("|");
    let scope = format!("^ *({names})( +({names}))* *$");
    let mut schema = json!({
        "description": flat.get("description").cloned().unwrap_or(Value::Null),
        "oneOf": [
            grant("password", &["username", "password"], &[]),
            // The client's id and secret may come in an Authorization: Basic header instead.
            // Scopes are for clients: a person's token carries their role.
            grant("client_credentials", &[], &["client_id", "client_secret", "scope"]),
            grant("refresh_token", &["refresh_token"], &[]),
        ],
        "example": flat.get("example").cloned().unwrap_or(Value::Null),
    });
    if let Some(member) = schema.pointer_mut("/oneOf/1/properties/scope") {
        member["pattern"] = json!(scope);
    }
    schema
}

/// The names of the schemas request bodies use, directly or through other schemas.
fn request_schema_names(document: &Value) -> Vec<String> {
    fn collect(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                    if let Some(name) = reference.strip_prefix("#/components/schemas/") {
                        if !found.iter().any(|known| known == name) {
                            found.push(name.to_owned());
                        }
                    }
                }
                object.values().for_each(|child| collect(child, found));
            }
            Value::Array(items) => items.iter().for_each(|child| collect(child, found)),
            _ => {}
        }
    }
    let mut names = Vec::new();
    if let Some(paths) = document.get("paths").and_then(Value::as_object) {
        for item in paths.values() {
            for operation in item.as_object().into_iter().flat_map(|item| item.values()) {
                if let Some(body) = operation.get("requestBody") {
                    collect(body, &mut names);
                }
            }
        }
    }
    // Follow references inside the schemas found until no new one appears.
    let mut index = 0;
    while index < names.len() {
        let name = names[index].clone();
        if let Some(schema) = document.pointer(&format!("/components/schemas/{name}")) {
            collect(schema, &mut names);
        }
        index += 1;
    }
    names
}

fn constrain_text(document: &mut Value) {
    let request_schemas = request_schema_names(document);
    let nullable_in_create = nullable_members(document);
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let required_by_schema: Map<String, Value> = schemas
        .iter()
        .map(|(name, schema)| {
            (
                name.clone(),
                schema.get("required").cloned().unwrap_or(json!([])),
            )
        })
        .collect();
    for (name, schema) in schemas.iter_mut() {
        if !request_schemas.contains(name) {
            continue;
        }
        let rules_from = name
            .strip_prefix("Update")
            .map_or(name.clone(), |entity| format!("Create{entity}"));
        let required: Vec<String> = required_by_schema
            .get(&rules_from)
            .or_else(|| required_by_schema.get(name))
            .and_then(Value::as_array)
            .map(|names| {
                names
                    .iter()
                    .filter_map(|name| name.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let is_update = name.starts_with("Update");
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (member, property) in properties.iter_mut() {
            let is_required = required.contains(member);
            // Only members a new record must have are never null; those it may leave out, and
            // those only a change sets (PATCH-only members), may be null.
            let nullable_when_created = nullable_in_create
                .get(&rules_from)
                .and_then(|members| members.get(member))
                .is_none_or(|nullable| *nullable);
            let is_list = has_type(property, "array");
            if is_update && !nullable_when_created && !is_list {
                // In a merge patch, `null` removes a member; one a record must have cannot be
                // removed. (A list given as `null` is left as it is.)
                not_null(property);
            }
            let Some(rule) = rule_for(&rules_from, member).or_else(|| rule_for(name, member))
            else {
                continue;
            };
            let target = if is_list {
                property.get_mut("items")
            } else {
                Some(&mut *property)
            };
            let Some(target) = target else { continue };
            if !has_type(target, "string")
                || target.get("enum").is_some()
                || target.get("format").is_some()
            {
                continue;
            }
            // Array items (themes, sites) are each required text.
            let item_required = is_required || is_list;
            let (max, min, pattern) = constraints(rule, item_required);
            if let Some(object) = target.as_object_mut() {
                object.insert("maxLength".to_owned(), json!(max));
                if item_required && min > 0 {
                    object.insert("minLength".to_owned(), json!(min));
                }
                if !pattern.is_empty() {
                    object.insert("pattern".to_owned(), json!(pattern));
                }
            }
        }
    }
}

/// For each `Create<X>` schema, each member and whether it may be `null`.
fn nullable_members(
    document: &Value,
) -> std::collections::HashMap<String, std::collections::HashMap<String, bool>> {
    let mut nullable = std::collections::HashMap::new();
    let Some(schemas) = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return nullable;
    };
    for (name, schema) in schemas
        .iter()
        .filter(|(name, _)| name.starts_with("Create"))
    {
        let members = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| {
                properties
                    .iter()
                    .map(|(member, property)| (member.clone(), admits_null(property)))
                    .collect()
            })
            .unwrap_or_default();
        nullable.insert(name.clone(), members);
    }
    nullable
}

/// Whether `schema`'s `type` is `kind` or a list that includes it.
fn has_type(schema: &Value, kind: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(only)) => only == kind,
        Some(Value::Array(kinds)) => kinds.iter().any(|each| each == kind),
        _ => false,
    }
}

fn admits_null(schema: &Value) -> bool {
    match schema.get("type") {
        Some(_) => has_type(schema, "null"),
        None => ["oneOf", "anyOf"].iter().any(|key| {
            schema
                .get(*key)
                .and_then(Value::as_array)
                .is_some_and(|choices| choices.iter().any(admits_null))
        }),
    }
}

/// Drops `null` from a member's type.
fn not_null(property: &mut Value) {
    if let Some(Value::Array(kinds)) = property.get_mut("type") {
        kinds.retain(|kind| kind != "null");
        if kinds.len() == 1 {
            let only = kinds[0].clone();
            property["type"] = only;
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(choices)) = property.get_mut(key) {
            choices.retain(|choice| choice.get("type").is_none_or(|kind| kind != "null"));
            if choices.len() == 1 {
                let only = choices.remove(0);
                if let Some(object) = property.as_object_mut() {
                    object.remove(key);
                    if let Some(only) = only.as_object() {
                        for (field, value) in only {
                            object.insert(field.clone(), value.clone());
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string member of every request body, followed through `$ref`s, `oneOf`s and array
    /// items, has a `maxLength` (or is a closed set, a UUID or a date).
    #[test]
    fn every_string_a_request_may_send_has_a_max_length() {
        let document: Value =
            serde_json::from_str(&crate::openapi_json()).expect("the spec is JSON");
        let mut unbounded = Vec::new();
        let mut seen = Vec::new();
        let paths = document["paths"].as_object().expect("paths");
        for (path, item) in paths {
            for (method, operation) in item.as_object().expect("path item") {
                let contents = operation
                    .pointer("/requestBody/content")
                    .and_then(Value::as_object);
                for (media_type, content) in contents.into_iter().flatten() {
                    let at = format!("{method} {path} {media_type}");
                    walk(
                        &document,
                        &at,
                        &content["schema"],
                        &mut unbounded,
                        &mut seen,
                    );
                }
            }
        }
        assert!(seen.len() > 20, "request schemas were found: {seen:?}");
        assert!(
            unbounded.is_empty(),
            "strings without maxLength: {unbounded:#?}"
        );
    }

    fn walk(
        document: &Value,
        at: &str,
        schema: &Value,
        unbounded: &mut Vec<String>,
        seen: &mut Vec<String>,
    ) {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            if seen.iter().any(|known| known == reference) {
                return;
            }
            seen.push(reference.to_owned());
            let target = document
                .pointer(reference.trim_start_matches('#'))
                .expect("a $ref names a schema");
            walk(document, reference, target, unbounded, seen);
            return;
        }
        let is_string = match schema.get("type") {
            Some(Value::String(kind)) => kind == "string",
            Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "string"),
            _ => false,
        };
        let bounded = schema.get("maxLength").is_some()
            || schema.get("enum").is_some()
            || schema
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|format| ["uuid", "date", "date-time", "binary"].contains(&format));
        if is_string && !bounded {
            unbounded.push(at.to_owned());
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            for (index, choice) in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                walk(
                    document,
                    &format!("{at}/{key}/{index}"),
                    choice,
                    unbounded,
                    seen,
                );
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (member, property) in properties {
                walk(
                    document,
                    &format!("{at}.{member}"),
                    property,
                    unbounded,
                    seen,
                );
            }
        }
        if let Some(items) = schema.get("items") {
            walk(document, &format!("{at}[]"), items, unbounded, seen);
        }
    }
}
