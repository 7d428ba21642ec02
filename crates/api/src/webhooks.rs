//! The shapes of webhooks in requests and responses.

use crate::present;
use catalyst_domain::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResource {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(example = "https://partner.example.org/catalyst/events")]
    pub url: String,
    pub description: Option<String>,
    /// `<collection>.<created|updated|deleted>`, `<collection>.*` or `*`.
    #[schema(example = json!(["awards.created", "milestones.*"]))]
    pub event_types: Vec<String>,
    /// `active`, or `disabled` (by you, by a 410 from the receiver, or because its owner went).
    #[schema(example = "active")]
    pub status: String,
    pub disabled_reason: Option<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A new subscription, or a new secret: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookResource,
    /// `whsec_` and base64: verify each delivery's `webhook-signature` with it.
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://partner.example.org/catalyst/events", "event_types": ["awards.created", "milestones.*"]}))]
pub struct CreateWebhook {
    pub url: String,
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A merge patch of a subscription; `status: active` turns a disabled one back on, and it
/// catches up from where it stopped (within the kept change history).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub event_types: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `active` or `disabled`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub status: Option<Option<String>>,
}

crate::list_body! {
    WebhookList of WebhookResource
}

/// One event sent (or to be sent) to a subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResource {
    /// The `webhook-id` header: the same on every attempt.
    #[schema(example = "msg_0193a1b27c3d7e4f8a9b0c1d2e3f4a5b")]
    pub id: String,
    #[schema(example = "awards.created")]
    pub event_type: String,
    /// `pending`, `succeeded` or `failed` (given up).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    /// The body sent.
    #[schema(value_type = Object)]
    pub payload: Box<serde_json::value::RawValue>,
}

crate::list_body! {
    DeliveryList of DeliveryResource
}
