//! The shapes of users in requests and responses.

use catalyst_domain::{Role, Timestamp, User};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A person who signs in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(example = "officer@leeds.gov.uk")]
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The organisations the user acts for.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub organisation_ids: Vec<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&User> for UserResource {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role,
            organisation_ids: user.organisations.iter().map(ToString::to_string).collect(),
            version: user.version,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "officer@leeds.gov.uk", "name": "A. Officer", "role": "authority_officer",
    "organisation_ids": ["0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"], "password": "correct horse battery staple"}))]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Required for authority officers and suppliers.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub organisation_ids: Vec<String>,
    /// At least 12 characters.
    pub password: String,
}

/// A change to a user; members left out are unchanged.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, deserialize_with = "crate::present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::present")]
    #[schema(value_type = Option<Role>)]
    pub role: Option<Option<Role>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    pub organisation_ids: Option<Vec<String>>,
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 12 characters.
    pub new_password: String,
}

crate::list_body! {
    /// A page of users.
    UserList of UserResource
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; `QueryParams` parses them.
pub struct ListUsersParams {
    pub role: Option<Role>,
    #[param(minimum = 1, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only users changed at or after this RFC 3339 instant.
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<String>,
}
