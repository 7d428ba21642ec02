//! Refresh tokens: kept as hashes, rotated on every use, revoked by family when a used token is
//! presented again (the one who presents it may have stolen it).

use catalyst_domain::{Timestamp, UserId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::convert::parse;
use crate::database::DbConnection;
use crate::error::StoreError;
use crate::schema::refresh_tokens;

/// A stored refresh token.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub family_id: String,
    pub user_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl RefreshTokenRow {
    pub fn user(&self) -> Result<UserId, StoreError> {
        parse("refresh_tokens", "user_id", &self.user_id)
    }
}

pub fn insert(
    connection: &mut DbConnection,
    id: &str,
    family_id: &str,
    user: UserId,
    token_hash: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(id),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::user_id.eq(user.to_string()),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq(expires_at.to_naive_utc()),
            refresh_tokens::created_at.eq(now.to_naive_utc()),
        ))
        .execute(connection)?;
    Ok(())
}

/// The token `id` names; none for an id no token can have (a NUL, which PostgreSQL's text
/// cannot hold: the id comes from the presented token).
pub fn find(
    connection: &mut DbConnection,
    id: &str,
) -> Result<Option<RefreshTokenRow>, StoreError> {
    if id.contains('\0') {
        return Ok(None);
    }
    Ok(refresh_tokens::table
        .find(id)
        .select(RefreshTokenRow::as_select())
        .first(connection)
        .optional()?)
}

/// Marks a token used; false when another request used it first.
pub fn mark_used(
    connection: &mut DbConnection,
    id: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(now.to_naive_utc())))
    .execute(connection)?;
    Ok(changed == 1)
}

pub fn revoke_family(
    connection: &mut DbConnection,
    family_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now.to_naive_utc())))
    .execute(connection)?;
    Ok(())
}

/// Revokes every refresh token of a user (on a password change or sign-out everywhere).
pub fn revoke_user(
    connection: &mut DbConnection,
    user: UserId,
    now: Timestamp,
) -> Result<(), StoreError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user.to_string()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now.to_naive_utc())))
    .execute(connection)?;
    Ok(())
}
