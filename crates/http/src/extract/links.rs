//! URLs the API hands out: `Location` of new resources and `Link` to the next page.

use actix_web::HttpRequest;

use crate::extract::query::QueryParams;

/// `/api/v1/organisations/{id}`.
pub fn resource_path(collection: &str, id: &str) -> String {
    format!("{collection}/{id}")
}

/// `https://host` as the client reached us (actix reads `Forwarded` and `X-Forwarded-*` set by
/// a proxy in front): the start of every absolute URL the API writes.
pub fn base_url(request: &HttpRequest) -> String {
    let connection = request.connection_info();
    format!("{}://{}", connection.scheme(), connection.host())
}

/// `<https://host/path?...&cursor=...>; rel="next"`, keeping the request's other parameters.
pub fn next_link(request: &HttpRequest, params: &QueryParams, cursor: &str) -> String {
    let mut pairs = params.without(&["cursor"]);
    pairs.push(("cursor".to_owned(), cursor.to_owned()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!(
        "<{}{}?{}>; rel=\"next\"",
        base_url(request),
        request.path(),
        query
    )
}
