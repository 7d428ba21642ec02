//! The import engine: reads an import's stored upload row by row (NDJSON lines, or CSV records
//! that may span lines), checks each, and applies it, as `imports` describes; [`worker`] takes
//! waiting jobs in turn on every replica.

use actix_web::web;
use catalyst_domain::{Actor, ImportCollection, Timestamp};
use catalyst_persistence::imports::{self as store, Counts, Import, RowResult};
use catalyst_persistence::{transaction, DbConnection, Pool, StoreError};
use serde_json::Value;

use crate::problem::{ApiError, ProblemItem};
use crate::resources::audit::AuditContext;

mod batch;
mod rows;

use batch::RowWriter;
pub(crate) use rows::PAYMENT_COLUMNS;
use rows::{problem, RowReader};

/// What applying a row came to.
pub enum Applied {
    Created(String),
    Updated(String),
    Unchanged(String),
}

fn problems_of(error: &ApiError) -> Vec<ProblemItem> {
    let document = error.problem();
    if document.errors.is_empty() {
        problem(&document.code, document.detail)
    } else {
        document.errors
    }
}

/// Checks what a row shows on its own (its fields), reading and writing nothing.
fn check_alone(collection: ImportCollection, body: Value) -> Result<(), ApiError> {
    use crate::resources::upsert::ImportRow;
    match collection {
        ImportCollection::Organisations => {
            ImportRow::<catalyst_domain::Organisation>::checked(body).map(drop)
        }
        ImportCollection::Challenges => {
            ImportRow::<catalyst_domain::Challenge>::checked(body).map(drop)
        }
        ImportCollection::Applications => {
            ImportRow::<catalyst_domain::Application>::checked(body).map(drop)
        }
        ImportCollection::Awards => ImportRow::<catalyst_domain::Award>::checked(body).map(drop),
        ImportCollection::Payments => crate::resources::milestones::check_payment(body),
    }
}

fn result_of(
    import: &Import,
    line: i64,
    applied: Result<Applied, Vec<ProblemItem>>,
    counts: &mut Counts,
) -> RowResult {
    counts.processed += 1;
    let (outcome, entity_id, errors) = match applied {
        Ok(Applied::Created(id)) => {
            counts.created += 1;
            ("created", Some(id), None)
        }
        Ok(Applied::Updated(id)) => {
            counts.updated += 1;
            ("updated", Some(id), None)
        }
        Ok(Applied::Unchanged(id)) => {
            counts.unchanged += 1;
            ("unchanged", Some(id), None)
        }
        Err(problems) => {
            counts.rejected += 1;
            ("rejected", None, serde_json::to_string(&problems).ok())
        }
    };
    RowResult {
        import_id: import.id.clone(),
        line,
        outcome: outcome.to_owned(),
        entity_id,
        errors,
    }
}

/// How many rejected rows an all-or-nothing import reports at most: it holds them in memory
/// until its writes are undone, so a file of millions of bad rows cannot exhaust it. The job
/// still counts every rejected row.
const REJECTIONS_REPORTED: usize = 10_000;

/// Processes an import to the end, reporting counts to `progress` as it goes.
pub fn run(
    connection: &mut DbConnection,
    import: &Import,
    actor: &Actor,
    audit: &AuditContext,
    progress: &mut dyn FnMut(Counts),
) -> Result<Counts, StoreError> {
    let batch = crate::resources::imports::batch_rows();
    let collection: ImportCollection = import.collection.parse().map_err(|_| {
        StoreError::Corrupt(format!(
            "import of {:?}: not an importable collection",
            import.collection
        ))
    })?;
    let writer = RowWriter {
        collection,
        actor,
        audit,
    };
    if import.mode == "partial" {
        return run_partial(connection, import, &writer, progress, batch);
    }
    // An earlier attempt that died left results of rows it checked: start again.
    store::clear_results(connection, &import.id)?;
    store::progress(
        connection,
        &import.id,
        "applying",
        Counts::default(),
        crate::resources::imports::lease_from(Timestamp::now()),
    )?;

    // One pass, in one transaction: every row is written as it would be alone, so that each
    // is checked against the rows before it (a Phase 2 award against its Phase 1 award a few
    // lines up, an award against the budget the rows before it claimed). A rejected row dooms
    // the import: the batches after it are only checked on their own (their fields), so that
    // the report names every row that is bad in itself without writing what will be undone;
    // then everything is undone.
    let mut reader = RowReader::new(import);
    let written = transaction(connection, |connection| {
        reader
            .start(connection, collection)?
            .map_err(AllOrNothing::Refused)?;
        let mut counts = Counts::default();
        let mut rejected: Vec<RowResult> = Vec::new();
        loop {
            let rows = reader.next_batch(connection, batch)?;
            if rows.is_empty() {
                break;
            }
            if counts.rejected > 0 {
                for row in rows {
                    match row
                        .body
                        .and_then(|body| check_alone(collection, body).map_err(|e| problems_of(&e)))
                    {
                        Ok(()) => counts.processed += 1,
                        Err(problems) => {
                            let result = result_of(import, row.line, Err(problems), &mut counts);
                            if rejected.len() < REJECTIONS_REPORTED {
                                rejected.push(result);
                            }
                        }
                    }
                }
                progress(counts);
                continue;
            }
            let outcomes = batch::write_rows(connection, rows, &writer)?;
            let mut results = Vec::with_capacity(outcomes.len());
            for (line, outcome) in outcomes {
                let failed = outcome.is_err();
                let result = result_of(import, line, outcome, &mut counts);
                if !failed {
                    results.push(result);
                } else if rejected.len() < REJECTIONS_REPORTED {
                    rejected.push(result);
                }
            }
            if counts.rejected == 0 {
                store::record_results(connection, &results)?;
            }
            // The log's progress lines; the job's own counts commit with the rows, at the end.
            progress(counts);
        }
        if counts.rejected > 0 {
            return Err(AllOrNothing::Rejected(counts, rejected));
        }
        store::finish(connection, &import.id, true, counts, None, Timestamp::now())?;
        Ok::<_, AllOrNothing>(counts)
    });
    let (counts, reason) = match written {
        Ok(counts) => {
            progress(counts);
            return Ok(counts);
        }
        Err(AllOrNothing::Store(error)) => return Err(error),
        Err(AllOrNothing::Refused(reason)) => (Counts::default(), reason),
        Err(AllOrNothing::Rejected(counts, rejected)) => {
            store::record_results(connection, &rejected)?;
            let shown = if rejected.len() < counts.rejected as usize {
                format!("; the first {} are in the results", rejected.len())
            } else {
                String::new()
            };
            let reason = format!(
                "{} of {} rows were rejected, so nothing was imported (see the results{shown}; mode=partial imports the good rows)",
                counts.rejected, counts.processed
            );
            // Nothing was imported: the job counts the rows read and those rejected.
            let counts = Counts {
                processed: counts.processed,
                rejected: counts.rejected,
                ..Counts::default()
            };
            (counts, reason)
        }
    };
    store::finish(
        connection,
        &import.id,
        false,
        counts,
        Some(&reason),
        Timestamp::now(),
    )?;
    progress(counts);
    Ok(counts)
}

/// Why an all-or-nothing import's transaction was undone.
enum AllOrNothing {
    Store(StoreError),
    /// The file cannot be read as rows at all (its header, say).
    Refused(String),
    /// Rows were rejected: the counts, and the first rejections.
    Rejected(Counts, Vec<RowResult>),
}

impl From<StoreError> for AllOrNothing {
    fn from(error: StoreError) -> Self {
        AllOrNothing::Store(error)
    }
}

/// Partial mode: batches of rows in a transaction each, every row on a savepoint, progress and
/// results committed with the batch; a restart resumes after the last batch.
fn run_partial(
    connection: &mut DbConnection,
    import: &Import,
    writer: &RowWriter<'_>,
    progress: &mut dyn FnMut(Counts),
    batch: usize,
) -> Result<Counts, StoreError> {
    let mut reader = RowReader::new(import);
    if let Err(reason) = reader.start(connection, writer.collection)? {
        store::finish(
            connection,
            &import.id,
            false,
            Counts::default(),
            Some(&reason),
            Timestamp::now(),
        )?;
        return Ok(Counts::default());
    }
    let mut counts = Counts {
        processed: import.rows_processed,
        created: import.rows_created,
        updated: import.rows_updated,
        unchanged: import.rows_unchanged,
        rejected: import.rows_rejected,
    };
    // Rows a dead worker committed already.
    for _ in 0..import.rows_processed {
        if reader.next(connection)?.is_none() {
            break;
        }
    }
    loop {
        let (done, batch_counts) = transaction(connection, |connection| {
            let mut batch_counts = counts;
            let rows = reader.next_batch(connection, batch)?;
            let done = rows.is_empty();
            let outcomes = batch::write_rows(connection, rows, writer)?;
            let mut results = Vec::with_capacity(outcomes.len());
            for (line, outcome) in outcomes {
                results.push(result_of(import, line, outcome, &mut batch_counts));
            }
            store::record_results(connection, &results)?;
            store::progress(
                connection,
                &import.id,
                "applying",
                batch_counts,
                crate::resources::imports::lease_from(Timestamp::now()),
            )?;
            Ok::<_, StoreError>((done, batch_counts))
        })?;
        counts = batch_counts;
        progress(counts);
        if done {
            break;
        }
    }
    store::finish(connection, &import.id, true, counts, None, Timestamp::now())?;
    Ok(counts)
}

/// How often a running import says how far it has got.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs inside `serve`: takes waiting imports one at a time, on any replica. Each says when it
/// starts, how far it has got every ten seconds, and how it ended, in the server's log.
pub async fn worker(pool: Pool, queued: std::sync::Arc<tokio::sync::Notify>) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Once a second for jobs queued through other replicas (or left by a dead worker), at
        // once for an upload this server queued.
        tokio::select! {
            _ = ticks.tick() => {}
            _ = queued.notified() => {}
        }
        let pool = pool.clone();
        let round = web::block(move || -> Result<bool, StoreError> {
            let mut connection = pool.get()?;
            let now = Timestamp::now();
            let Some(import) = store::claim_next(
                &mut connection,
                now,
                crate::resources::imports::lease_from(now),
            )?
            else {
                return Ok(false);
            };
            let Some(actor) =
                crate::workers::webhook_delivery::owner_actor(&mut connection, &import.owner)?
            else {
                let counts = Counts::default();
                store::finish(
                    &mut connection,
                    &import.id,
                    false,
                    counts,
                    Some("its owner was deleted or revoked"),
                    Timestamp::now(),
                )?;
                return Ok(true);
            };
            let audit = AuditContext {
                actor: import.owner.clone(),
                request_id: None,
            };
            let started = std::time::Instant::now();
            tracing::info!(
                import = %import.id,
                collection = %import.collection,
                format = %import.format,
                mode = %import.mode,
                bytes = import.bytes,
                resumed_after = import.rows_processed,
                "import started"
            );
            // A line at most every ten seconds while it runs, so a long import shows it moves.
            let mut last_said = std::time::Instant::now();
            let counts = run(&mut connection, &import, &actor, &audit, &mut |counts| {
                if last_said.elapsed() >= PROGRESS_EVERY {
                    last_said = std::time::Instant::now();
                    tracing::info!(
                        import = %import.id,
                        rows = counts.processed,
                        rejected = counts.rejected,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "import progress"
                    );
                }
            })?;
            let finished = store::find(&mut connection, &import.id)?;
            let duration_ms = started.elapsed().as_millis() as u64;
            match finished.error.as_deref() {
                None => tracing::info!(
                    import = %import.id,
                    status = %finished.status,
                    rows = counts.processed,
                    created = counts.created,
                    updated = counts.updated,
                    unchanged = counts.unchanged,
                    rejected = counts.rejected,
                    duration_ms,
                    "import finished"
                ),
                // The owner's file, not the server, is at fault: a warning, saying why.
                Some(reason) => tracing::warn!(
                    import = %import.id,
                    status = %finished.status,
                    rows = counts.processed,
                    rejected = counts.rejected,
                    duration_ms,
                    reason,
                    "import finished"
                ),
            }
            Ok(true)
        })
        .await;
        match round {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "import failed"),
            Err(error) => tracing::warn!(%error, "import failed"),
        }
    }
}
