//! What every report's endpoints share: the parameters they document and the macros that write
//! their handlers (JSON with CSV by negotiation, the `.csv` twin, the `.svg` chart). Declared
//! before the report modules, so that the macros are in scope there.

use utoipa::IntoParams;

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `ask` parses them.
pub struct ReportParams {
    #[param(value_type = Option<uuid::Uuid>)]
    programme_id: Option<String>,
    /// The public body that owns the challenges (hosts the trials).
    #[param(value_type = Option<uuid::Uuid>)]
    owner_id: Option<String>,
    /// The suppliers' ITL1 region, such as `yorkshire_and_the_humber`.
    region: Option<String>,
    /// First day counted (`YYYY-MM-DD`): an award counts on its start (or the day it was
    /// recorded), a payment on the day it was paid, an application on submission, a trial on
    /// its start.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last day counted.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
    /// A UK financial year, 1 April to 31 March: `2019-20`.
    financial_year: Option<String>,
    /// Dimensions, comma-separated; each report lists its own.
    group_by: Option<String>,
}

/// A report's format, where the path does not say it.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameter; `ask` parses it.
pub struct ReportFormat {
    /// `json` or `csv`; without it, `Accept` decides (JSON by default). The `.csv` paths give
    /// CSV to clients that cannot choose by a parameter (generated clients).
    format: Option<String>,
}

/// One documented report handler answering with `$answer`: the responses every format shares
/// (400 for a bad filter, 403 outside the reports' audience) and its own 200 and extras.
macro_rules! report_handler {
    (
        $(#[$attribute:meta])*
        $handler:ident at $path:tt, params($($params:tt)*), ok($($ok:tt)*),
        extra($($extra:tt)*), answer = $answer:ident
    ) => {
        $(#[$attribute])*
        #[utoipa::path(
            tag = TAG, security(("bearer" = [])), params($($params)*),
            responses(
                (status = 200, $($ok)*),
                (status = 400, description = "An unknown dimension or a malformed filter"),
                (status = 403, description = "Not for suppliers, nor API clients without the reports scope"),
                $($extra)*
            )
        )]
        #[get($path)]
        pub async fn $handler(
            request: HttpRequest,
            caller: Caller,
            state: web::Data<AppState>,
        ) -> Result<HttpResponse, ApiError> {
            $answer(request, caller, state).await
        }
    };
}

/// A report's handlers, documented: the JSON one (CSV when `format` or `Accept` asks), its
/// `.csv` twin (CSV whatever `Accept` says, for clients that choose a format by path: generated
/// ones decode one media type per call) and, for a report with a chart, its `.svg` twin. All
/// give `$answer`'s report.
macro_rules! report_endpoints {
    (
        $(#[doc = $doc:tt])*
        $handler:ident at $path:tt, $csv_handler:ident at $csv_path:tt,
        $(chart $svg_handler:ident at $svg_path:tt,)?
        schema = $schema:path, answer = $answer:ident, csv_summary = $csv_summary:tt
    ) => {
        report_handler! {
            $(#[doc = $doc])*
            $handler at $path, params(ReportParams, ReportFormat),
            ok(description = "The report: JSON, or CSV (its rows, with a header)", content(
                ($schema = "application/json"), (String = "text/csv"))),
            extra((status = 406, description = "Neither JSON nor CSV is acceptable"),),
            answer = $answer
        }

        report_handler! {
            #[doc = $csv_summary]
            $csv_handler at $csv_path, params(ReportParams),
            ok(description = "The report's rows as CSV, with a header", body = String, content_type = "text/csv"),
            extra(), answer = $answer
        }

        $(
        report_handler! {
            /// The same rows, drawn as an SVG bar chart.
            ///
            /// Titled, with what it covers under the title, each value written over its bar,
            /// series told apart by pattern as well as colour, and every figure in the SVG's
            /// `<desc>` for screen readers. At most 40 groups are drawn (the subtitle says
            /// when there are more); money in several currencies draws GBP (or the first).
            $svg_handler at $svg_path, params(ReportParams),
            ok(description = "The report as an SVG bar chart", body = String, content_type = "image/svg+xml"),
            extra(), answer = $answer
        }
        )?
    };
}
