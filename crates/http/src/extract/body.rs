//! Reading JSON request bodies: content type, size limit, and serde errors turned into field
//! errors that point at the member at fault.

use std::time::Duration;

use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest};
use futures_util::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use tokio::time::Instant;

use crate::problem::{ApiError, ProblemItem};

/// The default body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Members the server manages (`status` moves only through transitions); a client sending one
/// is told so rather than "unknown field".
const SERVER_MANAGED: &[&str] = &["id", "version", "created_at", "updated_at", "status"];

/// Which media types a body may have.
#[derive(Debug, Clone, Copy)]
pub enum Accepts {
    Json,
    /// `application/merge-patch+json` (RFC 7396) or `application/json`.
    MergePatch,
}

/// Reads the body (up to `limit` bytes) and deserialises it.
pub async fn read_json<T: DeserializeOwned>(
    request: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    accepts: Accepts,
) -> Result<T, ApiError> {
    check_content_type(request, accepts)?;
    let body = read_bytes(request, payload, limit).await?;
    parse_json(&body)
}

/// How long a client may take to send a body: `initial`, and one second more for every
/// `min_bytes_per_second` received (Apache's mod_reqtimeout rule). A large upload at a fair rate
/// finishes; a client trickling bytes to hold a connection open is cut off with 408.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeout {
    pub initial: Duration,
    pub min_bytes_per_second: u64,
}

impl Default for BodyTimeout {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(20),
            min_bytes_per_second: 64 * 1024,
        }
    }
}

/// A request body read chunk by chunk under its [`BodyTimeout`].
pub struct BodyChunks<S> {
    payload: S,
    timeout: BodyTimeout,
    started: Instant,
    received: u64,
}

impl<S> BodyChunks<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    pub fn new(payload: S, timeout: BodyTimeout) -> Self {
        Self {
            payload,
            timeout,
            started: Instant::now(),
            received: 0,
        }
    }

    /// The next chunk, `None` at the end; 408 when the body is late, 400 when it breaks off.
    pub async fn next(&mut self) -> Result<Option<Bytes>, ApiError> {
        let earned = self.received / self.timeout.min_bytes_per_second.max(1);
        let deadline = self.started + self.timeout.initial + Duration::from_secs(earned);
        match tokio::time::timeout_at(deadline, self.payload.next()).await {
            Err(_) => Err(ApiError::BodyTimeout {
                seconds: self.started.elapsed().as_secs(),
            }),
            Ok(None) => Ok(None),
            Ok(Some(Err(error))) => Err(ApiError::MalformedJson(format!(
                "the body could not be read: {error}"
            ))),
            Ok(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                Ok(Some(chunk))
            }
        }
    }
}

/// Reads the whole body, refusing more than `limit` bytes without reading them all.
pub async fn read_bytes(
    request: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, ApiError> {
    let declared_length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared_length.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let timeout = request
        .app_data::<web::Data<crate::server::state::AppState>>()
        .map(|state| state.body_timeout)
        .unwrap_or_default();
    let mut chunks = BodyChunks::new(payload, timeout);
    let mut body = web::BytesMut::new();
    while let Some(chunk) = chunks.next().await? {
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The media type of the body, lower case, without parameters.
pub fn content_type_essence(request: &HttpRequest) -> String {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn check_content_type(request: &HttpRequest, accepts: Accepts) -> Result<(), ApiError> {
    let essence = content_type_essence(request);
    let accepted = match accepts {
        Accepts::Json => essence == "application/json",
        Accepts::MergePatch => {
            essence == "application/json" || essence == "application/merge-patch+json"
        }
    };
    if accepted {
        Ok(())
    } else {
        let expected = match accepts {
            Accepts::Json => "application/json",
            Accepts::MergePatch => "application/merge-patch+json or application/json",
        };
        let got = if essence.is_empty() {
            "no Content-Type".to_owned()
        } else {
            format!("Content-Type {essence}")
        };
        Err(ApiError::UnsupportedMediaType(format!(
            "the body must be {expected}, got {got}"
        )))
    }
}

/// Deserialises `body`, reporting where and why it does not fit `T`.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::MalformedJson(
            "the body is empty: send a JSON object".to_owned(),
        ));
    }
    // Syntax first, so trailing garbage is "malformed" even when the start is a valid object.
    let UniqueMembers(value) =
        serde_json::from_slice(body).map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    // Every body is an object; serde would otherwise read a struct from an array of its members.
    if !value.is_object() {
        return Err(ApiError::invalid_member(
            "#",
            "invalid_type",
            "the body must be a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(describe)
}

/// A JSON value in which no object names a member twice (I-JSON, RFC 7493): in
/// `{"name": "a", "name": "b"}` parsers disagree on which wins, so it is refused as malformed.
struct UniqueMembers(serde_json::Value);

impl<'de> serde::Deserialize<'de> for UniqueMembers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueMembersVisitor)
            .map(UniqueMembers)
    }
}

struct UniqueMembersVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueMembersVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Self::Value, E> {
        // JSON Schema and JavaScript count `19.0` as the integer 19; so does the API, wherever
        // an integer is expected. A fraction is still a fraction.
        const TWO_TO_63: f64 = 9_223_372_036_854_775_808.0;
        if value.fract() == 0.0 && (-TWO_TO_63..TWO_TO_63).contains(&value) {
            #[allow(clippy::cast_possible_truncation)]
            return Ok((value as i64).into());
        }
        serde_json::Number::from_f64(value)
            .map(serde_json::Value::Number)
            .ok_or_else(|| E::custom("a number out of range"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut items: A,
    ) -> Result<Self::Value, A::Error> {
        let mut values = Vec::new();
        while let Some(UniqueMembers(value)) = items.next_element()? {
            values.push(value);
        }
        Ok(serde_json::Value::Array(values))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut members: A,
    ) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(name) = members.next_key::<String>()? {
            if object.contains_key(&name) {
                return Err(serde::de::Error::custom(format!(
                    "the member {name:?} appears twice"
                )));
            }
            let UniqueMembers(value) = members.next_value()?;
            object.insert(name, value);
        }
        Ok(serde_json::Value::Object(object))
    }
}

/// Deserialises a JSON value already parsed (an import's row), reporting where and why it does
/// not fit `T`.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(describe)
}

fn describe(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = error.inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::MalformedJson(inner.to_string())
        }
        Category::Data => {
            let path = pointer_path(error.path());
            let message = without_position(&inner.to_string());
            let item = field_item(&path, &message);
            ApiError::InvalidBody {
                detail: item.detail.clone(),
                items: vec![item],
            }
        }
    }
}

/// serde_json appends " at line L column C"; the pointer says where more usefully.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// `a.b[0]` as the JSON Pointer path `a/b/0` (without the leading `#/`).
fn pointer_path(path: &serde_path_to_error::Path) -> Vec<String> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect()
}

fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn pointer(segments: &[String]) -> String {
    let mut pointer = String::from("#");
    for segment in segments {
        pointer.push('/');
        pointer.push_str(&escape_segment(segment));
    }
    pointer
}

/// The text between the first pair of backticks, as serde quotes field names.
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let length = message[start..].find('`')?;
    Some(&message[start..start + length])
}

fn field_item(path: &[String], message: &str) -> ProblemItem {
    if message.starts_with("unknown field") {
        // serde_path_to_error's path already ends at the unknown member.
        let name = quoted_name(message).unwrap_or("");
        let mut full = path.to_vec();
        if full.last().map(String::as_str) != Some(name) {
            full.push(name.to_owned());
        }
        if full.len() == 1 && SERVER_MANAGED.contains(&name) {
            return ProblemItem::member(
                pointer(&full),
                "read_only_field",
                format!("{name} is managed by the server and cannot be set"),
            );
        }
        return ProblemItem::member(pointer(&full), "unknown_field", message.to_owned());
    }
    if message.starts_with("missing field") {
        let name = quoted_name(message).unwrap_or("");
        let mut full = path.to_vec();
        full.push(name.to_owned());
        return ProblemItem::member(pointer(&full), "required", format!("{name} is required"));
    }
    let code = if message.starts_with("unknown variant") {
        "invalid_value"
    } else if message.starts_with("invalid type") {
        "invalid_type"
    } else {
        "invalid_value"
    };
    let where_ = path.last().map(String::as_str).unwrap_or("body");
    ProblemItem::member(pointer(path), code, format!("{where_}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        id: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        count: Option<u32>,
        inner: Option<Inner>,
    }

    fn item(body: &str) -> ProblemItem {
        match parse_json::<Outer>(body.as_bytes()) {
            Err(ApiError::InvalidBody { items, .. }) => items[0].clone(),
            other => panic!("expected InvalidBody, got {other:?}"),
        }
    }

    #[test]
    fn a_wrong_type_points_at_the_member() {
        let item = item(r#"{"name": "x", "count": "seven"}"#);
        assert_eq!(item.pointer.as_deref(), Some("#/count"));
        assert_eq!(item.code, "invalid_type");
        assert!(!item.detail.contains("line"), "{}", item.detail);
    }

    #[test]
    fn an_unknown_nested_member_is_named() {
        let item = item(r#"{"name": "x", "inner": {"id": "1", "colour": "red"}}"#);
        assert_eq!(item.pointer.as_deref(), Some("#/inner/colour"));
        assert_eq!(item.code, "unknown_field");
    }

    #[test]
    fn server_managed_members_are_read_only() {
        let item = item(r#"{"name": "x", "version": 3}"#);
        assert_eq!(item.pointer.as_deref(), Some("#/version"));
        assert_eq!(item.code, "read_only_field");
    }

    #[test]
    fn a_missing_member_is_required() {
        let item = item(r#"{"inner": {"id": "1"}}"#);
        assert_eq!(item.pointer.as_deref(), Some("#/name"));
        assert_eq!(item.code, "required");
    }

    #[test]
    fn broken_json_is_malformed_not_invalid() {
        for body in [r#"{"name": "x""#, "", "[1,", r#"{"name": "x"} trailing"#] {
            assert!(
                matches!(
                    parse_json::<Outer>(body.as_bytes()),
                    Err(ApiError::MalformedJson(_))
                ),
                "{body}"
            );
        }
    }
}
