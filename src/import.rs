//! `catalyst import FILE`: the same import as `POST /api/v1/imports`, run here against the
//! database: progress on standard error (a bar on a terminal), the summary on standard output.

use std::io::{BufRead, BufReader, IsTerminal};
use std::path::Path;

use catalyst_domain::{Actor, Role, Timestamp, UserId};
use catalyst_http::resources::audit::AuditContext;
use catalyst_persistence::imports::{self as store, Counts, Import};
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

/// Where progress goes: a bar for a person at a terminal; for a log or a pipe, a plain line at
/// each tenth of the way (never the carriage returns that pile up in a file).
enum Progress {
    Bar(indicatif::ProgressBar),
    Lines { total: i64, next_tenth: i64 },
}

impl Progress {
    fn new(total: i64) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(0));
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} rows {msg} ({elapsed})",
            ) {
                bar.set_style(style);
            }
            Self::Bar(bar)
        } else {
            Self::Lines {
                total,
                next_tenth: 1,
            }
        }
    }

    fn update(&mut self, counts: &Counts) {
        let summary = format!(
            "{} created, {} updated, {} rejected",
            counts.created, counts.updated, counts.rejected
        );
        match self {
            Self::Bar(bar) => {
                bar.set_length(u64::try_from(counts.processed.max(bar_total(bar))).unwrap_or(0));
                bar.set_position(u64::try_from(counts.processed).unwrap_or(0));
                bar.set_message(summary);
            }
            Self::Lines { total, next_tenth } => {
                let total = (*total).max(1);
                let mut crossed = false;
                while *next_tenth <= 10 && counts.processed * 10 >= *next_tenth * total {
                    *next_tenth += 1;
                    crossed = true;
                }
                if crossed {
                    eprintln!(
                        "{}/{} rows ({}%): {summary}",
                        counts.processed,
                        total.max(counts.processed),
                        (counts.processed * 100 / total).min(100)
                    );
                }
            }
        }
    }

    fn finish(self) {
        if let Self::Bar(bar) = self {
            bar.finish();
        }
    }
}

fn bar_total(bar: &indicatif::ProgressBar) -> i64 {
    bar.length()
        .and_then(|length| i64::try_from(length).ok())
        .unwrap_or(0)
}

/// A rejected row's problems, one line each: `line 12: /kind: kind must be one of ...`.
fn rejected_lines(line: i64, errors: Option<&str>) -> Vec<String> {
    let items: Vec<serde_json::Value> = errors
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    if items.is_empty() {
        return vec![format!("line {line}: rejected")];
    }
    items
        .iter()
        .map(|item| {
            let detail = item["detail"].as_str().unwrap_or("rejected");
            let at = item["pointer"]
                .as_str()
                .map(|pointer| pointer.trim_start_matches('#').to_owned())
                .or_else(|| item["parameter"].as_str().map(str::to_owned))
                .filter(|at| !at.is_empty());
            match at {
                Some(at) => format!("line {line}: {at}: {detail}"),
                None => format!("line {line}: {detail}"),
            }
        })
        .collect()
}

pub fn run(
    pool: &Pool,
    file: &Path,
    collection: &str,
    mode: &str,
    format: Option<&str>,
) -> Result<(), String> {
    if collection
        .parse::<catalyst_domain::ImportCollection>()
        .is_err()
    {
        return Err(format!(
            "{collection:?} cannot be imported; importable: {}",
            catalyst_domain::ImportCollection::expected()
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
    let bytes =
        catalyst_http::resources::imports::upload_file(&mut connection, &import, &mut source)
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
    let mut progress = Progress::new(rows);
    let counts = catalyst_http::workers::import_engine::run(
        &mut connection,
        &import,
        &actor,
        &audit,
        &mut |counts| progress.update(&counts),
    )
    .map_err(|e| e.to_string())?;
    progress.finish();
    let finished = store::find(&mut connection, &import.id).map_err(|e| e.to_string())?;
    let (rejected, more) = store::results(&mut connection, &import.id, Some("rejected"), None, 20)
        .map_err(|e| e.to_string())?;
    for row in &rejected {
        for line in rejected_lines(row.line, row.errors.as_deref()) {
            eprintln!("{line}");
        }
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
        // The engine's reason speaks HTTP (`mode=partial`); here the switch is --mode.
        Some(_) if finished.status == "failed" && counts.rejected > 0 && mode == "all_or_nothing" => {
            Err(format!(
                "{} of {} rows were rejected, so nothing was imported: correct them, or run again with --mode partial to import the good rows",
                counts.rejected, counts.processed
            ))
        }
        Some(error) if finished.status == "failed" => Err(error),
        _ => Ok(()),
    }
}
