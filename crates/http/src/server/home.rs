//! `GET /`: a small page for people who arrive with a browser: what this service is, and where
//! to go next (the API documentation, the opportunity feeds, the open data).

use actix_web::http::header;
use actix_web::{get, HttpResponse};

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Catalyst: innovation challenges and the SMEs that solve them</title>
<link rel="alternate" type="application/atom+xml" title="Challenges open for applications" href="/api/v1/feeds/challenges.atom">
<style>
body { font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #0b0c0c; }
a { color: #1d70b8; }
code { background: #f3f2f1; padding: 0 .2rem; }
</style>
</head>
<body>
<main>
<h1>Catalyst</h1>
<p>Catalyst keeps one record of public bodies' innovation challenges (SBRI): what was asked,
the phases in which small and medium-sized enterprises (SMEs) were contracted to solve it, the
money committed and paid, and the trials of their solutions with what they measured.</p>
<h2>For suppliers</h2>
<ul>
<li><a href="/api/v1/feeds/challenges.atom">Challenges open for applications</a> (an Atom feed for your feed reader)</li>
<li><a href="/api/v1/feeds/challenges.ics">Application deadlines and phase dates</a> (an iCalendar feed for your calendar)</li>
</ul>
<h2>Open data</h2>
<ul>
<li><a href="/api/v1/ocds/releases">Contracting processes</a> in the Open Contracting Data Standard</li>
<li><a href="/api/v1/challenges">Challenges</a>, <a href="/api/v1/awards">awards</a> and <a href="/api/v1/organisations">organisations</a> as JSON</li>
</ul>
<h2>For developers</h2>
<ul>
<li><a href="/docs/">API documentation</a>, and the <a href="/api/v1/openapi.json">OpenAPI document</a> to generate a client from</li>
<li><a href="/api/v1">The API's index</a> of links; reports (funding, SME share, payment times, the supplier funnel) and their charts (the same paths ending <code>.svg</code>) need an access token from <code>/api/v1/auth/token</code></li>
</ul>
</main>
</body>
</html>
"#;

/// A page for people: what this service is and where to go next.
#[utoipa::path(
    tag = "meta", operation_id = "get_home",
    responses((status = 200, description = "A page for people arriving with a browser", body = String, content_type = "text/html"))
)]
#[get("/")]
pub async fn get_home() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // Styles but never scripts: the page needs none.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(PAGE)
}
