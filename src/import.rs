//! `catalyst import FILE`: the same import as `POST /api/v1/imports`, run here against the
//! database, with a progress bar on standard error.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use catalyst_domain::{Actor, Role, Timestamp, UserId};
use catalyst_http::audit::AuditContext;
use catalyst_persistence::imports::{self as store, Import};
use catalyst_persistence::Pool;

/// The operator runs the CLI with the database's own credentials: it acts as an admin.
const ACTOR: &str = "system:cli";

fn count_lines(file: &Path) -> Result<i64, String> {
    let reader = BufReader::new(
        std::fs::File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?,
    );
    let mut lines = 0i64;
    for line in reader.split(b'\n') {
        line.map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        lines += 1;
    }
    Ok(lines)
}

fn bar(done: i64, total: i64) -> String {
    const WIDTH: i64 = 30;
    let filled = if total > 0 {
        (done.min(total) * WIDTH) / total
    } else {
        WIDTH
    };
    let filled = usize::try_from(filled).unwrap_or(0);
    format!(
        "[{}{}]",
        "#".repeat(filled),
        ".".repeat(30 - filled.min(30))
    )
}

pub fn run(
    pool: &Pool,
    file: &Path,
    collection: &str,
    mode: &str,
    format: Option<&str>,
) -> Result<(), String> {
    if !catalyst_http::imports::COLLECTIONS.contains(&collection) {
        return Err(format!(
            "{collection:?} cannot be imported; importable: {}",
            catalyst_http::imports::COLLECTIONS.join(", ")
        ));
    }
    if mode != "all_or_nothing" && mode != "partial" {
        return Err(format!("--mode is all_or_nothing or partial, not {mode:?}"));
    }
    let format = match format {
        Some(format @ ("csv" | "ndjson")) => format.to_owned(),
        Some(other) => return Err(format!("--format is csv or ndjson, not {other:?}")),
        None if file
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("csv")) =>
        {
            "csv".to_owned()
        }
        None => "ndjson".to_owned(),
    };
    let total_lines = count_lines(file)?;
    let mut source =
        std::fs::File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    let mut connection = pool.get().map_err(|e| e.to_string())?;
    let now = Timestamp::now();
    // Claimed for a day: the servers leave it to this process.
    let import = Import {
        id: uuid::Uuid::now_v7().to_string(),
        owner: ACTOR.to_owned(),
        collection: collection.to_owned(),
        format,
        mode: mode.to_owned(),
        status: "validating".to_owned(),
        bytes: 0,
        rows_processed: 0,
        rows_created: 0,
        rows_updated: 0,
        rows_unchanged: 0,
        rows_rejected: 0,
        error: None,
        claimed_until: Some(now.to_naive_utc() + chrono::Duration::days(1)),
        created_at: now.to_naive_utc(),
        started_at: Some(now.to_naive_utc()),
        finished_at: None,
    };
    store::insert(&mut connection, &import).map_err(|e| e.to_string())?;
    let bytes = catalyst_http::imports::upload_file(&mut connection, &import, &mut source)
        .map_err(|e| e.to_string())?;
    store::received(&mut connection, &import.id, bytes).map_err(|e| e.to_string())?;

    let actor = Actor::User {
        id: UserId::generate(),
        role: Role::Admin,
        organisations: Vec::new(),
    };
    let audit = AuditContext {
        actor: ACTOR.to_owned(),
        request_id: None,
    };
    let rows = if import.format == "csv" {
        total_lines - 1
    } else {
        total_lines
    };
    let mut stderr = std::io::stderr();
    let counts = catalyst_http::import_engine::run(
        &mut connection,
        &import,
        &actor,
        &audit,
        &mut |counts| {
            let _ = write!(
                stderr,
                "\r{} {}/{} rows: {} created, {} updated, {} rejected",
                bar(counts.processed, rows),
                counts.processed,
                rows.max(counts.processed),
                counts.created,
                counts.updated,
                counts.rejected
            );
            let _ = stderr.flush();
        },
    )
    .map_err(|e| e.to_string())?;
    eprintln!();
    let finished = store::find(&mut connection, &import.id).map_err(|e| e.to_string())?;
    let (rejected, more) = store::results(&mut connection, &import.id, Some("rejected"), None, 20)
        .map_err(|e| e.to_string())?;
    for row in &rejected {
        eprintln!(
            "line {}: {}",
            row.line,
            row.errors.as_deref().unwrap_or("rejected")
        );
    }
    if more {
        eprintln!(
            "(more rejected rows: GET /api/v1/imports/{}/results?outcome=rejected)",
            import.id
        );
    }
    println!(
        "import {}: {} ({} rows: {} created, {} updated, {} unchanged, {} rejected)",
        import.id,
        finished.status,
        counts.processed,
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.rejected
    );
    match finished.error {
        Some(error) if finished.status == "failed" => Err(error),
        _ => Ok(()),
    }
}
