//! Reading a request: bodies, query strings, conditional headers, list parameters, cursors
//! and links.

pub mod body;
pub mod conditional;
pub mod id_path;
pub mod links;
pub mod lists;
pub mod pagination;
pub mod query;
