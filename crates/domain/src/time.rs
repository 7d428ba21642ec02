//! Timestamps: UTC with microsecond precision, the finest precision both PostgreSQL and our SQLite
//! encoding keep. Truncating on creation means a value read back equals the value written, which
//! keyset cursors and ETags rely on.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant in UTC, at microsecond precision, sent as RFC 3339 (`2026-11-26T09:30:00.123456Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    pub fn from_datetime(value: DateTime<Utc>) -> Self {
        Self(value.trunc_subsecs(6))
    }

    /// From the naive UTC value the database stores.
    pub fn from_naive_utc(value: NaiveDateTime) -> Self {
        Self::from_datetime(value.and_utc())
    }

    pub fn to_naive_utc(self) -> NaiveDateTime {
        self.0.naive_utc()
    }

    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// Parses RFC 3339 with any offset, normalised to UTC.
    pub fn parse_rfc3339(text: &str) -> Result<Self, chrono::ParseError> {
        DateTime::parse_from_rfc3339(text)
            .map(|value| Self::from_datetime(value.with_timezone(&Utc)))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
            .description(Some("RFC 3339 UTC timestamp with microseconds"))
            .examples([serde_json::Value::String(
                "2026-11-26T09:30:00.123456Z".into(),
            )])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_utc_with_microseconds() {
        let parsed = Timestamp::parse_rfc3339("2026-11-26T10:30:00.123456789+01:00").unwrap();
        assert_eq!(parsed.to_string(), "2026-11-26T09:30:00.123456Z");
    }

    #[test]
    fn survives_a_round_trip_through_the_naive_database_value() {
        let now = Timestamp::now();
        assert_eq!(Timestamp::from_naive_utc(now.to_naive_utc()), now);
    }

    #[test]
    fn rejects_text_that_is_not_rfc3339() {
        assert!(Timestamp::parse_rfc3339("26/11/2026").is_err());
        assert!(Timestamp::parse_rfc3339("2026-11-26").is_err());
    }
}
