//! Writing an import's rows a batch at a time. Rows that create records of a collection whose new
//! records can be made before any is written (`CreatedInBulk`) are gathered and written
//! together: the records, their keys, audit records and changes, each in multi-row statements.
//! Every other row (an update, or a record whose checks read what a gathered one writes) is
//! written alone, after the rows before it, so that it reads what they wrote. If a
//! gathered write fails (a key or an identifier taken, which only the database can tell), it is
//! undone and its rows are written one at a time, so that each row ends as it would have alone.

use std::collections::HashSet;

use catalyst_domain::{Actor, ExternalId, ImportCollection};
use catalyst_persistence::{external_ids, transaction, DbConnection, StoreError};

use super::rows::{problem, RawRow};
use super::{problems_of, Applied};
use crate::problem::{ApiError, ProblemItem};
use crate::resources::audit::AuditContext;
use crate::resources::upsert::{CreatedInBulk, ImportRow, Keyed};

/// What became of a row: its record, or why not.
type RowOutcome = Result<Applied, Vec<ProblemItem>>;

/// A row's line and what became of it.
pub(super) type Outcome = (i64, RowOutcome);

/// A row's line and what became of it once it is written (gathered rows wait for theirs).
type Slot = (i64, Option<RowOutcome>);

/// Who writes an import's rows into which collection.
#[derive(Clone, Copy)]
pub(super) struct RowWriter<'a> {
    pub collection: ImportCollection,
    pub actor: &'a Actor,
    pub audit: &'a AuditContext,
}

/// Writes `rows` in file order, each failed row undone alone, and says what became of each.
pub(super) fn write_rows(
    connection: &mut DbConnection,
    rows: Vec<RawRow>,
    writer: &RowWriter<'_>,
) -> Result<Vec<Outcome>, StoreError> {
    match writer.collection {
        ImportCollection::Organisations => {
            write_in_bulk::<catalyst_domain::Organisation>(connection, rows, writer)
        }
        ImportCollection::Challenges => {
            write_in_bulk::<catalyst_domain::Challenge>(connection, rows, writer)
        }
        ImportCollection::Applications => {
            write_in_bulk::<catalyst_domain::Application>(connection, rows, writer)
        }
        ImportCollection::Awards => {
            write_in_bulk::<catalyst_domain::Award>(connection, rows, writer)
        }
        // A payment moves an existing milestone and its award's paid figure: updates, each
        // reading what the one before wrote.
        ImportCollection::Payments => Ok(write_one_by_one(
            connection,
            rows,
            writer,
            crate::resources::milestones::import_payment,
        )),
    }
}

/// The signature of a collection's write of one row.
type WriteRow =
    fn(&mut DbConnection, serde_json::Value, &Actor, &AuditContext) -> Result<Applied, ApiError>;

fn write_one_by_one(
    connection: &mut DbConnection,
    rows: Vec<RawRow>,
    writer: &RowWriter<'_>,
    write_row: WriteRow,
) -> Vec<Outcome> {
    let RowWriter { actor, audit, .. } = *writer;
    rows.into_iter()
        .map(|row| {
            let outcome = row.body.and_then(|body| {
                write_one(connection, |connection| {
                    write_row(connection, body, actor, audit)
                })
            });
            (row.line, outcome)
        })
        .collect()
}

/// One row's write, on a savepoint of its own, so that a failure undoes the row alone.
fn write_one(
    connection: &mut DbConnection,
    write: impl FnOnce(&mut DbConnection) -> Result<Applied, ApiError>,
) -> RowOutcome {
    transaction(connection, |connection| {
        write(connection).map_err(SavepointFailure::Api)
    })
    .map_err(|failure| match failure {
        SavepointFailure::Api(error) => problems_of(&error),
        SavepointFailure::Store(error) => problems_of(&ApiError::from(error)),
    })
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
    let known = external_ids::known(connection, T::ENTITY, &keys)?;

    let mut outcomes: Vec<Slot> = Vec::with_capacity(checked.len());
    let mut gathered = Gathered::<T>::default();
    for (line, row) in checked {
        let slot = outcomes.len();
        outcomes.push((line, None));
        let outcome = match row {
            Err(problems) => Err(problems),
            Ok(row) if is_new(&row, &known, &gathered.keys) => {
                let made = T::new_record(
                    connection,
                    writer.actor,
                    row.checked.clone(),
                    row.external_ids.clone(),
                );
                match made {
                    Ok(record) if !record.reads_gathered(&gathered.records) => {
                        gathered.keys.extend(row.external_ids.iter().cloned());
                        gathered.slots.push(slot);
                        gathered.records.push(record);
                        gathered.rows.push(row);
                        continue;
                    }
                    Err(error) if gathered.records.is_empty() => Err(problems_of(&error)),
                    // Made, or refused, on a database without the gathered records: written
                    // alone after them, to end as it would have.
                    _ => {
                        write_after_gathered(connection, &mut gathered, &mut outcomes, writer, row)?
                    }
                }
            }
            // It may name a record gathered before it.
            Ok(row) => write_after_gathered(connection, &mut gathered, &mut outcomes, writer, row)?,
        };
        outcomes[slot].1 = Some(outcome);
    }
    flush(connection, &mut gathered, &mut outcomes, writer)?;
    // Every slot is filled once the last gathered rows are written; a row left without its
    // outcome would be a bug here, reported on the row rather than lost.
    Ok(outcomes
        .into_iter()
        .map(|(line, outcome)| {
            let outcome = outcome
                .unwrap_or_else(|| Err(problem("internal_error", "the row was not written")));
            (line, outcome)
        })
        .collect())
}

/// Writes the gathered records, then `row` alone.
fn write_after_gathered<T>(
    connection: &mut DbConnection,
    gathered: &mut Gathered<T>,
    outcomes: &mut [Slot],
    writer: &RowWriter<'_>,
    row: ImportRow<T>,
) -> Result<RowOutcome, StoreError>
where
    T: CreatedInBulk,
{
    flush(connection, gathered, outcomes, writer)?;
    Ok(write_one(connection, |connection| {
        row.write(connection, writer.actor, writer.audit)
    }))
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
/// a time.
fn flush<T>(
    connection: &mut DbConnection,
    gathered: &mut Gathered<T>,
    outcomes: &mut [Slot],
    writer: &RowWriter<'_>,
) -> Result<(), StoreError>
where
    T: CreatedInBulk,
{
    if gathered.records.is_empty() {
        return Ok(());
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
                let state = serde_json::to_string(&T::Resource::from(record))
                    .map_err(|_| ApiError::Internal)?;
                Ok((
                    record.audited_id(),
                    record.audited_version(),
                    record.audited_audience(),
                    state,
                ))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        writer.audit.created_all(connection, T::ENTITY, &states)
    });
    if written.is_ok() {
        for (slot, record) in slots.into_iter().zip(&records) {
            outcomes[slot].1 = Some(Ok(Applied::Created(record.audited_id())));
        }
        return Ok(());
    }
    for (slot, row) in slots.into_iter().zip(rows) {
        outcomes[slot].1 = Some(write_one(connection, |connection| {
            row.write(connection, writer.actor, writer.audit)
        }));
    }
    Ok(())
}
