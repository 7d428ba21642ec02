//! Storing and finding contacts (callers check who may see an organisation's contacts first).

use catalyst_domain::{Contact, ContactFields, ContactId, OrganisationId, Timestamp};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::convert::parse;
use crate::database::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::external_ids;
use crate::keyset::{After, Page, Sort, SortColumn};
use crate::schema::contacts;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = contacts, treat_none_as_null = true)]
struct ContactRow {
    id: String,
    organisation_id: String,
    name: String,
    role: Option<String>,
    email: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&Contact> for ContactRow {
    fn from(contact: &Contact) -> Self {
        Self {
            id: contact.id.to_string(),
            organisation_id: contact.fields.organisation_id.to_string(),
            name: contact.fields.name.clone(),
            role: contact.fields.role.clone(),
            email: contact.fields.email.clone(),
            version: contact.version,
            created_at: contact.created_at.to_naive_utc(),
            updated_at: contact.updated_at.to_naive_utc(),
        }
    }
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;

    fn try_from(row: ContactRow) -> Result<Self, StoreError> {
        Ok(Contact {
            // Filled by the queries below, from their own table.
            external_ids: Vec::new(),
            id: parse("contacts", "id", &row.id)?,
            fields: ContactFields {
                organisation_id: parse("contacts", "organisation_id", &row.organisation_id)?,
                name: row.name,
                role: row.role,
                email: row.email,
            },
            version: row.version,
            created_at: Timestamp::from_naive_utc(row.created_at),
            updated_at: Timestamp::from_naive_utc(row.updated_at),
        })
    }
}

fn map_write_error(error: diesel::result::Error) -> StoreError {
    StoreError::from(error)
}

insert_and_find_with_external_ids!(Contact, ContactId, contacts, ContactRow, |contact| Ok(
    ContactRow::from(contact)
));

/// Every contact of an organisation.
pub fn all_of_organisation(
    connection: &mut DbConnection,
    organisation: OrganisationId,
) -> Result<Vec<Contact>, StoreError> {
    let records = contacts::table
        .filter(contacts::organisation_id.eq(organisation.to_string()))
        .order(contacts::id.asc())
        .select(ContactRow::as_select())
        .load(connection)?
        .into_iter()
        .map(Contact::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    external_ids::loaded_all(connection, ENTITY, records)
}

crate::keyed_by_partners!("contacts", Contact, ContactId);

crate::versioned_writes!(contacts, Contact, ContactId, |contact: &Contact| Ok::<
    _,
    StoreError,
>(
    ContactRow::from(contact)
));

crate::sort_fields!(ContactSortField for contacts, Contact {
    Name => name: Text = |c| c.fields.name.clone(),
    CreatedAt => created_at: Time = |c| c.created_at,
    UpdatedAt => updated_at: Time = |c| c.updated_at,
    Id => id: Text = |c| c.id.to_string(),
});

/// An organisation's contacts.
pub fn list(
    connection: &mut DbConnection,
    organisation: OrganisationId,
    updated_since: Option<Timestamp>,
    sort: &Sort<ContactSortField>,
    after: Option<&After>,
    limit: usize,
) -> Result<Page<Contact>, StoreError> {
    let mut query = contacts::table
        .select(ContactRow::as_select())
        .filter(contacts::organisation_id.eq(organisation.to_string()))
        .into_boxed::<MultiBackend>();
    if let Some(since) = updated_since {
        query = query.filter(contacts::updated_at.ge(since.to_naive_utc()));
    }
    let mut page = crate::keyset_page!(connection, query, ContactRow => Contact, ContactSortField, sort, after, limit)?;
    page.items = external_ids::loaded_all(connection, ENTITY, page.items)?;
    Ok(page)
}
