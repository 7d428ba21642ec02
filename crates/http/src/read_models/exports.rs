//! Exports, `GET /api/v1/exports/{collection}`: a whole collection as CSV or NDJSON, streamed a
//! page at a time so that memory stays flat whatever the size, with the caller's visibility
//! applied exactly as its lists apply it.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use catalyst_api::{
    applications::ApplicationResource, awards::AwardResource, challenges::ChallengeResource,
    milestones::MilestoneResource, organisations::OrganisationResource, phases::PhaseResource,
    programmes::ProgrammeResource, trials::TrialResource,
};
use catalyst_domain::{Actor, Scope};
use catalyst_persistence::keyset::{After, Page, Sort};
use catalyst_persistence::{
    applications, awards, challenges, milestones, organisations, phases, programmes, trials,
    DbConnection, StoreError,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::extract::accept::{negotiate, varies_by_accept};
use crate::extract::query::QueryParams;
use crate::problem::{ApiError, ProblemItem};
use crate::server::state::AppState;

pub const TAG: &str = "exports";

/// Rows fetched per query: large enough to amortise the round trip, small enough that a page
/// in memory stays well under a megabyte.
const PAGE_ROWS: usize = 1000;

/// Pages buffered between the database thread and the network: the back-pressure that keeps
/// memory flat when the client reads slowly.
const PAGES_IN_FLIGHT: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Ndjson,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
        }
    }
}

/// A collection that can be exported: its CSV columns (paths into the JSON resource, `.` for
/// nesting; `external_source` and `external_id` are its first partner key) and how to read one
/// page of it as the caller sees it. Those that import read their exports back: the same
/// column names, the `id` naming the record, read-only columns ignored. `payments` is the
/// paid milestones in the payments import's own columns, so finance can read back what it
/// sent.
struct Collection {
    name: &'static str,
    columns: &'static [&'static str],
}

const COLLECTIONS: [Collection; 9] = [
    Collection {
        name: "organisations",
        columns: &[
            "id",
            "name",
            "kind",
            "scale",
            "region",
            "identifier.scheme",
            "identifier.id",
            "website",
            "external_source",
            "external_id",
            "version",
            "created_at",
            "updated_at",
        ],
    },
    Collection {
        name: "programmes",
        columns: &[
            "id",
            "code",
            "title",
            "description",
            "funder_organisation_id",
            "budget.amount",
            "budget.currency",
            "opens_on",
            "closes_on",
            "version",
            "created_at",
            "updated_at",
        ],
    },
    Collection {
        name: "challenges",
        columns: &[
            "id",
            "programme_id",
            "owner_organisation_id",
            "reference",
            "title",
            "problem_statement",
            "themes",
            "documents",
            "status",
            "opens_at",
            "closes_at",
            "external_source",
            "external_id",
            "version",
            "created_at",
            "updated_at",
        ],
    },
    Collection {
        name: "phases",
        columns: &[
            "id",
            "challenge_id",
            "number",
            "kind",
            "budget.amount",
            "budget.currency",
            "max_award.amount",
            "max_suppliers",
            "starts_on",
            "ends_on",
            "open_to_all",
            "committed.amount",
            "remaining.amount",
            "status",
            "version",
            "created_at",
            "updated_at",
        ],
    },
    Collection {
        name: "applications",
        columns: &[
            "id",
            "phase_id",
            "challenge_id",
            "supplier_organisation_id",
            "amount_requested.amount",
            "amount_requested.currency",
            "summary",
            "status",
            "assessment_score",
            "submitted_at",
            "external_source",
            "external_id",
            "version",
            "created_at",
            "updated_at",
        ],
    },
    Collection {
        name: "awards",
        columns: &[
            "id",
            "phase_id",
            "challenge_id",
            "application_id",
            "supplier_organisation_id",
            "contract_reference",
            "amount.amount",
            "amount.currency",
            "paid.amount",
            "outstanding.amount",
            "vat_included",
            "starts_on",
            "ends_on",
            "parent_award_id",
            "status",
            "external_source",
            "external_id",
            "version",
            "created_at",
            "updated_at",
        ],
    },
    Collection {
        name: "milestones",
        columns: &[
            "id",
            "award_id",
            "kind",
            "title",
            "due_on",
            "amount.amount",
            "amount.currency",
            "status",
            "invoiced_on",
            "paid_on",
            "version",
            "created_at",
            "updated_at",
        ],
    },
    Collection {
        name: "payments",
        columns: &crate::workers::import_engine::PAYMENT_COLUMNS,
    },
    Collection {
        name: "trials",
        columns: &[
            "id",
            "award_id",
            "host_organisation_id",
            "supplier_organisation_id",
            "title",
            "sites",
            "units",
            "unit_label",
            "starts_on",
            "ends_on",
            "public",
            "result",
            "adopted",
            "follow_on_value.amount",
            "follow_on_value.currency",
            "status",
            "version",
            "created_at",
            "updated_at",
        ],
    },
];

/// The CSV columns `collection` exports, if it has an export (imports read them back).
pub(crate) fn csv_columns(collection: &str) -> Option<&'static [&'static str]> {
    COLLECTIONS
        .iter()
        .find(|exported| exported.name == collection)
        .map(|exported| exported.columns)
}

/// One page of a collection as JSON values, in id order, after `after`.
type PageReader =
    Box<dyn FnMut(&mut DbConnection, Option<&After>) -> Result<Page<Value>, StoreError> + Send>;

fn to_values<T, R: Serialize>(
    page: Page<T>,
    resource: impl Fn(&T) -> R,
) -> Result<Page<Value>, StoreError> {
    let items = page
        .items
        .iter()
        .map(|item| serde_json::to_value(resource(item)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| StoreError::Corrupt(error.to_string()))?;
    Ok(Page {
        items,
        next: page.next,
    })
}

/// A page reader over a store's `list` in id order, as `$resource`: with `seen`, what the
/// caller may see of it (worked out once, before any page).
macro_rules! pages {
    ($store:ident, $sort:ident, $resource:ty) => {
        Box::new(|connection, after| {
            let sort = Sort::ascending($store::$sort::Id);
            let page = $store::list(connection, &Default::default(), &sort, after, PAGE_ROWS)?;
            to_values(page, |item| <$resource>::from(item))
        })
    };
    ($store:ident, $sort:ident, $resource:ty, seen = $seen:expr) => {{
        let seen = $seen;
        Box::new(move |connection, after| {
            let sort = Sort::ascending($store::$sort::Id);
            let page = $store::list(
                connection,
                &seen,
                &Default::default(),
                &sort,
                after,
                PAGE_ROWS,
            )?;
            to_values(page, |item| <$resource>::from(item))
        })
    }};
}

/// How `actor` reads pages of `collection`: the same visibility as the collection's list.
fn page_reader(collection: &str, actor: &Actor) -> Option<PageReader> {
    Some(match collection {
        "organisations" => pages!(organisations, OrganisationSortField, OrganisationResource),
        "programmes" => pages!(programmes, ProgrammeSortField, ProgrammeResource),
        "challenges" => pages!(
            challenges,
            ChallengeSortField,
            ChallengeResource,
            seen = crate::resources::challenges::visibility(actor)
        ),
        "phases" => pages!(
            phases,
            PhaseSortField,
            PhaseResource,
            seen = crate::resources::challenges::visibility(actor)
        ),
        "applications" => pages!(
            applications,
            ApplicationSortField,
            ApplicationResource,
            seen = crate::resources::applications::private_visibility(actor)
        ),
        "awards" => pages!(awards, AwardSortField, AwardResource),
        // Payments are the paid milestones, read the same way, as rows of the payments import.
        "milestones" | "payments" => {
            let seen = crate::resources::applications::private_visibility(actor);
            let payments = collection == "payments";
            let filter = milestones::MilestoneFilter {
                status: payments.then_some(catalyst_domain::MilestoneStatus::Paid),
                ..Default::default()
            };
            Box::new(move |connection, after| {
                let sort = Sort::ascending(milestones::MilestoneSortField::Id);
                let page = milestones::list(connection, &seen, &filter, &sort, after, PAGE_ROWS)?;
                if payments {
                    to_values(page, payment_row)
                } else {
                    to_values(page, |item| MilestoneResource::from(item))
                }
            })
        }
        "trials" => pages!(
            trials,
            TrialSortField,
            TrialResource,
            seen = crate::resources::trials::visibility(actor)
        ),
        _ => return None,
    })
}

/// A paid milestone as a row of the payments import (NDJSON's shape; CSV flattens it).
fn payment_row(milestone: &catalyst_domain::Milestone) -> Value {
    let mut row = serde_json::Map::new();
    row.insert("milestone_id".to_owned(), milestone.id.to_string().into());
    if let Some(key) = milestone.external_ids.first() {
        row.insert(
            "milestone_external_id".to_owned(),
            serde_json::json!({"source": key.source, "id": key.id}),
        );
    }
    row.insert("paid_on".to_owned(), serde_json::json!(milestone.paid_on));
    if let Some(amount) = milestone.fields.amount {
        row.insert("amount".to_owned(), serde_json::json!(amount));
    }
    Value::Object(row)
}

/// The value at `path` (`budget.amount`) as a CSV cell.
fn cell(item: &Value, path: &str) -> String {
    // A partner's key for the record, the first it has (as the import reads one).
    let path = match path {
        "external_source" => "external_ids.0.source",
        "external_id" => "external_ids.0.id",
        "milestone_source" => "milestone_external_id.source",
        "milestone_external_id" => "milestone_external_id.id",
        other => other,
    };
    let mut value = item;
    for key in path.split('.') {
        let inner = match key.parse::<usize>() {
            Ok(index) => value.get(index),
            Err(_) => value.get(key),
        };
        match inner {
            Some(inner) => value = inner,
            None => return String::new(),
        }
    }
    let text = match value {
        Value::Null => return String::new(),
        Value::String(text) => neutralise_formula(text),
        // Lists are `; `-separated; a document link is `Title <url>` (the import reads both).
        Value::Array(values) => neutralise_formula(
            &values
                .iter()
                .map(|value| match value {
                    Value::String(text) => text.clone(),
                    Value::Object(link) => match (link.get("title"), link.get("url")) {
                        (Some(Value::String(title)), Some(Value::String(url))) => {
                            format!("{title} <{url}>")
                        }
                        _ => value.to_string(),
                    },
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => other.to_string(),
    };
    quote(&text)
}

/// Text as a CSV cell: formula-neutralised and quoted.
pub(crate) fn text_cell(text: &str) -> String {
    quote(&neutralise_formula(text))
}

/// Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula: text from the
/// API gets a leading apostrophe there (OWASP's advice on CSV injection). Numbers are not text
/// and keep their sign.
fn neutralise_formula(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// RFC 4180 quoting.
fn quote(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn write_page(
    format: Format,
    columns: &[&str],
    items: &[Value],
    out: &mut Vec<u8>,
) -> Result<(), StoreError> {
    for item in items {
        match format {
            Format::Ndjson => {
                serde_json::to_writer(&mut *out, item)
                    .map_err(|error| StoreError::Corrupt(error.to_string()))?;
                out.push(b'\n');
            }
            Format::Csv => {
                let row: Vec<String> = columns.iter().map(|column| cell(item, column)).collect();
                out.extend_from_slice(row.join(",").as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    Ok(())
}

fn choose_format(request: &HttpRequest, params: &QueryParams) -> Result<Format, ApiError> {
    if let Some(format) = params.get("format") {
        return match format {
            "csv" => Ok(Format::Csv),
            "ndjson" => Ok(Format::Ndjson),
            other => Err(ApiError::InvalidQuery(vec![ProblemItem::parameter(
                "format",
                "unknown_format",
                format!("format must be csv or ndjson, got {other:?}"),
            )])),
        };
    }
    match negotiate(
        request.headers(),
        &["application/x-ndjson", "text/csv", "application/jsonl"],
    )? {
        "text/csv" => Ok(Format::Csv),
        _ => Ok(Format::Ndjson),
    }
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `QueryParams` parses them.
pub struct ExportParams {
    /// `csv` or `ndjson`; without it, the `Accept` header decides (NDJSON by default).
    format: Option<String>,
}

/// Export a whole collection.
///
/// Streams every record of the collection that you may see, in id order, as CSV (a header
/// row, then one row per record; money as minor units; lists joined with "; ") or NDJSON (one
/// JSON resource per line, as `GET` returns it). Memory on the server stays flat whatever the
/// size. For people of any role, and for API clients with the `reports` scope.
#[utoipa::path(
    tag = TAG,
    operation_id = "export_collection",
    params(
        ("collection" = String, Path, description = "organisations, programmes, challenges, phases, applications, awards, milestones, payments (paid milestones, in the payments import's columns) or trials"),
        ExportParams,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The collection, streamed",
            content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400, description = "An unknown format"),
        (status = 403, description = "An API client without the reports scope"),
        (status = 404, description = "No such collection"),
        (status = 406, description = "Neither CSV nor NDJSON is acceptable"),
    )
)]
#[get("/exports/{collection}")]
pub async fn export_collection(
    request: HttpRequest,
    caller: Caller,
    collection: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.actor();
    match actor {
        Actor::Anonymous => {
            return Err(ApiError::Unauthenticated(
                "sign in to export: exports are for people and API clients with the reports scope"
                    .to_owned(),
            ))
        }
        Actor::Client { .. } if !actor.has_scope(Scope::Reports) => {
            return Err(ApiError::Forbidden(
                "exports need an API client with the reports scope".to_owned(),
            ))
        }
        _ => {}
    }
    let params = QueryParams::parse(&request, &["format"])?;
    let Some(spec) = COLLECTIONS
        .iter()
        .find(|spec| spec.name == collection.as_str())
    else {
        return Err(ApiError::NotFound(format!(
            "no collection {:?} to export; exports are: {}",
            collection.as_str(),
            COLLECTIONS.map(|spec| spec.name).join(", ")
        )));
    };
    let format = choose_format(&request, &params)?;
    let mut read_page = page_reader(spec.name, actor).ok_or(ApiError::Internal)?;
    let columns = spec.columns;
    // Exports may lag the primary a moment: the read replica serves them when there is one.
    let pool = state.reads.clone();

    // The first page is read before answering, so that a database that is down is a 503
    // rather than a broken stream.
    let first = {
        let pool = pool.clone();
        let (page, reader) = web::block(move || -> Result<_, ApiError> {
            let page = pool.read(unavailable, |connection| read_page(connection, None))?;
            Ok((page, read_page))
        })
        .await??;
        read_page = reader;
        page
    };

    let (sender, receiver) =
        tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(PAGES_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let fail = |error: StoreError| {
            tracing::warn!(%error, "export stopped");
            std::io::Error::other("the export stopped")
        };
        let mut page = first;
        let mut out = Vec::new();
        if format == Format::Csv {
            out.extend_from_slice(columns.join(",").as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        loop {
            if let Err(error) = write_page(format, columns, &page.items, &mut out) {
                let _ = sender.blocking_send(Err(fail(error)));
                return;
            }
            if sender
                .blocking_send(Ok(Bytes::from(std::mem::take(&mut out))))
                .is_err()
            {
                return; // The client went away.
            }
            let Some(after) = page.next.take() else {
                return;
            };
            // A connection per page: a slow reader never holds one between pages.
            let next = pool.read(unavailable, |connection| {
                read_page(connection, Some(&after))
            });
            match next {
                Ok(next) => page = next,
                Err(error) => {
                    let _ = sender.blocking_send(Err(fail(error)));
                    return;
                }
            }
        }
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Ok(varies_by_accept(&mut HttpResponse::Ok())
        .content_type(format.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}.{}\"",
                spec.name,
                format.extension()
            ),
        ))
        .streaming(body))
}

fn unavailable(error: &StoreError) -> bool {
    matches!(error, StoreError::Unavailable(_))
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(export_collection);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_are_quoted_flattened_and_never_formulas() {
        let item = json!({"title": "Sensors, \"smart\" ones", "budget": {"amount": -5, "currency": "GBP"},
            "themes": ["Housing", "IoT"], "summary": "=HYPERLINK(\"x\")", "none": null});
        assert_eq!(cell(&item, "title"), "\"Sensors, \"\"smart\"\" ones\"");
        assert_eq!(cell(&item, "budget.amount"), "-5");
        assert_eq!(cell(&item, "budget.currency"), "GBP");
        assert_eq!(cell(&item, "themes"), "Housing; IoT");
        let listed = json!({"themes": ["=SUM(A1)", "IoT"],
            "documents": [{"title": "Brief, v2", "url": "https://a.example/b"}, {"title": "Spec", "url": "https://a.example/s"}]});
        assert_eq!(cell(&listed, "themes"), "'=SUM(A1); IoT");
        assert_eq!(
            cell(&listed, "documents"),
            "\"Brief, v2 <https://a.example/b>; Spec <https://a.example/s>\""
        );
        assert_eq!(cell(&item, "summary"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell(&item, "none"), "");
        assert_eq!(cell(&item, "missing.path"), "");
    }
}
