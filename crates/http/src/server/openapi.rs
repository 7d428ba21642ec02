//! The OpenAPI 3.1 document: generated from the handlers' `#[utoipa::path]` annotations and the
//! DTOs, completed here with what every operation shares (the problem responses), and committed
//! as `openapi/v1.json` (a test fails when they differ).

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::Type;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder,
};
use utoipa::{OpenApi as _, ToSchema};

use crate::problem::{Problem, ProblemItem, PROBLEM_JSON};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Catalyst API",
        description = "Track SBRI-style innovation challenges: the public bodies that pose them, the \
phases in which SMEs are contracted to solve them, the money committed and paid, and the trials of \
the solutions with their measured outcomes.\n\nConventions: JSON in snake_case; ids are UUIDv7; \
timestamps are RFC 3339 UTC with microseconds; money is integer minor units with a currency; errors \
are RFC 9457 problem+json with a stable `code`; lists use keyset pagination (`limit`, `cursor`, \
`next_cursor`, `Link: rel=\"next\"`); every resource has a `version` and an `ETag`, and `If-Match` \
guards updates; every GET sends an `ETag` and answers a current `If-None-Match` with 304.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(Problem, ProblemItem)),
    tags(
        (name = "organisations", description = "Public bodies, suppliers, funders and others"),
        (name = "programmes", description = "Funds that run rounds of challenges"),
        (name = "challenges", description = "Public bodies' problem statements, and their lifecycle"),
        (name = "phases", description = "A challenge's feasibility, prototype and deployment phases"),
        (name = "applications", description = "Suppliers' bids in a phase: private to the supplier, the owner and programme staff"),
        (name = "awards", description = "Contracts awarded in a phase: public records"),
        (name = "milestones", description = "Deliveries, reports and payments of an award"),
        (name = "contacts", description = "People at organisations: a name, a role, an email; never public"),
        (name = "trials", description = "Trials of solutions with host bodies, their outcomes and whether they were adopted"),
        (name = "health", description = "Liveness and readiness"),
        (name = "operations", description = "Prometheus metrics for operators"),
        (name = "meta", description = "This API's own description"),
        (name = "auth", description = "Access tokens (OAuth 2.0 token endpoint)"),
        (name = "users", description = "People who sign in; admins manage them"),
        (name = "api-clients", description = "Credentials for integration partners and scripts"),
        (name = "audit", description = "Who changed what, when"),
        (name = "imports", description = "Bulk imports of NDJSON or CSV, processed as jobs with a result per row"),
        (name = "webhooks", description = "Subscriptions to events, signed as Standard Webhooks, with a delivery log"),
        (name = "reports", description = "Funding, SME share, pipeline and trials figures, as JSON or CSV, filtered and grouped as asked"),
        (name = "ocds", description = "Open Contracting Data Standard 1.1 releases and records of published challenges' phases"),
        (name = "exports", description = "Whole collections as CSV or NDJSON, streamed"),
        (name = "changes", description = "The change feed: every create, update and delete, resumable with no change missed"),
    )
)]
pub struct BaseDoc;

pub fn base_document() -> OpenApi {
    let mut document = BaseDoc::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An access token from POST /api/v1/auth/token, sent as `Authorization: Bearer <token>`. \
Reads of published records need none; writes and private reads do.",
                ))
                .build(),
        ),
    );
    document
}

/// Adds the problem responses every operation can give, where the handler did not describe them
/// itself, so that no status is undocumented.
pub fn complete(mut document: OpenApi) -> OpenApi {
    let problem = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(Problem::name())))
            .build()
    };
    let response = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(PROBLEM_JSON, problem())
            .build()
    };
    for (path, item) in document.paths.paths.iter_mut() {
        let is_api = path.starts_with("/api/");
        // Every error is a problem document: a handler's own error responses name only their
        // status and description.
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            for (status, response) in operation.responses.responses.iter_mut() {
                if let (RefOr::T(response), true) = (response, status.starts_with(['4', '5'])) {
                    if response.content.is_empty() {
                        response.content.insert(PROBLEM_JSON.to_owned(), problem());
                    }
                }
            }
        }
        let operations: [(&str, &mut Option<Operation>); 5] = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation.as_mut() else {
                continue;
            };
            if method == "post" && is_api && !path.starts_with("/api/v1/auth/") {
                operation.parameters.get_or_insert_with(Vec::new).push(
                    utoipa::openapi::path::ParameterBuilder::new()
                        .name("Idempotency-Key")
                        .parameter_in(utoipa::openapi::path::ParameterIn::Header)
                        .required(utoipa::openapi::Required::False)
                        .description(Some(
                            "Up to 255 characters. A retry with the same key and body gets the first response again \
(with `Idempotent-Replayed: true`) for 24 hours; the same key with another body is 422; a retry while the \
first is being written waits for it and gets its response.",
                        ))
                        .schema(Some(
                            utoipa::openapi::ObjectBuilder::new()
                                .schema_type(utoipa::openapi::schema::Type::String)
                                .max_length(Some(255)),
                        ))
                        .build(),
                );
            }
            if is_api && method == "get" && !STREAMED.contains(&path.as_str()) {
                describe_conditional_get(operation);
            }
            if is_api {
                describe_header_parameters(operation);
                if operation.security.is_none() && !OPEN_TO_ALL.contains(&path.as_str()) {
                    // A read of published records: anyone may make it; a token shows more.
                    operation.security = Some(vec![
                        SecurityRequirement::default(),
                        SecurityRequirement::new("bearer", Vec::<String>::new()),
                    ]);
                }
            }
            let security = operation.security.as_deref().unwrap_or_default();
            let takes_token = !security.is_empty();
            let needs_token = takes_token
                && !security
                    .iter()
                    .any(|requirement| *requirement == SecurityRequirement::default());
            let has_body = operation.request_body.is_some();
            let has_parameters = operation
                .parameters
                .as_ref()
                .is_some_and(|parameters| !parameters.is_empty());
            let mut add = |status: &str, description: &str| {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| response(description).into());
            };
            if is_api && (has_body || has_parameters || method == "get") {
                add("400", "Bad request: malformed JSON, query or header");
            }
            if method == "post" && is_api && !path.starts_with("/api/v1/auth/") {
                add(
                    "409",
                    "Conflict: a rule would be broken, or another record holds a unique value",
                );
            }
            if has_body {
                add(
                    "408",
                    "The body arrived too slowly (see CATALYST_BODY_TIMEOUT_SECS); the connection is closed",
                );
                add("413", "The body is larger than the limit");
                add("415", "The body is not JSON");
                add(
                    "422",
                    "The body breaks a rule; `errors` points at each member",
                );
            }
            let takes_if_match = operation.parameters.iter().flatten().any(|parameter| {
                parameter.parameter_in == ParameterIn::Header
                    && parameter.name.eq_ignore_ascii_case("if-match")
            });
            if is_api && path.contains('{') {
                add("404", "Nothing you may see has this id");
            }
            if is_api && matches!(method, "put" | "patch" | "delete") {
                add(
                    "409",
                    "Conflict: a rule would be broken, or another record holds a unique value",
                );
            }
            if takes_if_match {
                add("412", "If-Match names a version that is no longer current");
            }
            if takes_token {
                add(
                    "401",
                    "The access token is missing (where one is needed), invalid, expired or revoked",
                );
            }
            if needs_token {
                add(
                    "403",
                    "Your role, scopes or organisations do not allow this",
                );
            }
            if is_api {
                add(
                    "429",
                    "Too many requests: wait Retry-After seconds (RateLimit-* headers say how many remain)",
                );
                add(
                    "503",
                    "The database is unavailable; retry after Retry-After seconds",
                );
            }
            add("500", "Internal error; quote the request id");
        }
    }
    document
}

/// Operations anyone may call and that ignore any token: signing in, and this API's own
/// description.
const OPEN_TO_ALL: &[&str] = &[
    "/api/v1",
    "/api/v1/feeds/challenges.atom",
    "/api/v1/feeds/challenges.ics",
    "/api/v1/auth/token",
    "/api/v1/auth/revoke",
    "/api/v1/auth/jwks.json",
    "/api/v1/openapi.json",
];

/// Answers sent as they are made, never whole in memory: they have no `ETag`, since it would
/// be known only once the body is sent.
const STREAMED: &[&str] = &["/api/v1/exports/{collection}"];

/// Every `GET` of the API sends an `ETag` and answers `If-None-Match` naming it with 304
/// (`middleware::conditional_get`); a handler that describes them itself keeps its words.
fn describe_conditional_get(operation: &mut Operation) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let described = parameters.iter().any(|parameter| {
        parameter.parameter_in == ParameterIn::Header
            && parameter.name.eq_ignore_ascii_case("if-none-match")
    });
    if !described {
        parameters.push(
            ParameterBuilder::new()
                .name("If-None-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some("An ETag you hold: 304 if it is still current"))
                .build(),
        );
    }
    if let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") {
        ok.headers.entry("ETag".to_owned()).or_insert_with(|| {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("Its entity tag"))
                .build()
        });
    }
    operation
        .responses
        .responses
        .entry("304".to_owned())
        .or_insert_with(|| ResponseBuilder::new().description("Not modified").into());
}

/// Conditional and idempotency headers take a precise syntax; saying so lets clients (and
/// property-based tests) tell a well-formed value from a malformed one.
fn describe_header_parameters(operation: &mut Operation) {
    // `*`, or a list of entity tags: empty elements (stray commas) are passed over, as RFC
    // 9110 (5.6.1.2) asks, so an empty list (``, `,`) is no condition. A field value has no
    // white space at either end once it arrives.
    const ENTITY_TAGS: &str =
        r#"^(\*|(,[ \t,]*)?((W/)?"[!#-~]*"([ \t]*,[ \t,]*(W/)?"[!#-~]*")*)?([ \t]*,[ \t,]*)?)$"#;
    const IDEMPOTENCY_KEY: &str = "^[!-~]([ -~]{0,253}[!-~])?$";
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.parameter_in != ParameterIn::Header {
            continue;
        }
        let (pattern, max_length) = match parameter.name.to_ascii_lowercase().as_str() {
            "if-match" | "if-none-match" => (ENTITY_TAGS, None),
            "idempotency-key" => (IDEMPOTENCY_KEY, Some(255)),
            _ => continue,
        };
        parameter.schema = Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern))
                .max_length(max_length)
                .into(),
        );
    }
}

/// Path templates and their methods, to tell "no such route" (404) from "not with this method"
/// (405, with `Allow`) for requests no handler took.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
}

impl RouteTable {
    pub fn from_document(document: &OpenApi) -> Self {
        let mut routes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (path, item) in &document.paths.paths {
            let methods = routes.entry(path.clone()).or_default();
            let present = [
                ("GET", item.get.is_some()),
                // Served wherever GET is (`middleware::head`).
                ("HEAD", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            for (method, is_present) in present {
                if is_present {
                    methods.push(method.to_owned());
                }
            }
            // Answered for every known path (`server::fallback`).
            methods.push("OPTIONS".to_owned());
        }
        Self {
            routes: routes
                .into_iter()
                .map(|(path, methods)| {
                    (
                        segments(&path).into_iter().map(str::to_owned).collect(),
                        methods,
                    )
                })
                .collect(),
        }
    }

    /// The methods allowed on `path`, if some route template matches it.
    pub fn allowed_methods(&self, path: &str) -> Option<Vec<String>> {
        let segments = segments(path);
        self.routes
            .iter()
            .find(|(template, _)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(expected, actual)| {
                        (expected.starts_with('{') && expected.ends_with('}') && !actual.is_empty())
                            || expected == actual
                    })
            })
            .map(|(_, methods)| methods.clone())
    }
}

/// A path's segments as the router sees them: a final `/` makes an empty last segment, so
/// `/api/v1/organisations/` is not `/api/v1/organisations` (no handler would take it).
fn segments(path: &str) -> Vec<&str> {
    path.strip_prefix('/').unwrap_or(path).split('/').collect()
}
