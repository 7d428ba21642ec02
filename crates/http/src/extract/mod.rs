//! Reading a request: bodies, query strings, conditional headers, `Accept`, list parameters,
//! cursors and links.

pub mod accept;
pub mod body;
pub mod conditional;
pub mod id_path;
pub mod links;
pub mod lists;
pub mod pagination;
pub mod query;
