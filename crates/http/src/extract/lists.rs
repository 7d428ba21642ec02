//! What every list endpoint shares: parameters checked, `limit`, `sort`, a cursor bound to the
//! filters and sort it was made with, and the response with `next_cursor` and `Link`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use catalyst_domain::{Actor, Timestamp};
use catalyst_persistence::keyset::{After, Direction, Page, Sort, SortField, SortKind};
use catalyst_persistence::DbConnection;
use serde::Serialize;

use crate::auth::caller::Reader;
use crate::extract::links::next_link;
use crate::extract::pagination::{
    decode_cursor, encode_cursor, fingerprint, parse_limit, parse_sort, KeyKind,
};
use crate::extract::query::QueryParams;
use crate::problem::{ApiError, ProblemItem};
use crate::server::state::AppState;
pub use catalyst_api::ListBody;

/// Parameters every list takes.
const COMMON: &[&str] = &["limit", "cursor", "sort", "updated_since"];

/// A list request being parsed: collect filter errors in `errors`, then call [`Self::finish`].
pub struct ListRequest<F> {
    pub params: QueryParams,
    pub limit: usize,
    pub sort: Sort<F>,
    pub updated_since: Option<Timestamp>,
    pub errors: Vec<ProblemItem>,
    fingerprint: String,
}

/// Where a list is read: the primary, or (for a caller without a token, who has no writes of
/// its own to see) the read replica when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListReads {
    Primary,
    ReplicaForAnonymous,
}

impl<F: SortField> ListRequest<F> {
    /// Reads the common parameters; `filters` names the list's own, `default_sort` the order
    /// without `sort`.
    pub fn parse(
        request: &HttpRequest,
        filters: &[&str],
        default_sort: &[(F, Direction)],
    ) -> Result<Self, ApiError> {
        let known: Vec<&str> = COMMON.iter().chain(filters).copied().collect();
        let params = QueryParams::parse(request, &known)?;
        let mut errors = Vec::new();
        let limit = parse_limit(params.get("limit"))
            .map_err(|e| errors.push(e))
            .unwrap_or(0);
        let keys = parse_sort(params.get("sort"), default_sort, F::ALL)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        let sort = catalyst_persistence::keyset::total(&Sort { keys }, F::ID);
        let updated_since = params.get("updated_since").and_then(|text| match Timestamp::parse_rfc3339(text) {
            Ok(time) => Some(time),
            Err(_) => {
                errors.push(ProblemItem::parameter(
                    "updated_since",
                    "invalid_timestamp",
                    format!("updated_since must be an RFC 3339 timestamp such as 2026-11-26T09:30:00Z, got {text:?}"),
                ));
                None
            }
        });
        let fingerprint = fingerprint(
            &serde_urlencoded::to_string(params.without(&["limit", "cursor"])).unwrap_or_default(),
        );
        Ok(Self {
            params,
            limit,
            sort,
            updated_since,
            errors,
            fingerprint,
        })
    }

    /// A filter that must be an id of some kind.
    pub fn id_filter<T: std::str::FromStr>(&mut self, name: &str) -> Option<T> {
        let text = self.params.get(name)?;
        match text.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                self.errors.push(ProblemItem::parameter(
                    name,
                    "invalid_id",
                    format!("{name} must be a UUID, got {text:?}"),
                ));
                None
            }
        }
    }

    /// An enumeration filter.
    pub fn enum_filter<T: std::str::FromStr>(
        &mut self,
        name: &str,
        expected: impl FnOnce() -> String,
    ) -> Option<T> {
        self.params.parse_value(name, &mut self.errors, expected)
    }

    /// The `q` text filter, trimmed; control characters are refused.
    pub fn text_filter(&mut self, name: &str) -> Option<String> {
        self.params.text(name, &mut self.errors)
    }

    /// Fails with every problem found in the parameters, or reads the page `load` finds for
    /// the caller `reader` names (after the cursor, at most `limit`, in `sort` order) and
    /// answers with it as the list body `B` and a `Link` to the next page.
    pub async fn answer<B>(
        mut self,
        request: &HttpRequest,
        state: &AppState,
        reads: ListReads,
        reader: impl Reader + Clone,
        mut load: impl FnMut(
                &mut DbConnection,
                &Actor,
                &Sort<F>,
                Option<&After>,
                usize,
            ) -> Result<Page<B::Item>, ApiError>
            + Send
            + 'static,
    ) -> Result<HttpResponse, ApiError>
    where
        B: ListBody,
    {
        let after = self.finish()?;
        let (sort, limit) = (self.sort.clone(), self.limit);
        // The caller is loaded on the hop that reads the page: one trip to the blocking pool.
        let work = move |connection: &mut DbConnection| {
            let actor = reader.clone().load(connection)?;
            load(connection, &actor, &sort, after.as_ref(), limit)
        };
        let page = match reads {
            ListReads::Primary => state.with_connection(work).await?,
            ListReads::ReplicaForAnonymous => state.with_list_connection(request, work).await?,
        };
        let next_cursor = self.cursor(page.next.as_ref());
        let body = B::page(page.items, next_cursor.clone());
        Ok(self.respond(request, next_cursor.as_deref(), &body))
    }

    /// Fails with every problem found, or decodes the cursor.
    fn finish(&mut self) -> Result<Option<After>, ApiError> {
        if !self.errors.is_empty() {
            return Err(ApiError::InvalidQuery(std::mem::take(&mut self.errors)));
        }
        let Some(cursor) = self.params.get("cursor") else {
            return Ok(None);
        };
        let kinds: Vec<KeyKind> = self
            .sort
            .keys
            .iter()
            .map(|(field, _)| match field.kind() {
                SortKind::Text => KeyKind::Text,
                SortKind::Time => KeyKind::Time,
                SortKind::Int => KeyKind::Int,
            })
            .collect();
        decode_cursor(cursor, &self.fingerprint, &kinds)
            .map(Some)
            .map_err(|problem| ApiError::InvalidQuery(vec![problem]))
    }

    /// The response: `body` (which holds `next_cursor`) and a `Link` to the next page.
    fn respond<B: Serialize>(
        &self,
        request: &HttpRequest,
        next_cursor: Option<&str>,
        body: &B,
    ) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        if let Some(cursor) = next_cursor {
            response.insert_header((header::LINK, next_link(request, &self.params, cursor)));
        }
        response.json(body)
    }

    /// The opaque cursor for `next`.
    fn cursor(&self, next: Option<&After>) -> Option<String> {
        next.map(|after| encode_cursor(after, &self.fingerprint))
    }
}

/// A collection's two documented list handlers over the function `serve` names (its
/// `list(request, caller, state, parent)`): the records under one parent
/// (`/parents/{id}/children`, the parent from the path) and all the caller may see.
/// `guard = signed_in` refuses anonymous callers first; `missing` documents the nested list's
/// 404. The calling module imports `actix_web::get` (utoipa reads the route attribute by that
/// name).
macro_rules! list_endpoints {
    (
        tag = $tag:expr, serve = $serve:ident, params = $params:ty, body = $body:ty,
        page = $page:tt
        $(, security = $security:tt)? $(, guard = $signed_in:ident)?;
        $(#[doc = $nested_doc:tt])*
        $nested:ident: $nested_path:tt, under $parent:ty $(, missing = $missing:tt)?;
        $(#[doc = $all_doc:tt])*
        $all:ident: $all_path:tt;
    ) => {
        $(#[doc = $nested_doc])*
        #[utoipa::path(
            tag = $tag, $(security $security,)?
            params($crate::extract::id_path::IdPath<$parent>, $params),
            responses(
                (status = 200, description = $page, body = $body),
                $((status = 404, description = $missing),)?
            )
        )]
        #[get($nested_path)]
        pub async fn $nested(
            request: actix_web::HttpRequest,
            caller: $crate::auth::CallerToken,
            $crate::extract::id_path::IdPath(parent): $crate::extract::id_path::IdPath<$parent>,
            state: actix_web::web::Data<$crate::server::state::AppState>,
        ) -> Result<actix_web::HttpResponse, $crate::problem::ApiError> {
            $(caller.$signed_in()?;)?
            $serve(request, caller, state, Some(parent)).await
        }

        $(#[doc = $all_doc])*
        #[utoipa::path(
            tag = $tag, $(security $security,)? params($params),
            responses((status = 200, description = $page, body = $body))
        )]
        #[get($all_path)]
        pub async fn $all(
            request: actix_web::HttpRequest,
            caller: $crate::auth::CallerToken,
            state: actix_web::web::Data<$crate::server::state::AppState>,
        ) -> Result<actix_web::HttpResponse, $crate::problem::ApiError> {
            $(caller.$signed_in()?;)?
            $serve(request, caller, state, None).await
        }
    };
}

pub(crate) use list_endpoints;
