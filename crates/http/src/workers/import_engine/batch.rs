//! Writing an import's rows a batch at a time. Rows that create records of a collection that can
//! be made without reading the database (`CreatedInBulk`) are gathered and written together:
//! the records, their keys, audit records and changes, each in multi-row statements. Every other
//! row is written alone, after the rows before it, so that it reads what they wrote. If a
//! gathered write fails (a key or an identifier taken, which only the database can tell), it is
//! undone and its rows are written one at a time, so that each row ends as it would have alone.

use std::collections::HashSet;

use catalyst_domain::{Actor, ExternalId};
use catalyst_persistence::{external_ids, transaction, DbConnection, StoreError};

use super::rows::RawRow;
use super::{apply, problems_of, Applied};
use crate::problem::{ApiError, ProblemItem};
use crate::resources::audit::AuditContext;
use crate::resources::upsert::{CreatedInBulk, ImportRow, Keyed};

/// What became of a row: its record, or why not.
type RowOutcome = Result<Applied, Vec<ProblemItem>>;

/// A row's line and what became of it.
pub(super) type Outcome = (i64, RowOutcome);

/// A row's line and what became of it once it is written (gathered rows wait for theirs).
type Slot = (i64, Option<RowOutcome>);

/// How a failed row is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnFailure {
    /// Undo the row alone (on a savepoint) and go on: partial mode.
    SkipRow,
    /// Stop: the failure is the last outcome, and the caller undoes everything (all or nothing).
    Stop,
}

/// Who writes an import's rows into which collection, and what a failed row does.
#[derive(Clone, Copy)]
pub(super) struct RowWriter<'a> {
    pub collection: &'a str,
    pub actor: &'a Actor,
    pub audit: &'a AuditContext,
    pub on_failure: OnFailure,
}

/// Writes `rows` in file order and says what became of each (up to the first failure, with
/// `OnFailure::Stop`).
pub(super) fn write_rows(
    connection: &mut DbConnection,
    rows: Vec<RawRow>,
    writer: &RowWriter<'_>,
) -> Result<Vec<Outcome>, StoreError> {
    match writer.collection {
        "organisations" => write_in_bulk::<catalyst_domain::Organisation>(connection, rows, writer),
        "challenges" => write_in_bulk::<catalyst_domain::Challenge>(connection, rows, writer),
        _ => Ok(write_one_by_one(connection, rows, writer)),
    }
}

fn write_one_by_one(
    connection: &mut DbConnection,
    rows: Vec<RawRow>,
    writer: &RowWriter<'_>,
) -> Vec<Outcome> {
    let RowWriter {
        collection,
        actor,
        audit,
        on_failure,
    } = *writer;
    let mut outcomes = Vec::with_capacity(rows.len());
    for row in rows {
        let outcome = row.body.and_then(|body| {
            write_one(connection, on_failure, |connection| {
                apply(connection, collection, body, actor, audit, false)
            })
        });
        let failed = outcome.is_err();
        outcomes.push((row.line, outcome));
        if failed && on_failure == OnFailure::Stop {
            break;
        }
    }
    outcomes
}

/// One row's write, on a savepoint of its own when a failure skips the row.
fn write_one(
    connection: &mut DbConnection,
    on_failure: OnFailure,
    write: impl FnOnce(&mut DbConnection) -> Result<Applied, ApiError>,
) -> RowOutcome {
    match on_failure {
        OnFailure::Stop => write(connection).map_err(|error| problems_of(&error)),
        OnFailure::SkipRow => transaction(connection, |connection| {
            write(connection).map_err(SavepointFailure::Api)
        })
        .map_err(|failure| match failure {
            SavepointFailure::Api(error) => problems_of(&error),
            SavepointFailure::Store(error) => problems_of(&ApiError::from(error)),
        }),
    }
}

enum SavepointFailure {
    Api(ApiError),
    Store(StoreError),
}

impl From<StoreError> for SavepointFailure {
    fn from(error: StoreError) -> Self {
        SavepointFailure::Store(error)
    }
}

/// New records gathered to be written together, with the outcome slot and the row of each (to
/// write it alone if the gathered write fails).
struct Gathered<T: Keyed> {
    slots: Vec<usize>,
    records: Vec<T>,
    rows: Vec<ImportRow<T>>,
    keys: HashSet<ExternalId>,
}

impl<T: Keyed> Default for Gathered<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            records: Vec::new(),
            rows: Vec::new(),
            keys: HashSet::new(),
        }
    }
}

fn write_in_bulk<T>(
    connection: &mut DbConnection,
    rows: Vec<RawRow>,
    writer: &RowWriter<'_>,
) -> Result<Vec<Outcome>, StoreError>
where
    T: CreatedInBulk,
{
    let RowWriter {
        actor,
        audit,
        on_failure,
        ..
    } = *writer;
    let checked: Vec<(i64, Result<ImportRow<T>, _>)> = rows
        .into_iter()
        .map(|row| {
            let checked = row.body.and_then(|body| {
                ImportRow::<T>::checked(body).map_err(|error| problems_of(&error))
            });
            (row.line, checked)
        })
        .collect();
    // The keys that name records already: rows with one update, so they are written alone.
    let keys: Vec<&ExternalId> = checked
        .iter()
        .filter_map(|(_, row)| row.as_ref().ok())
        .filter(|row| row.id.is_none())
        .flat_map(|row| &row.external_ids)
        .collect();
    let known = external_ids::known(connection, T::COLLECTION, &keys)?;

    let mut outcomes: Vec<Slot> = Vec::with_capacity(checked.len());
    let mut gathered = Gathered::<T>::default();
    let mut stopped = false;
    for (line, row) in checked {
        let slot = outcomes.len();
        outcomes.push((line, None));
        let outcome = match row {
            Err(problems) => Err(problems),
            Ok(row) if is_new(&row, &known, &gathered.keys) => {
                let made = T::new_record(
                    connection,
                    actor,
                    row.checked.clone(),
                    row.external_ids.clone(),
                );
                match made {
                    Ok(record) => {
                        gathered.keys.extend(row.external_ids.iter().cloned());
                        gathered.slots.push(slot);
                        gathered.records.push(record);
                        gathered.rows.push(row);
                        continue;
                    }
                    Err(error) => Err(problems_of(&error)),
                }
            }
            Ok(row) => {
                // It may name a record gathered before it: write those first.
                if !flush(connection, &mut gathered, &mut outcomes, writer)? {
                    stopped = true;
                    break;
                }
                write_one(connection, on_failure, |connection| {
                    row.write(connection, actor, audit)
                })
            }
        };
        let failed = outcome.is_err();
        outcomes[slot].1 = Some(outcome);
        if failed && on_failure == OnFailure::Stop {
            stopped = true;
            break;
        }
    }
    if !stopped {
        flush(connection, &mut gathered, &mut outcomes, writer)?;
    }
    // With `Stop`, rows gathered but not written when a later row failed have no outcome: the
    // import is undone, and the failure is the last outcome.
    Ok(outcomes
        .into_iter()
        .filter_map(|(line, outcome)| outcome.map(|outcome| (line, outcome)))
        .collect())
}

/// Whether a row creates a record that no row before it in the batch names: no id, and keys
/// that neither the database nor a gathered row holds.
fn is_new<T: Keyed>(
    row: &ImportRow<T>,
    known: &HashSet<ExternalId>,
    gathered: &HashSet<ExternalId>,
) -> bool {
    row.id.is_none()
        && row
            .external_ids
            .iter()
            .all(|key| !known.contains(key) && !gathered.contains(key))
}

/// Writes the gathered records together; if that fails, undoes it and writes their rows one at
/// a time. `Ok(false)` when a row failed and `OnFailure::Stop` says to stop.
fn flush<T>(
    connection: &mut DbConnection,
    gathered: &mut Gathered<T>,
    outcomes: &mut [Slot],
    writer: &RowWriter<'_>,
) -> Result<bool, StoreError>
where
    T: CreatedInBulk,
{
    if gathered.records.is_empty() {
        return Ok(true);
    }
    let Gathered {
        slots,
        records,
        rows,
        keys: _,
    } = std::mem::take(gathered);
    // On a savepoint, so that a failure undoes only this.
    let written = transaction(connection, |connection| {
        T::insert_all(connection, &records)?;
        let states = records
            .iter()
            .map(|record| {
                let (audience, state) = record.created_state()?;
                Ok((record.id(), record.version(), audience, state))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        writer.audit.created_all(connection, T::COLLECTION, &states)
    });
    if written.is_ok() {
        for (slot, record) in slots.into_iter().zip(&records) {
            outcomes[slot].1 = Some(Ok(Applied::Created(record.id())));
        }
        return Ok(true);
    }
    for (slot, row) in slots.into_iter().zip(rows) {
        let outcome = write_one(connection, writer.on_failure, |connection| {
            row.write(connection, writer.actor, writer.audit)
        });
        let failed = outcome.is_err();
        outcomes[slot].1 = Some(outcome);
        if failed && writer.on_failure == OnFailure::Stop {
            return Ok(false);
        }
    }
    Ok(true)
}
