//! People who sign in, and their memberships of organisations. Call the writing functions inside
//! [`crate::write_transaction`], together with the audit record of the change.

use catalyst_domain::{OrganisationId, Role, Timestamp, User, UserFields, UserId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::convert::parse;
use crate::database::{DbConnection, MultiBackend};
use crate::error::{unique_as, StoreError};
use crate::schema::{memberships, users};

pub const EMAIL_CONSTRAINT: &str = "users_email_key";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    email: String,
    name: String,
    role: String,
    password_hash: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn to_user(row: UserRow, organisations: Vec<OrganisationId>) -> Result<User, StoreError> {
    Ok(User {
        id: parse("users", "id", &row.id)?,
        email: row.email,
        name: row.name,
        role: parse("users", "role", &row.role)?,
        organisations,
        version: row.version,
        created_at: Timestamp::from_naive_utc(row.created_at),
        updated_at: Timestamp::from_naive_utc(row.updated_at),
    })
}

fn map_write_error(error: diesel::result::Error) -> StoreError {
    unique_as(EMAIL_CONSTRAINT, error)
}

fn memberships_of(
    connection: &mut DbConnection,
    user: &str,
) -> Result<Vec<OrganisationId>, StoreError> {
    let ids: Vec<String> = memberships::table
        .filter(memberships::user_id.eq(user))
        .select(memberships::organisation_id)
        .order(memberships::organisation_id.asc())
        .load(connection)?;
    ids.iter()
        .map(|id| parse("memberships", "organisation_id", id))
        .collect()
}

fn replace_memberships(
    connection: &mut DbConnection,
    user: UserId,
    organisations: &[OrganisationId],
) -> Result<(), StoreError> {
    let user = user.to_string();
    diesel::delete(memberships::table.filter(memberships::user_id.eq(&user)))
        .execute(connection)?;
    for organisation in organisations {
        diesel::insert_into(memberships::table)
            .values((
                memberships::user_id.eq(&user),
                memberships::organisation_id.eq(organisation.to_string()),
            ))
            .execute(connection)?;
    }
    Ok(())
}

/// Stores a new user with an already hashed password.
pub fn insert(
    connection: &mut DbConnection,
    fields: &UserFields,
    password_hash: &str,
    now: Timestamp,
) -> Result<User, StoreError> {
    let id = UserId::generate();
    let row = UserRow {
        id: id.to_string(),
        email: fields.email.clone(),
        name: fields.name.clone(),
        role: fields.role.as_str().to_owned(),
        password_hash: password_hash.to_owned(),
        version: 1,
        created_at: now.to_naive_utc(),
        updated_at: now.to_naive_utc(),
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(connection)
        .map_err(map_write_error)?;
    replace_memberships(connection, id, &fields.organisations)?;
    to_user(row, fields.organisations.clone())
}

/// A user with their organisations, in one query (the user joined to their memberships): every
/// authenticated request runs it.
pub fn find(connection: &mut DbConnection, id: UserId) -> Result<User, StoreError> {
    let rows: Vec<(UserRow, Option<String>)> = users::table
        .left_join(memberships::table.on(memberships::user_id.eq(users::id)))
        .filter(users::id.eq(id.to_string()))
        .select((
            UserRow::as_select(),
            memberships::organisation_id.nullable(),
        ))
        .order(memberships::organisation_id.asc())
        .load(connection)?;
    let mut organisations = Vec::with_capacity(rows.len());
    let mut user = None;
    for (row, organisation) in rows {
        if let Some(organisation) = organisation {
            organisations.push(parse("memberships", "organisation_id", &organisation)?);
        }
        user.get_or_insert(row);
    }
    to_user(user.ok_or(StoreError::NotFound)?, organisations)
}

/// The user with this (normalised) email, with the stored password hash.
pub fn find_by_email(
    connection: &mut DbConnection,
    email: &str,
) -> Result<Option<(User, String)>, StoreError> {
    // No account has a NUL in its address, and PostgreSQL's text cannot hold one to compare.
    if email.contains('\0') {
        return Ok(None);
    }
    let row: Option<UserRow> = users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(connection)
        .optional()?;
    match row {
        None => Ok(None),
        Some(row) => {
            let hash = row.password_hash.clone();
            let organisations = memberships_of(connection, &row.id)?;
            Ok(Some((to_user(row, organisations)?, hash)))
        }
    }
}

/// The stored password hash of a user.
pub fn password_hash(connection: &mut DbConnection, id: UserId) -> Result<String, StoreError> {
    Ok(users::table
        .find(id.to_string())
        .select(users::password_hash)
        .first(connection)?)
}

/// Users in creation order, after the id `after` when given.
pub fn list(
    connection: &mut DbConnection,
    role: Option<Role>,
    updated_since: Option<Timestamp>,
    after: Option<UserId>,
    limit: usize,
) -> Result<(Vec<User>, bool), StoreError> {
    let mut query = users::table
        .select(UserRow::as_select())
        .order(users::id.asc())
        .into_boxed::<MultiBackend>();
    if let Some(role) = role {
        query = query.filter(users::role.eq(role.as_str()));
    }
    if let Some(since) = updated_since {
        query = query.filter(users::updated_at.ge(since.to_naive_utc()));
    }
    if let Some(after) = after {
        // UUIDv7 text sorts in creation order.
        query = query.filter(users::id.gt(after.to_string()));
    }
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    let rows: Vec<UserRow> = query.limit(fetch).load(connection)?;
    let more = rows.len() > limit;
    let mut found = Vec::with_capacity(rows.len().min(limit));
    for row in rows.into_iter().take(limit) {
        let organisations = memberships_of(connection, &row.id)?;
        found.push(to_user(row, organisations)?);
    }
    Ok((found, more))
}

/// Changes name, role and memberships if the user is still at `expected_version`.
pub fn update(
    connection: &mut DbConnection,
    user: &User,
    expected_version: i64,
    now: Timestamp,
) -> Result<User, StoreError> {
    let changed = diesel::update(
        users::table
            .filter(users::id.eq(user.id.to_string()))
            .filter(users::version.eq(expected_version)),
    )
    .set((
        users::name.eq(&user.name),
        users::role.eq(user.role.as_str()),
        users::version.eq(expected_version + 1),
        users::updated_at.eq(now.to_naive_utc()),
    ))
    .execute(connection)
    .map_err(map_write_error)?;
    if changed == 0 {
        let current = find(connection, user.id)?;
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    replace_memberships(connection, user.id, &user.organisations)?;
    find(connection, user.id)
}

/// Replaces the password hash (and bumps the version, so ETags change).
pub fn set_password(
    connection: &mut DbConnection,
    id: UserId,
    password_hash: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let changed = diesel::update(users::table.filter(users::id.eq(id.to_string())))
        .set((
            users::password_hash.eq(password_hash),
            users::version.eq(users::version + 1),
            users::updated_at.eq(now.to_naive_utc()),
        ))
        .execute(connection)?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn delete(connection: &mut DbConnection, id: UserId) -> Result<(), StoreError> {
    let deleted =
        diesel::delete(users::table.filter(users::id.eq(id.to_string()))).execute(connection)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
