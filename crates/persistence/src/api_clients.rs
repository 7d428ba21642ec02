//! API clients: partners' and scripts' credentials. Only a hash of each secret is kept.

use catalyst_domain::{ApiClient, ClientId, OrganisationId, Scope, Timestamp};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::convert::{join_list, parse, parse_list};
use crate::database::DbConnection;
use crate::error::StoreError;
use crate::schema::api_clients;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
struct ApiClientRow {
    id: String,
    name: String,
    secret_hash: String,
    scopes: String,
    organisation_ids: Option<String>,
    created_by: String,
    revoked_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn to_client(row: ApiClientRow) -> Result<(ApiClient, String), StoreError> {
    let client = ApiClient {
        id: parse("api_clients", "id", &row.id)?,
        name: row.name,
        scopes: parse_list::<Scope>("api_clients", "scopes", &row.scopes)?,
        organisations: row
            .organisation_ids
            .as_deref()
            .map(|ids| parse_list::<OrganisationId>("api_clients", "organisation_ids", ids))
            .transpose()?,
        revoked_at: row.revoked_at.map(Timestamp::from_naive_utc),
        last_used_at: row.last_used_at.map(Timestamp::from_naive_utc),
        created_at: Timestamp::from_naive_utc(row.created_at),
        version: row.version,
    };
    Ok((client, row.secret_hash))
}

/// What it takes to make a client.
#[derive(Debug, Clone)]
pub struct NewApiClient<'a> {
    pub name: &'a str,
    pub scopes: &'a [Scope],
    pub organisations: Option<&'a [OrganisationId]>,
    pub secret_hash: &'a str,
    pub created_by: &'a str,
}

pub fn insert(
    connection: &mut DbConnection,
    new: &NewApiClient<'_>,
    now: Timestamp,
) -> Result<ApiClient, StoreError> {
    let row = ApiClientRow {
        id: ClientId::generate().to_string(),
        name: new.name.to_owned(),
        secret_hash: new.secret_hash.to_owned(),
        scopes: join_list(new.scopes),
        organisation_ids: new.organisations.map(join_list),
        created_by: new.created_by.to_owned(),
        revoked_at: None,
        last_used_at: None,
        version: 1,
        created_at: now.to_naive_utc(),
        updated_at: now.to_naive_utc(),
    };
    diesel::insert_into(api_clients::table)
        .values(&row)
        .execute(connection)?;
    Ok(to_client(row)?.0)
}

/// The client and its secret hash.
pub fn find(
    connection: &mut DbConnection,
    id: ClientId,
) -> Result<(ApiClient, String), StoreError> {
    let row: ApiClientRow = api_clients::table
        .find(id.to_string())
        .select(ApiClientRow::as_select())
        .first(connection)?;
    to_client(row)
}

/// Clients in creation order (ids are time-ordered), after the id `after` when given; the bool
/// says whether there are more.
pub fn list(
    connection: &mut DbConnection,
    updated_since: Option<Timestamp>,
    after: Option<ClientId>,
    limit: usize,
) -> Result<(Vec<ApiClient>, bool), StoreError> {
    let mut query = api_clients::table
        .select(ApiClientRow::as_select())
        .order(api_clients::id.asc())
        .into_boxed::<crate::database::MultiBackend>();
    if let Some(since) = updated_since {
        query = query.filter(api_clients::updated_at.ge(since.to_naive_utc()));
    }
    if let Some(after) = after {
        query = query.filter(api_clients::id.gt(after.to_string()));
    }
    let rows: Vec<ApiClientRow> = query
        .limit(crate::keyset::fetch_size(limit))
        .load(connection)?;
    let more = rows.len() > limit;
    let clients = rows
        .into_iter()
        .take(limit)
        .map(|row| to_client(row).map(|(client, _)| client))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((clients, more))
}

/// Revokes a client: its tokens stop working at once.
pub fn revoke(
    connection: &mut DbConnection,
    id: ClientId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let changed = diesel::update(
        api_clients::table
            .filter(api_clients::id.eq(id.to_string()))
            .filter(api_clients::revoked_at.is_null()),
    )
    .set((
        api_clients::revoked_at.eq(Some(now.to_naive_utc())),
        api_clients::version.eq(api_clients::version + 1),
        api_clients::updated_at.eq(now.to_naive_utc()),
    ))
    .execute(connection)?;
    if changed == 0 {
        find(connection, id)?;
    }
    Ok(())
}

/// Records that the client was used (at most once a minute, to spare the writes).
pub fn touch(
    connection: &mut DbConnection,
    id: ClientId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let a_minute_ago = now.to_naive_utc() - chrono::Duration::minutes(1);
    diesel::update(
        api_clients::table
            .filter(api_clients::id.eq(id.to_string()))
            .filter(
                api_clients::last_used_at
                    .is_null()
                    .or(api_clients::last_used_at.lt(a_minute_ago)),
            ),
    )
    .set(api_clients::last_used_at.eq(Some(now.to_naive_utc())))
    .execute(connection)?;
    Ok(())
}
