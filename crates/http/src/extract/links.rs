//! URLs the API hands out: `Location` of new resources and `Link` to the next page.

use actix_web::HttpRequest;

use crate::extract::query::QueryParams;

/// `/api/v1/organisations/{id}`.
pub fn resource_path(collection: &str, id: &str) -> String {
    format!("{collection}/{id}")
}

/// `<https://host/path?...&cursor=...>; rel="next"`, keeping the request's other parameters.
pub fn next_link(request: &HttpRequest, params: &QueryParams, cursor: &str) -> String {
    let connection = request.connection_info();
    let mut pairs = params.without(&["cursor"]);
    pairs.push(("cursor".to_owned(), cursor.to_owned()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!(
        "<{}://{}{}?{}>; rel=\"next\"",
        connection.scheme(),
        connection.host(),
        request.path(),
        query
    )
}
