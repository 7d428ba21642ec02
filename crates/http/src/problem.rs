//! Every error the API sends, as RFC 9457 `application/problem+json`, mapped in one place.
//!
//! Each error has a stable machine `code` that clients can branch on; `type` is a URI reference
//! built from it. The response carries the request id, so a user's report can be matched with the
//! server's log line; it never carries SQL, stack traces or internal names.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use catalyst_domain::ValidationErrors;
use catalyst_persistence::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::middleware::request_context;
pub use catalyst_api::problem::ProblemItem;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem detail (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// URI reference naming the problem type; stable, built from `code`.
    #[schema(example = "/problems/validation_failed")]
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    #[schema(example = "Validation failed")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong with this request.
    #[schema(example = "the request body has 1 invalid field")]
    pub detail: String,
    /// The request path this problem occurred on.
    #[schema(example = "/api/v1/organisations")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Stable machine-readable code.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// The request id (also in the `X-Request-Id` header).
    #[schema(example = "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The individual errors, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemItem>,
    /// For an illegal lifecycle transition: the statuses that may follow the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_transitions: Option<Vec<String>>,
}

impl Problem {
    /// A problem named by `code`, in the current request (its path and request id).
    pub fn in_request(
        code: &str,
        title: &str,
        status: StatusCode,
        detail: String,
        errors: Vec<ProblemItem>,
    ) -> Self {
        let context = request_context::current();
        Self {
            problem_type: format!("/problems/{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            instance: context.as_ref().map(|context| context.path.clone()),
            code: code.to_owned(),
            request_id: context.map(|context| context.request_id),
            errors,
            allowed_transitions: None,
        }
    }
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("{detail}")]
    InvalidBody {
        detail: String,
        items: Vec<ProblemItem>,
    },
    #[error("invalid query parameters")]
    InvalidQuery(Vec<ProblemItem>),
    #[error("{0}")]
    InvalidPathParameter(String),
    #[error("{0}")]
    InvalidHeader(ProblemItem),
    #[error("validation failed")]
    Validation(ValidationErrors),
    /// Text that no stored record can hold (a NUL character), wherever in the request it was.
    #[error("the request holds a NUL character (U+0000), which no stored text can hold")]
    UnstorableText,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    NotAcceptable(String),
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body did not arrive in time ({seconds} s): send it at a steady rate")]
    BodyTimeout { seconds: u64 },
    #[error("{0}")]
    Unauthenticated(String),
    #[error("the access token is invalid, expired or revoked")]
    InvalidToken,
    #[error("{0}")]
    InvalidCredentials(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("too many failed attempts: retry after {retry_after_seconds} seconds")]
    TooManyRequests { retry_after_seconds: i64 },
    #[error("more than {limit} requests a minute from this client: retry after {retry_after_seconds} seconds")]
    RateLimited {
        retry_after_seconds: u64,
        limit: u32,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("no route matches {0}")]
    RouteNotFound(String),
    #[error("{method} is not allowed here")]
    MethodNotAllowed {
        method: String,
        allowed: Vec<String>,
    },
    #[error("{0}")]
    Conflict(ProblemItem),
    #[error("{0}")]
    PreconditionFailed(String),
    /// What the request points at existed once and is no longer kept.
    #[error("{0}")]
    Gone(String),
    #[error("{detail}")]
    IllegalTransition {
        detail: String,
        allowed: Vec<String>,
    },
    /// A rule that spans records (a budget, a lineage) would be broken.
    #[error("{0}")]
    RuleBroken(ProblemItem),
    #[error("the database is unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal,
}

/// Seconds a client should wait before retrying when the database is unavailable.
const RETRY_AFTER_SECONDS: &str = "5";

impl ApiError {
    /// A body refused for one member, the problem's detail being the member's.
    pub fn invalid_member(
        pointer: impl Into<String>,
        code: &str,
        detail: impl Into<String>,
    ) -> Self {
        let item = ProblemItem::member(pointer, code, detail);
        Self::InvalidBody {
            detail: item.detail.clone(),
            items: vec![item],
        }
    }

    /// A broken rule that spans records (409), named by `code`, at `pointer` when one member is
    /// at fault.
    pub fn rule(pointer: Option<&str>, code: &str, detail: impl Into<String>) -> Self {
        Self::RuleBroken(ProblemItem {
            pointer: pointer.map(str::to_owned),
            parameter: None,
            code: code.to_owned(),
            detail: detail.into(),
        })
    }

    /// The stable machine code and the title for it.
    pub fn code_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::MalformedJson(_) => ("malformed_json", "Malformed JSON"),
            Self::InvalidBody { .. } => ("invalid_body", "Invalid request body"),
            Self::InvalidQuery(_) => ("invalid_query", "Invalid query parameters"),
            Self::InvalidPathParameter(_) => ("invalid_path_parameter", "Invalid path parameter"),
            Self::InvalidHeader(_) => ("invalid_header", "Invalid header"),
            Self::Validation(_) => ("validation_failed", "Validation failed"),
            Self::UnstorableText => ("unstorable_text", "Unstorable text"),
            Self::UnsupportedMediaType(_) => ("unsupported_media_type", "Unsupported media type"),
            Self::NotAcceptable(_) => ("not_acceptable", "Not acceptable"),
            Self::PayloadTooLarge { .. } => ("payload_too_large", "Payload too large"),
            Self::BodyTimeout { .. } => ("body_timeout", "Request body too slow"),
            Self::Unauthenticated(_) => ("unauthenticated", "Authentication required"),
            Self::InvalidToken => ("invalid_token", "Invalid access token"),
            Self::InvalidCredentials(_) => ("invalid_credentials", "Invalid credentials"),
            Self::Forbidden(_) => ("forbidden", "Forbidden"),
            Self::TooManyRequests { .. } => ("too_many_requests", "Too many requests"),
            Self::RateLimited { .. } => ("rate_limited", "Rate limit exceeded"),
            Self::NotFound(_) => ("not_found", "Not found"),
            Self::RouteNotFound(_) => ("route_not_found", "No such route"),
            Self::MethodNotAllowed { .. } => ("method_not_allowed", "Method not allowed"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::PreconditionFailed(_) => ("precondition_failed", "Precondition failed"),
            Self::Gone(_) => ("gone", "Gone"),
            Self::IllegalTransition { .. } => ("illegal_transition", "Illegal status transition"),
            Self::RuleBroken(_) => ("rule_broken", "A business rule would be broken"),
            Self::Unavailable => ("service_unavailable", "Service unavailable"),
            Self::Internal => ("internal_error", "Internal server error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::InvalidBody { detail, .. } => detail.clone(),
            Self::InvalidQuery(items) => items
                .iter()
                .map(|item| item.detail.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            Self::Validation(errors) => match errors.violations() {
                [only] => only.detail.clone(),
                many => format!("the request has {} invalid fields", many.len()),
            },
            Self::Unavailable => {
                "the database cannot be reached or is too busy; retry later".to_owned()
            }
            Self::Internal => {
                "something went wrong on our side; quote the request id when reporting it"
                    .to_owned()
            }
            other => other.to_string(),
        }
    }

    fn items(&self) -> Vec<ProblemItem> {
        match self {
            Self::InvalidBody { items, .. } | Self::InvalidQuery(items) => items.clone(),
            Self::InvalidHeader(item) | Self::Conflict(item) | Self::RuleBroken(item) => {
                vec![item.clone()]
            }
            Self::Validation(errors) => errors
                .violations()
                .iter()
                .cloned()
                .map(Into::into)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The problem document for this error in the current request.
    pub fn problem(&self) -> Problem {
        let (code, title) = self.code_and_title();
        Problem {
            allowed_transitions: match self {
                Self::IllegalTransition { allowed, .. } => Some(allowed.clone()),
                _ => None,
            },
            ..Problem::in_request(code, title, self.status_code(), self.detail(), self.items())
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_)
            | Self::InvalidQuery(_)
            | Self::InvalidPathParameter(_)
            | Self::InvalidHeader(_)
            | Self::UnstorableText => StatusCode::BAD_REQUEST,
            Self::InvalidBody { .. } | Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::Unauthenticated(_) | Self::InvalidToken | Self::InvalidCredentials(_) => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests { .. } | Self::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::NotFound(_) | Self::RouteNotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::IllegalTransition { .. } | Self::RuleBroken(_) => {
                StatusCode::CONFLICT
            }
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::Gone(_) => StatusCode::GONE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.problem();
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            Self::MethodNotAllowed { allowed, .. } => {
                response.insert_header((header::ALLOW, allowed.join(", ")));
            }
            Self::Unavailable => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
            }
            // The rest of a late body may still be on its way: the connection cannot be reused.
            Self::BodyTimeout { .. } => {
                response.force_close();
            }
            Self::Unauthenticated(_) | Self::InvalidCredentials(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"catalyst\""));
            }
            Self::InvalidToken => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"catalyst\", error=\"invalid_token\"",
                ));
            }
            Self::TooManyRequests {
                retry_after_seconds,
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            Self::RateLimited {
                retry_after_seconds,
                ..
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            _ => {}
        }
        match serde_json::to_vec(&problem) {
            Ok(body) => response.body(body),
            Err(_) => response.finish(),
        }
    }
}

impl From<catalyst_domain::Denied> for ApiError {
    fn from(denied: catalyst_domain::Denied) -> Self {
        match denied {
            catalyst_domain::Denied::Unauthenticated => Self::Unauthenticated(
                "sign in: send Authorization: Bearer <access token>".to_owned(),
            ),
            catalyst_domain::Denied::Forbidden => {
                Self::Forbidden("your role or scopes do not allow this".to_owned())
            }
        }
    }
}

impl<S: catalyst_domain::Lifecycle> From<catalyst_domain::IllegalTransition<S>> for ApiError {
    fn from(error: catalyst_domain::IllegalTransition<S>) -> Self {
        Self::IllegalTransition {
            detail: error.to_string(),
            allowed: error.allowed.iter().map(ToString::to_string).collect(),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound("no such resource".to_owned()),
            StoreError::VersionMismatch { current } => Self::PreconditionFailed(format!(
                "the resource has changed: its current version is {current} (ETag \"{current}\")"
            )),
            StoreError::Duplicate { constraint } => Self::Conflict(ProblemItem::parameter(
                constraint,
                "duplicate",
                "already exists",
            )),
            StoreError::ForeignKey => Self::Conflict(ProblemItem {
                pointer: None,
                parameter: None,
                code: "referenced".to_owned(),
                detail: "the change would break a reference between records".to_owned(),
            }),
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                Self::Unavailable
            }
            StoreError::UnstorableText(reason) => {
                tracing::info!(%reason, "text the database cannot hold");
                Self::UnstorableText
            }
            StoreError::Corrupt(reason) => {
                tracing::error!(%reason, "corrupt stored value");
                Self::Internal
            }
            StoreError::Database(error) => {
                tracing::error!(%error, "database error");
                Self::Internal
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        tracing::error!("blocking task was cancelled");
        Self::Internal
    }
}

/// Problem type descriptions, served at `/problems/{code}` so a `type` URI leads somewhere useful.
pub const PROBLEM_TYPES: &[(&str, &str)] = &[
    ("malformed_json", "The body is not well-formed JSON. Nothing was changed."),
    ("invalid_body", "The body is JSON but not of the expected shape: a wrong type, an unknown or read-only field, or a missing field. `errors` points at each member."),
    ("invalid_query", "A query parameter is unknown or has a value out of range. `errors` names each parameter."),
    ("invalid_path_parameter", "A path segment (such as an id) is not of the expected form."),
    ("invalid_header", "A request header (such as If-Match) cannot be parsed."),
    ("validation_failed", "The body's values break a rule. `errors` points at each member with a code and a sentence."),
    ("unsupported_media_type", "The body's Content-Type is not one the operation accepts (application/json)."),
    ("not_acceptable", "The Accept header asks for a representation the operation cannot give."),
    ("payload_too_large", "The body is larger than the configured limit (1 MiB by default)."),
    ("body_timeout", "The body arrived too slowly: a client gets 20 seconds, and a second more for every 64 KiB received (both configurable). Nothing was changed; the connection is closed."),
    ("unauthenticated", "The operation needs an access token: get one from POST /api/v1/auth/token and send it as Authorization: Bearer <token>."),
    ("invalid_token", "The access token is malformed, expired, not ours, or belongs to a deleted user or revoked client. Get a new one."),
    ("invalid_credentials", "The username and password, client credentials or refresh token are wrong. The response does not say which."),
    ("forbidden", "You are signed in but your role, memberships or scopes do not allow this operation."),
    ("too_many_requests", "Too many failed attempts from this account or address. Retry after the Retry-After header's seconds."),
    ("rate_limited", "This client (an access token's subject, or else an address) sent more requests a minute than the server allows. RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset on every answer say where it stands; retry after the Retry-After header's seconds."),
    ("not_found", "The resource does not exist, or you may not see it."),
    ("route_not_found", "No operation has this path. See /api/v1/openapi.json."),
    ("method_not_allowed", "The path exists but not with this method; the Allow header lists those it has."),
    ("conflict", "The request conflicts with the current state, such as a duplicate identifier."),
    ("illegal_transition", "The requested status cannot follow the current one. `allowed_transitions` lists those that can."),
    ("rule_broken", "The change would break a rule that spans records, such as a phase's budget or an award's lineage. `errors` names the rule."),
    ("precondition_failed", "If-Match did not match the resource's current ETag: fetch it again, re-apply your change and retry."),
    ("service_unavailable", "The database cannot be reached or is too busy. Retry after the Retry-After header's seconds."),
    ("internal_error", "An unexpected error. Quote the request id when reporting it."),
];
