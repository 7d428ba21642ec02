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

/// Parameters every list takes; `updated_since` only where the list reads it.
const COMMON: &[&str] = &["limit", "cursor", "sort"];

/// A list request being parsed. The list reads its filters through it (`updated_since`,
/// `id_filter`, `enum_filter`, `text_filter`), and what it reads is what it takes: a
/// parameter it never read is refused as unknown when it answers (so a filter the list does not
/// apply is a 400, never a silently unfiltered page).
pub struct ListRequest<F> {
    params: QueryParams,
    pub limit: usize,
    pub sort: Sort<F>,
    errors: Vec<ProblemItem>,
    /// The parameters read, in the order read: the ones this list takes.
    taken: Vec<&'static str>,
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
    /// Reads the common parameters; `default_sort` is the order without `sort`.
    pub fn parse(request: &HttpRequest, default_sort: &[(F, Direction)]) -> Result<Self, ApiError> {
        let params = QueryParams::parse_any(request)?;
        let mut errors = Vec::new();
        let limit = parse_limit(params.get("limit"))
            .map_err(|e| errors.push(e))
            .unwrap_or(0);
        let keys = parse_sort(params.get("sort"), default_sort, F::ALL)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        let sort = catalyst_persistence::keyset::total(&Sort { keys }, F::ID);
        let fingerprint = fingerprint(
            &serde_urlencoded::to_string(params.without(&["limit", "cursor"])).unwrap_or_default(),
        );
        Ok(Self {
            params,
            limit,
            sort,
            errors,
            taken: COMMON.to_vec(),
            fingerprint,
        })
    }

    /// `updated_since`: only what changed at or after this time.
    pub fn updated_since(&mut self) -> Option<Timestamp> {
        let text = self.take("updated_since")?;
        match Timestamp::parse_rfc3339(text) {
            Ok(time) => Some(time),
            Err(_) => {
                let problem = ProblemItem::parameter(
                    "updated_since",
                    "invalid_timestamp",
                    format!("updated_since must be an RFC 3339 timestamp such as 2026-11-26T09:30:00Z, got {text:?}"),
                );
                self.errors.push(problem);
                None
            }
        }
    }

    /// A filter that must be an id of some kind.
    pub fn id_filter<T: std::str::FromStr>(&mut self, name: &'static str) -> Option<T> {
        let text = self.take(name)?;
        match text.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                let problem = ProblemItem::parameter(
                    name,
                    "invalid_id",
                    format!("{name} must be a UUID, got {text:?}"),
                );
                self.errors.push(problem);
                None
            }
        }
    }

    /// An enumeration filter.
    pub fn enum_filter<T: std::str::FromStr>(
        &mut self,
        name: &'static str,
        expected: impl FnOnce() -> String,
    ) -> Option<T> {
        self.taken.push(name);
        self.params.parse_value(name, &mut self.errors, expected)
    }

    /// The `q` text filter, trimmed; control characters are refused.
    pub fn text_filter(&mut self, name: &'static str) -> Option<String> {
        self.taken.push(name);
        self.params.text(name, &mut self.errors)
    }

    /// Notes `name` as one this list takes, and gives its value.
    fn take(&mut self, name: &'static str) -> Option<&str> {
        self.taken.push(name);
        self.params.get(name)
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
        let mut problems = self.params.unknown(&self.taken);
        problems.append(&mut self.errors);
        if !problems.is_empty() {
            return Err(ApiError::InvalidQuery(problems));
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
