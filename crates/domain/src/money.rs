//! Money as an integer count of minor units (pence) with its currency: never a float, never
//! negative. Sent as `{"amount": 5000000, "currency": "GBP"}`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 currency code. Catalyst's programmes spend pounds sterling, but a partner's data can
/// carry others, so the code is kept rather than assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const GBP: Currency = Currency(*b"GBP");

    /// Three upper-case ASCII letters, as ISO 4217 spells them.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|byte| byte.is_ascii_uppercase()) => {
                Ok(Self([*a, *b, *c]))
            }
            _ => Err(MoneyError::InvalidCurrency(code.to_owned())),
        }
    }

    pub fn code(&self) -> &str {
        // The bytes are checked ASCII letters, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency must be a three-letter ISO 4217 code such as GBP, got {0:?}")]
    InvalidCurrency(String),
    #[error("amount must not be negative, got {0}")]
    Negative(i64),
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount is too large")]
    Overflow,
}

/// A non-negative amount in minor units (pence for GBP).
///
/// ```
/// use catalyst_domain::Money;
///
/// let phase_one_award = Money::gbp_pence(5_000_000).unwrap(); // GBP 50,000.00
/// let five_suppliers = (0..4).try_fold(phase_one_award, |sum, _| sum.checked_add(phase_one_award));
/// assert_eq!(five_suppliers.unwrap().minor_units(), 25_000_000);
/// assert!(Money::gbp_pence(-1).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyWire", into = "MoneyWire")]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// The wire form, before the rules are checked.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyWire {
    amount: i64,
    currency: Currency,
}

impl TryFrom<MoneyWire> for Money {
    type Error = MoneyError;

    fn try_from(wire: MoneyWire) -> Result<Self, Self::Error> {
        Money::new(wire.amount, wire.currency)
    }
}

impl From<Money> for MoneyWire {
    fn from(money: Money) -> Self {
        MoneyWire {
            amount: money.minor,
            currency: money.currency,
        }
    }
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        if minor < 0 {
            return Err(MoneyError::Negative(minor));
        }
        Ok(Self { minor, currency })
    }

    pub fn gbp_pence(pence: i64) -> Result<Self, MoneyError> {
        Self::new(pence, Currency::GBP)
    }

    pub fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    pub fn minor_units(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    /// `None` when `other` is larger: money never goes negative.
    pub fn checked_sub(self, other: Money) -> Result<Option<Money>, MoneyError> {
        self.same_currency(other)?;
        Ok(self
            .minor
            .checked_sub(other.minor)
            .filter(|minor| *minor >= 0)
            .map(|minor| Money { minor, ..self }))
    }

    fn same_currency(&self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

/// Minor units as a decimal of major units, `1234.05` (`-0.50` for -50): how spreadsheets read
/// an amount, and how exports and reports write one.
pub fn decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let size = minor.unsigned_abs();
    format!("{sign}{}.{:02}", size / 100, size % 100)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, decimal(self.minor))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{schema::Type, ObjectBuilder};
        ObjectBuilder::new()
            .description(Some(
                "An amount in integer minor units (pence) with its currency",
            ))
            .property(
                "amount",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Int64,
                    )))
                    .minimum(Some(0))
                    .description(Some("Minor units: 5000000 is GBP 50,000.00")),
            )
            .required("amount")
            .property(
                "currency",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[A-Z]{3}$"))
                    .max_length(Some(3))
                    .description(Some("ISO 4217 code")),
            )
            .required("currency")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ))
            .examples([serde_json::json!({"amount": 5_000_000, "currency": "GBP"})])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_amounts_are_refused() {
        assert_eq!(Money::gbp_pence(-1), Err(MoneyError::Negative(-1)));
    }

    #[test]
    fn amounts_of_different_currencies_do_not_add() {
        let pounds = Money::gbp_pence(100).unwrap();
        let euros = Money::new(100, Currency::parse("EUR").unwrap()).unwrap();
        assert!(matches!(
            pounds.checked_add(euros),
            Err(MoneyError::CurrencyMismatch(_, _))
        ));
    }

    #[test]
    fn subtraction_never_goes_negative() {
        let fifty_thousand = Money::gbp_pence(5_000_000).unwrap();
        let sixty_thousand = Money::gbp_pence(6_000_000).unwrap();
        assert_eq!(fifty_thousand.checked_sub(sixty_thousand), Ok(None));
        assert_eq!(
            sixty_thousand.checked_sub(fifty_thousand),
            Ok(Some(Money::gbp_pence(1_000_000).unwrap()))
        );
    }

    #[test]
    fn addition_reports_overflow() {
        let huge = Money::gbp_pence(i64::MAX).unwrap();
        assert_eq!(huge.checked_add(huge), Err(MoneyError::Overflow));
    }

    #[test]
    fn serialises_as_integer_minor_units_with_currency() {
        let money = Money::gbp_pence(5_000_000).unwrap();
        let json = serde_json::to_value(money).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"amount": 5_000_000, "currency": "GBP"})
        );
        let back: Money = serde_json::from_value(json).unwrap();
        assert_eq!(back, money);
    }

    #[test]
    fn wire_form_rejects_floats_negatives_and_bad_codes() {
        for bad in [
            serde_json::json!({"amount": 50.5, "currency": "GBP"}),
            serde_json::json!({"amount": -5, "currency": "GBP"}),
            serde_json::json!({"amount": 5, "currency": "gbp"}),
            serde_json::json!({"amount": "5", "currency": "GBP"}),
        ] {
            assert!(
                serde_json::from_value::<Money>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn displays_pounds_and_pence() {
        assert_eq!(
            Money::gbp_pence(5_000_050).unwrap().to_string(),
            "GBP 50000.50"
        );
        assert_eq!(decimal(5), "0.05");
        assert_eq!(decimal(-50), "-0.50");
        assert_eq!(decimal(-12_345), "-123.45");
        assert_eq!(decimal(i64::MIN), "-92233720368547758.08");
    }
}
