//! OAuth 2.0 as RFC 6749 has it at the token endpoint: client authentication by HTTP Basic or by
//! the form (§2.3.1), and errors with the `error` and `error_description` members (§5.2) that
//! OAuth libraries read, beside the problem members every other endpoint answers with.

use actix_web::body::BoxBody;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::{ApiError, Problem, ProblemItem, PROBLEM_JSON};

/// The error codes of RFC 6749 §5.2, and the two of §4.1.2.1 that fit a server-side failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
    InvalidScope,
    TemporarilyUnavailable,
    ServerError,
}

impl OAuthErrorCode {
    fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::ServerError => "server_error",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::InvalidRequest => "Invalid token request",
            Self::InvalidClient => "Client authentication failed",
            Self::InvalidGrant => "Invalid grant",
            Self::UnsupportedGrantType => "Unsupported grant type",
            Self::InvalidScope => "Invalid scope",
            Self::TemporarilyUnavailable => "Temporarily unavailable",
            Self::ServerError => "Server error",
        }
    }
}

/// A token endpoint's error body: RFC 6749 §5.2's members and the problem's (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthProblem {
    pub error: OAuthErrorCode,
    /// The same text as `detail`.
    pub error_description: String,
    #[serde(flatten)]
    pub problem: Problem,
}

/// Why a token or revocation request failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The request's own fault, as RFC 6749 names it.
    #[error("{description}")]
    OAuth {
        code: OAuthErrorCode,
        description: String,
        items: Vec<ProblemItem>,
        /// The client authenticated with HTTP Basic: a 401 challenges it the same way.
        basic_challenge: bool,
    },
    /// Not a matter of the request's parameters (too large, throttled, the database away): the
    /// API's usual answer, with the nearest OAuth code beside it.
    #[error(transparent)]
    Api(ApiError),
}

impl TokenError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self::OAuth {
            code,
            description: description.into(),
            items: Vec::new(),
            basic_challenge: false,
        }
    }

    /// A parameter missing or wrong (`invalid_request`, 400), naming it.
    pub fn parameter(name: &str, code: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Self::OAuth {
            code: OAuthErrorCode::InvalidRequest,
            description: detail.clone(),
            items: vec![ProblemItem::member(format!("#/{name}"), code, detail)],
            basic_challenge: false,
        }
    }

    /// The client's credentials are wrong, or missing where the grant needs them.
    pub fn invalid_client(authentication: &ClientAuthentication, detail: &str) -> Self {
        Self::OAuth {
            code: OAuthErrorCode::InvalidClient,
            description: detail.to_owned(),
            items: Vec::new(),
            basic_challenge: matches!(authentication, ClientAuthentication::Basic { .. }),
        }
    }

    fn oauth_code(&self) -> OAuthErrorCode {
        match self {
            Self::OAuth { code, .. } => *code,
            Self::Api(ApiError::Unavailable | ApiError::TooManyRequests { .. }) => {
                OAuthErrorCode::TemporarilyUnavailable
            }
            Self::Api(ApiError::Internal) => OAuthErrorCode::ServerError,
            Self::Api(_) => OAuthErrorCode::InvalidRequest,
        }
    }
}

impl From<ApiError> for TokenError {
    fn from(error: ApiError) -> Self {
        match error {
            // A body that cannot be read as the parameters is RFC 6749's invalid_request.
            ApiError::MalformedJson(_)
            | ApiError::InvalidBody { .. }
            | ApiError::Validation(_)
            | ApiError::InvalidHeader(_) => {
                let problem = error.problem();
                Self::OAuth {
                    code: OAuthErrorCode::InvalidRequest,
                    description: problem.detail,
                    items: problem.errors,
                    basic_challenge: false,
                }
            }
            other => Self::Api(other),
        }
    }
}

impl From<catalyst_persistence::StoreError> for TokenError {
    fn from(error: catalyst_persistence::StoreError) -> Self {
        Self::Api(error.into())
    }
}

impl ResponseError for TokenError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::OAuth {
                code: OAuthErrorCode::InvalidClient,
                ..
            } => StatusCode::UNAUTHORIZED,
            Self::OAuth { .. } => StatusCode::BAD_REQUEST,
            Self::Api(error) => error.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let error = self.oauth_code();
        let (response, problem) = match self {
            Self::Api(api) => (api.error_response(), api.problem()),
            Self::OAuth {
                code,
                description,
                items,
                basic_challenge,
            } => {
                let status = self.status_code();
                let problem = Problem::in_request(
                    code.as_str(),
                    code.title(),
                    status,
                    description.clone(),
                    items.clone(),
                );
                let mut response = HttpResponse::build(status);
                response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
                if *basic_challenge {
                    response.insert_header((
                        header::WWW_AUTHENTICATE,
                        "Basic realm=\"catalyst\", charset=\"UTF-8\"",
                    ));
                }
                (response.finish(), problem)
            }
        };
        let body = OAuthProblem {
            error,
            error_description: problem.detail.clone(),
            problem,
        };
        let mut response = match serde_json::to_vec(&body) {
            Ok(bytes) => response.set_body(BoxBody::new(bytes)),
            Err(_) => response,
        };
        // RFC 6749 §5.1: nothing from the token endpoint is cached.
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

/// How a token request authenticated its client (RFC 6749 §2.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuthentication {
    /// No client credentials: a person signing in needs none.
    None,
    /// `Authorization: Basic` with the form-encoded id and secret.
    Basic { id: String, secret: String },
    /// `client_id` and `client_secret` in the form.
    Body { id: String, secret: String },
}

impl ClientAuthentication {
    /// The client's id and secret, when it sent both.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match self {
            Self::None => None,
            Self::Basic { id, secret } | Self::Body { id, secret } => {
                Some((id.as_str(), secret.as_str()))
            }
        }
    }

    /// Reads the client's authentication from the `Authorization` header and the form's
    /// `client_id` and `client_secret`. Using both ways at once is `invalid_request` (§2.3);
    /// a Basic header that cannot be read is `invalid_client`. Other schemes (a stray
    /// `Bearer`) are not client authentication and are ignored.
    pub fn read(
        request: &HttpRequest,
        client_id: Option<&str>,
        client_secret: Option<&str>,
    ) -> Result<Self, TokenError> {
        let client_id = client_id.filter(|id| !id.is_empty());
        let client_secret = client_secret.filter(|secret| !secret.is_empty());
        if let Some((id, secret)) = basic_credentials(request)? {
            if client_secret.is_some() {
                return Err(TokenError::parameter(
                    "client_secret",
                    "two_client_authentications",
                    "the client authenticated with HTTP Basic and client_secret: use one",
                ));
            }
            if client_id.is_some_and(|body_id| body_id != id) {
                return Err(TokenError::parameter(
                    "client_id",
                    "mismatch",
                    "client_id differs from the client in the Authorization header",
                ));
            }
            return Ok(Self::Basic { id, secret });
        }
        Ok(match (client_id, client_secret) {
            (Some(id), Some(secret)) => Self::Body {
                id: id.to_owned(),
                secret: secret.to_owned(),
            },
            // A secret with no id authenticates no one.
            (None, Some(_)) => {
                return Err(TokenError::new(
                    OAuthErrorCode::InvalidClient,
                    "client_secret was sent without client_id",
                ))
            }
            // An id alone identifies a public client; Catalyst has none, so it proves nothing.
            _ => Self::None,
        })
    }
}

/// The id and secret of an `Authorization: Basic` header, each form-decoded (§2.3.1).
fn basic_credentials(request: &HttpRequest) -> Result<Option<(String, String)>, TokenError> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let unreadable = || TokenError::OAuth {
        code: OAuthErrorCode::InvalidClient,
        description:
            "the Authorization header is not valid HTTP Basic: send base64(client_id:client_secret)"
                .to_owned(),
        items: Vec::new(),
        basic_challenge: true,
    };
    let text = value.to_str().map_err(|_| unreadable())?.trim();
    let Some((scheme, encoded)) = text.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| unreadable())?;
    let decoded = String::from_utf8(decoded).map_err(|_| unreadable())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(unreadable)?;
    let id = form_decode(id).ok_or_else(unreadable)?;
    let secret = form_decode(secret).ok_or_else(unreadable)?;
    if id.is_empty() {
        return Err(unreadable());
    }
    Ok(Some((id, secret)))
}

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a space, `%XX` a byte.
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = text.get(index + 1..index + 3)?;
                decoded.push(u8::from_str_radix(hex, 16).ok()?);
                index += 2;
            }
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::form_decode;

    #[test]
    fn form_decoding_reads_plus_and_percent_escapes() {
        assert_eq!(form_decode("cs_a%2Bb+c").as_deref(), Some("cs_a+b c"));
        assert_eq!(form_decode("plain").as_deref(), Some("plain"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("%C3%A9").as_deref(), Some("é"));
    }
}
