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
    Int(i32),
}

/// A sort: fields with directions. The id tie-breaker is implied and ascending unless given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort<F> {
    pub keys: Vec<(F, Direction)>,
}

impl<F> Sort<F> {
    /// By one field, ascending (by id: the order exports and walks over everything use).
    pub fn ascending(field: F) -> Self {
        Sort {
            keys: vec![(field, Direction::Ascending)],
        }
    }
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

/// How many rows to fetch for a page: one more than asked tells whether there is a next page
/// without a COUNT.
pub fn fetch_size(limit: usize) -> i64 {
    i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX)
}

/// Turns up to `limit + 1` rows into a page and the position after its last item.
pub fn page<R, T, F: Copy>(
    rows: Vec<R>,
    limit: usize,
    sort: &Sort<F>,
    convert: impl Fn(R) -> Result<T, crate::StoreError>,
    value_of: impl Fn(&F, &T) -> SortValue,
) -> Result<Page<T>, crate::StoreError> {
    let mut items = rows
        .into_iter()
        .map(convert)
        .collect::<Result<Vec<_>, _>>()?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| After {
            values: sort
                .keys
                .iter()
                .map(|(field, _)| value_of(field, last))
                .collect(),
        })
    } else {
        None
    };
    Ok(Page { items, next })
}

/// Reads one page of a keyset-paged list: `$query` (a boxed select of `$row`s, filtered) from
/// past `$after` in `$sort`'s order, at most `$limit` records and the cursor after them. Each
/// table's list function builds its own filters and ends here (a macro, not a function: the
/// boxed query's type names its table and selection).
#[macro_export]
macro_rules! keyset_page {
    ($connection:expr, $query:expr, $row:ty => $record:ty, $field:ty, $sort:expr, $after:expr, $limit:expr) => {{
        let mut query = $query;
        if let Some(after) = $after {
            query = query.filter(<$field>::after($sort, after)?);
        }
        for (field, direction) in &$sort.keys {
            query = query.then_order_by(field.ordering(*direction));
        }
        let rows: Vec<$row> = query
            .limit($crate::keyset::fetch_size($limit))
            .load($connection)?;
        $crate::keyset::page(rows, $limit, $sort, <$record>::try_from, |field, item| {
            field.value_of(item)
        })
    }};
}

/// The SQL side of keyset pagination for one table: how a sort field compares with a cursor
/// value and how it orders. Implemented for each table's sort-field enum by [`sort_fields!`].
pub trait SortColumn<T>: Copy + PartialEq + 'static {
    /// `column = value`, or `column` strictly past `value` in `direction`.
    fn compare(
        &self,
        direction: Direction,
        value: &SortValue,
        strictly_after: bool,
    ) -> Result<Predicate<T>, crate::StoreError>;

    /// `column ASC` or `column DESC`.
    fn ordering(&self, direction: Direction) -> Ordering<T>;
}

/// A boolean condition on table `T`.
pub type Predicate<T> = Box<
    dyn diesel::expression::BoxableExpression<
        T,
        crate::database::MultiBackend,
        SqlType = diesel::sql_types::Bool,
    >,
>;

/// An ORDER BY term on table `T`.
pub type Ordering<T> = Box<
    dyn diesel::expression::BoxableExpression<
        T,
        crate::database::MultiBackend,
        SqlType = diesel::expression::expression_types::NotSelectable,
    >,
>;

/// The sort with the `id` tie-breaker appended when missing, so that the order is total.
pub fn total<F: Copy + PartialEq>(sort: &Sort<F>, id: F) -> Sort<F> {
    let mut keys = sort.keys.clone();
    if !keys.iter().any(|(field, _)| *field == id) {
        keys.push((id, Direction::Ascending));
    }
    Sort { keys }
}

/// Whether a cursor value is text or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKind {
    Text,
    Time,
    Int,
}

/// A table's sortable fields, as a list endpoint needs them without knowing the table.
pub trait SortField: Copy + PartialEq + Send + Sync + 'static {
    /// Each field with its name in `sort=`.
    const ALL: &'static [(&'static str, Self)];
    /// The last key of every sort: ids are unique, so the order is total.
    const ID: Self;
    fn kind(&self) -> SortKind;
}

/// Declares a table's sortable fields: the enum, its names, how to read a value from a row
/// model, and the [`SortColumn`] implementation.
///
/// ```ignore
/// sort_fields!(ProgrammeSort for programmes, Programme {
///     Title => title: Text = |p| p.title.clone(),
///     CreatedAt => created_at: Time = |p| p.created_at,
///     Id => id: Text = |p| p.id.to_string(),
/// });
/// ```
#[macro_export]
macro_rules! sort_fields {
    ($name:ident for $table:ident, $entity:ty {
        $($variant:ident => $column:ident : $kind:ident = |$row:ident| $value:expr),+ $(,)?
    }) => {
        /// The fields a list can be sorted by.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Each field with its name in `sort=`.
            pub const ALL: &'static [(&'static str, $name)] =
                &[$((stringify!($column), $name::$variant)),+];

            /// The value of this field in a row, as a cursor carries it.
            pub fn value_of(&self, entity: &$entity) -> $crate::keyset::SortValue {
                match self {
                    $($name::$variant => { let $row = entity; $crate::sort_fields!(@value $kind, $value) }),+
                }
            }

            pub fn kind(&self) -> $crate::keyset::SortKind {
                match self { $($name::$variant => $crate::keyset::SortKind::$kind),+ }
            }

            /// `(a > x) OR (a = x AND b > y) OR (a = x AND b = y AND id > z) ...`: the rows
            /// strictly after `after` in `sort` order.
            pub fn after(
                sort: &$crate::keyset::Sort<Self>,
                after: &$crate::keyset::After,
            ) -> Result<$crate::keyset::Predicate<$crate::schema::$table::table>, $crate::StoreError> {
                use diesel::BoolExpressionMethods;
                use $crate::keyset::SortColumn;
                type Condition = $crate::keyset::Predicate<$crate::schema::$table::table>;
                if after.values.len() != sort.keys.len() || sort.keys.is_empty() {
                    return Err($crate::StoreError::Corrupt("cursor does not fit the sort".into()));
                }
                let mut any: Option<Condition> = None;
                for position in 0..sort.keys.len() {
                    let mut branch: Option<Condition> = None;
                    for (index, ((field, direction), value)) in
                        sort.keys.iter().zip(&after.values).enumerate().take(position + 1)
                    {
                        let part = field.compare(*direction, value, index == position)?;
                        branch = Some(match branch {
                            None => part,
                            Some(previous) => Box::new(previous.and(part)),
                        });
                    }
                    if let Some(branch) = branch {
                        any = Some(match any {
                            None => branch,
                            Some(previous) => Box::new(previous.or(branch)),
                        });
                    }
                }
                any.ok_or_else(|| $crate::StoreError::Corrupt("empty sort".into()))
            }
        }

        impl $crate::keyset::SortField for $name {
            const ALL: &'static [(&'static str, $name)] = $name::ALL;
            const ID: $name = $name::Id;
            fn kind(&self) -> $crate::keyset::SortKind {
                $name::kind(self)
            }
        }

        impl $crate::keyset::SortColumn<$crate::schema::$table::table> for $name {
            fn compare(
                &self,
                direction: $crate::keyset::Direction,
                value: &$crate::keyset::SortValue,
                strictly_after: bool,
            ) -> Result<$crate::keyset::Predicate<$crate::schema::$table::table>, $crate::StoreError> {
                use diesel::ExpressionMethods;
                match self {
                    $($name::$variant => {
                        let bound = $crate::sort_fields!(@bind $kind, value)?;
                        let column = $crate::schema::$table::$column;
                        Ok(if !strictly_after {
                            Box::new(column.eq(bound))
                        } else if direction == $crate::keyset::Direction::Ascending {
                            Box::new(column.gt(bound))
                        } else {
                            Box::new(column.lt(bound))
                        })
                    }),+
                }
            }

            fn ordering(
                &self,
                direction: $crate::keyset::Direction,
            ) -> $crate::keyset::Ordering<$crate::schema::$table::table> {
                use diesel::ExpressionMethods;
                match (self, direction) {
                    $(
                        ($name::$variant, $crate::keyset::Direction::Ascending) => Box::new($crate::schema::$table::$column.asc()),
                        ($name::$variant, $crate::keyset::Direction::Descending) => Box::new($crate::schema::$table::$column.desc()),
                    )+
                }
            }
        }
    };
    (@value Text, $value:expr) => { $crate::keyset::SortValue::Text($value) };
    (@value Time, $value:expr) => { $crate::keyset::SortValue::Time($value) };
    (@value Int, $value:expr) => { $crate::keyset::SortValue::Int($value) };
    (@bind Int, $value:expr) => {
        match $value {
            $crate::keyset::SortValue::Int(number) => Ok::<_, $crate::StoreError>(*number),
            _ => Err($crate::StoreError::Corrupt("cursor value does not fit its sort field".into())),
        }
    };
    (@bind Text, $value:expr) => {
        match $value {
            $crate::keyset::SortValue::Text(text) => Ok::<_, $crate::StoreError>(text.clone()),
            _ => Err($crate::StoreError::Corrupt("cursor value does not fit its sort field".into())),
        }
    };
    (@bind Time, $value:expr) => {
        match $value {
            $crate::keyset::SortValue::Time(time) => Ok::<_, $crate::StoreError>(time.to_naive_utc()),
            _ => Err($crate::StoreError::Corrupt("cursor value does not fit its sort field".into())),
        }
    };
}
