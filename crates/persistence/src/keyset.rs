//! Keyset pagination: a page starts strictly after the last row of the one before, compared on
//! the full sort key, which always ends with the unique id. Unlike OFFSET it neither slows down on
//! deep pages nor repeats or skips rows when others are inserted meanwhile.

use catalyst_domain::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

/// One value of a sort key, as the cursor carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Text(String),
    Time(Timestamp),
}

/// A sort: fields with directions. The id tie-breaker is implied and ascending unless given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort<F> {
    pub keys: Vec<(F, Direction)>,
}

/// Where the previous page ended: the sort-key values of its last row, in sort order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub values: Vec<SortValue>,
}

/// A page of rows, with the position to continue from when there are more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<After>,
}
