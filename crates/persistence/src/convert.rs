//! Reading stored text back into domain types.

use crate::error::StoreError;

/// Parses a stored value, reporting the column when the database holds something the domain
/// does not accept.
pub fn parse<T: std::str::FromStr>(
    table: &str,
    column: &str,
    value: &str,
) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{table}.{column} = {value:?}")))
}

/// Space-separated values (scopes, organisation ids) as a list.
pub fn parse_list<T: std::str::FromStr>(
    table: &str,
    column: &str,
    value: &str,
) -> Result<Vec<T>, StoreError> {
    value
        .split_whitespace()
        .map(|item| parse(table, column, item))
        .collect()
}

/// A list as space-separated text.
pub fn join_list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Money from its two columns.
pub fn money(
    table: &str,
    column: &str,
    amount: i64,
    currency: &str,
) -> Result<catalyst_domain::Money, StoreError> {
    catalyst_domain::Currency::parse(currency)
        .and_then(|currency| catalyst_domain::Money::new(amount, currency))
        .map_err(|_| StoreError::Corrupt(format!("{table}.{column} = {amount} {currency:?}")))
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends for ASCII: case-insensitive search, since `LIKE`
    /// ignores case on SQLite and not on PostgreSQL.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `%text%` with LIKE's wildcards in `text` taken literally.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}
