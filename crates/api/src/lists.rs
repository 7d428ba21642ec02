//! A list's JSON body: a page of resources and the next page's cursor.

use serde::Serialize;

/// A list's JSON body, made from a page of records and the next page's cursor.
pub trait ListBody: Serialize {
    /// The records a page holds.
    type Item: Send + 'static;
    fn page(items: Vec<Self::Item>, next_cursor: Option<String>) -> Self;
}

/// Declares a list's JSON body (`data`, and `next_cursor` always present) and, given `from` a
/// record whose resource is made `From` it, its `ListBody`.
#[macro_export]
macro_rules! list_body {
    ($(#[$meta:meta])* $list:ident of $resource:ty $(, from $record:ty)?) => {
        $(#[$meta])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $list {
            pub data: Vec<$resource>,
            /// Pass as `cursor` for the next page; null on the last page (always present).
            #[schema(required = true)]
            pub next_cursor: Option<String>,
        }
        $(
            impl $crate::lists::ListBody for $list {
                type Item = $record;
                fn page(items: Vec<$record>, next_cursor: Option<String>) -> Self {
                    Self {
                        data: items.iter().map(<$resource>::from).collect(),
                        next_cursor,
                    }
                }
            }
        )?
    };
}
