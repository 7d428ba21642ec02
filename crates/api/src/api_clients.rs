//! The shapes of api clients in requests and responses.

use catalyst_domain::{ApiClient, Scope, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An API client.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiClientResource {
    /// The `client_id` for `grant_type=client_credentials`.
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// When set, the client acts only for these organisations.
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    pub organisation_ids: Option<Vec<String>>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub version: i64,
}

impl From<&ApiClient> for ApiClientResource {
    fn from(client: &ApiClient) -> Self {
        Self {
            id: client.id.to_string(),
            name: client.name.clone(),
            scopes: client.scopes.clone(),
            organisation_ids: client
                .organisations
                .as_ref()
                .map(|ids| ids.iter().map(ToString::to_string).collect()),
            revoked_at: client.revoked_at,
            last_used_at: client.last_used_at,
            created_at: client.created_at,
            version: client.version,
        }
    }
}

/// A new client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Leeds housing data sync", "scopes": ["read", "write"]}))]
pub struct CreateApiClient {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// Restrict the client to acting for these organisations.
    #[serde(default)]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    pub organisation_ids: Option<Vec<String>>,
}

/// A new client with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiClient {
    #[serde(flatten)]
    pub client: ApiClientResource,
    /// Keep it safe: it cannot be shown again.
    pub client_secret: String,
}

crate::list_body! {
    /// A page of clients, oldest first.
    ApiClientList of ApiClientResource
}
