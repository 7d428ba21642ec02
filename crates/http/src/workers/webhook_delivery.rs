//! The webhook sender, run inside `serve` on every replica: it turns new changes into
//! deliveries (fan-out from the change log, the transactional outbox) and sends due deliveries,
//! signed as Standard Webhooks asks. Both steps claim their work in the database, so replicas
//! share it without sending anything twice at once, and a crash loses nothing: an unsettled claim
//! lapses and the delivery is sent again.

use std::net::ToSocketAddrs;
use std::time::Duration;

use actix_web::web;
use base64::Engine;
use catalyst_domain::webhook::{self as rules, event_type, subscribes_to};
use catalyst_domain::{Actor, ClientId, Timestamp, UserId};
use catalyst_persistence::changes::{self, FeedError};
use catalyst_persistence::webhooks::{self as store, AttemptOutcome, Delivery, Subscription};
use catalyst_persistence::{api_clients, users, DbConnection, Pool, StoreError};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How the sender behaves; tests shorten the timeout.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Whether private, loopback and link-local destinations may be called.
    pub allow_private: bool,
    /// How long a receiver gets to answer.
    pub timeout: Duration,
    /// How often the sender looks for work.
    pub interval: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(10),
            interval: Duration::from_millis(500),
        }
    }
}

impl DeliverySettings {
    /// A claim lasts past the longest attempt, so that only a crashed sender's claim lapses.
    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.timeout * 2 + Duration::from_secs(5))
            .unwrap_or(chrono::Duration::minutes(1))
    }
}

/// The HTTP client of deliveries: no redirects, a deadline per attempt, and addresses checked
/// as they are connected to.
fn agent(settings: &DeliverySettings) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(settings.timeout))
        .max_redirects(0)
        .user_agent(concat!("Catalyst-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        PublicOnlyResolver {
            allow_private: settings.allow_private,
            inner: ureq::unversioned::resolver::DefaultResolver::default(),
        },
    )
}

/// Resolves a receiver's host and, unless private destinations are allowed, refuses one that
/// resolves to an internal address. The addresses checked are the addresses connected to, so
/// a DNS answer that changes after `check_destination` (rebinding) cannot reach inside.
#[derive(Debug)]
struct PublicOnlyResolver {
    allow_private: bool,
    inner: ureq::unversioned::resolver::DefaultResolver,
}

impl ureq::unversioned::resolver::Resolver for PublicOnlyResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let addresses = self.inner.resolve(uri, config, timeout)?;
        if !self.allow_private {
            if let Some(internal) = addresses
                .iter()
                .find(|address| rules::is_internal_address(address.ip()))
            {
                return Err(ureq::Error::Other(
                    format!(
                        "{} resolves to {}, a private, loopback or link-local address; webhooks go to public addresses only",
                        uri.host().unwrap_or_default(),
                        internal.ip()
                    )
                    .into(),
                ));
            }
        }
        Ok(addresses)
    }
}

const SUBSCRIPTIONS_PER_ROUND: i64 = 50;
const CHANGES_PER_SUBSCRIPTION: usize = 500;
const SENDS_PER_ROUND: i64 = 20;

/// Runs for as long as the server does.
pub async fn run(pool: Pool, settings: DeliverySettings) {
    let agent = agent(&settings);
    let mut ticks = tokio::time::interval(settings.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let (pool, settings, agent) = (pool.clone(), settings.clone(), agent.clone());
        let round = web::block(move || -> Result<(usize, usize), StoreError> {
            let mut connection = pool.get()?;
            let made = fan_out(&mut connection)?;
            let sent = send_due(&mut connection, &agent, &settings)?;
            Ok((made, sent))
        })
        .await;
        match round {
            Ok(Ok((0, 0))) => {}
            Ok(Ok((made, sent))) => tracing::debug!(made, sent, "webhooks"),
            Ok(Err(error)) => tracing::warn!(%error, "webhook round failed"),
            Err(error) => tracing::warn!(%error, "webhook round failed"),
        }
    }
}

/// Who a subscription's owner is now: `None` when deleted or revoked.
pub fn owner_actor(
    connection: &mut DbConnection,
    owner: &str,
) -> Result<Option<Actor>, StoreError> {
    let Some((kind, id)) = owner.split_once(':') else {
        return Ok(None);
    };
    let found = match kind {
        "user" => match id.parse::<UserId>() {
            Ok(id) => users::find(connection, id).map(|user| Some(user.actor())),
            Err(_) => Ok(None),
        },
        "client" => match id.parse::<ClientId>() {
            Ok(id) => api_clients::find(connection, id)
                .map(|(client, _)| client.revoked_at.is_none().then(|| client.actor())),
            Err(_) => Ok(None),
        },
        _ => Ok(None),
    };
    match found {
        Err(StoreError::NotFound) => Ok(None),
        other => other,
    }
}

/// The entities a subscription's event types name, for the feed's filter (all when empty).
fn entities_of(types: &[String]) -> Vec<String> {
    if types.iter().any(|t| t == "*") {
        return Vec::new();
    }
    let mut entities: Vec<String> = types
        .iter()
        .filter_map(|t| t.split_once('.').map(|(entity, _)| entity.to_owned()))
        .collect();
    entities.sort();
    entities.dedup();
    entities
}

/// The Standard Webhooks payload of a change.
fn payload(change: &changes::ChangeRecord, kind: &str) -> String {
    let data = match &change.state {
        Some(state) => serde_json::from_str(state).unwrap_or(serde_json::Value::Null),
        None => serde_json::json!({"id": change.entity_id, "version": change.version}),
    };
    serde_json::json!({
        "type": kind,
        "timestamp": Timestamp::from_naive_utc(change.occurred_at),
        "data": data,
    })
    .to_string()
}

/// Makes the deliveries of new changes, and moves each subscription's cursor past them, in one
/// transaction: a change becomes a delivery exactly once.
fn fan_out(connection: &mut DbConnection) -> Result<usize, StoreError> {
    // Read first whether any subscription is behind the feed: an idle round takes no write lock
    // (on SQLite the one lock every writer waits for).
    let line = changes::latest(connection)?;
    if !store::any_behind(connection, line)? {
        return Ok(0);
    }
    catalyst_persistence::write_transaction(connection, |connection| {
        let now = Timestamp::now();
        let mut made = 0;
        for subscription in store::lock_active_subscriptions(connection, SUBSCRIPTIONS_PER_ROUND)? {
            let Some(owner) = owner_actor(connection, &subscription.owner)? else {
                store::disable_subscription(
                    connection,
                    &subscription.id,
                    "its owner was deleted or revoked",
                    now,
                )?;
                continue;
            };
            let types = subscription.event_types();
            let page = match changes::read(
                connection,
                Some(subscription.cursor()),
                &entities_of(&types),
                &crate::read_models::changes::visibility(&owner),
                CHANGES_PER_SUBSCRIPTION,
            ) {
                Ok(page) => page,
                Err(FeedError::Gone) => {
                    store::disable_subscription(
                        connection,
                        &subscription.id,
                        "it fell behind the kept change history",
                        now,
                    )?;
                    continue;
                }
                Err(FeedError::Store(error)) => return Err(error),
            };
            for change in &page.changes {
                let kind = event_type(&change.entity, &change.operation);
                if !subscribes_to(&types, &kind) {
                    continue;
                }
                store::insert_delivery(
                    connection,
                    &Delivery {
                        id: format!("msg_{}", uuid::Uuid::now_v7().simple()),
                        subscription_id: subscription.id.clone(),
                        payload: payload(change, &kind),
                        event_type: kind,
                        status: "pending".to_owned(),
                        attempts: 0,
                        next_attempt_at: now.to_naive_utc(),
                        locked_until: None,
                        last_attempt_at: None,
                        last_status_code: None,
                        last_error: None,
                        created_at: now.to_naive_utc(),
                        delivered_at: None,
                    },
                )?;
                made += 1;
            }
            if page.next != subscription.cursor() {
                store::move_cursor(connection, &subscription.id, page.next)?;
            }
        }
        Ok::<_, StoreError>(made)
    })
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret, space-separated.
pub fn signature(secrets: &[String], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .filter_map(|secret| {
            let key = base64::engine::general_purpose::STANDARD
                .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
                .ok()?;
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
            mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
            Some(format!(
                "v1,{}",
                base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
            ))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Refuses a destination inside the server's own networks unless the operator allows it.
/// Checked when a subscription is made and again at every attempt (DNS can change).
pub fn check_destination(url: &str, allow_private: bool) -> Result<(), String> {
    let uri: actix_web::http::Uri = url
        .parse()
        .map_err(|_| "the URL cannot be parsed".to_owned())?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("the URL must start with https:// (or http://)".to_owned()),
    };
    let host = uri.host().ok_or_else(|| "the URL has no host".to_owned())?;
    if allow_private {
        return Ok(());
    }
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|_| format!("{host} cannot be resolved"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("{host} cannot be resolved"));
    }
    if let Some(internal) = addresses
        .iter()
        .find(|a| rules::is_internal_address(a.ip()))
    {
        return Err(format!(
            "{host} resolves to {}, a private, loopback or link-local address; webhooks go to public addresses only",
            internal.ip()
        ));
    }
    Ok(())
}

fn jitter() -> f64 {
    let mut byte = [0u8; 2];
    let _ = getrandom::fill(&mut byte);
    f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX)
}

/// Sends the deliveries that are due, one attempt each, and records how each went.
fn send_due(
    connection: &mut DbConnection,
    agent: &ureq::Agent,
    settings: &DeliverySettings,
) -> Result<usize, StoreError> {
    let now = Timestamp::now();
    let lease_until = Timestamp::from_naive_utc(now.to_naive_utc() + settings.lease());
    let claimed = store::claim_due(connection, now, lease_until, SENDS_PER_ROUND)?;
    let sent = claimed.len();
    for (delivery, subscription) in claimed {
        let outcome = attempt(agent, settings, &delivery, &subscription);
        let finished = Timestamp::now();
        let gone = matches!(&outcome, Attempt::Gone);
        let attempts = delivery.attempts + 1;
        let settled = outcome.settle(attempts, finished);
        store::record_attempt(connection, &delivery.id, finished, &settled)?;
        log_attempt(&delivery.id, &subscription.id, attempts, &settled, gone);
        if gone {
            store::disable_subscription(
                connection,
                &subscription.id,
                "the receiver answered 410 Gone",
                finished,
            )?;
        }
    }
    Ok(sent)
}

/// One line per delivery that did not go through: a retry is worth knowing (info), a delivery
/// given up or a subscription disabled needs someone (warn). Never the URL, which may carry a
/// partner's token.
fn log_attempt(
    delivery: &str,
    webhook: &str,
    attempts: i32,
    settled: &AttemptOutcome,
    disabled: bool,
) {
    match settled {
        AttemptOutcome::Succeeded { status_code } => {
            tracing::debug!(
                delivery,
                webhook,
                attempts,
                status_code,
                "webhook delivered"
            )
        }
        AttemptOutcome::Retry {
            status_code,
            error,
            next_attempt_at,
        } => tracing::info!(
            delivery,
            webhook,
            attempts,
            status_code,
            error = %error,
            next_attempt_at = %next_attempt_at,
            "webhook delivery failed; will retry"
        ),
        AttemptOutcome::Failed { status_code, error } if disabled => tracing::warn!(
            delivery,
            webhook,
            attempts,
            status_code,
            error = %error,
            "webhook disabled: the receiver answered 410 Gone"
        ),
        AttemptOutcome::Failed { status_code, error } => tracing::warn!(
            delivery,
            webhook,
            attempts,
            status_code,
            error = %error,
            "webhook delivery given up"
        ),
    }
}

enum Attempt {
    Delivered(u16),
    Gone,
    Refused { status: Option<u16>, error: String },
}

impl Attempt {
    fn settle(self, attempts_made: i32, now: Timestamp) -> AttemptOutcome {
        match self {
            Attempt::Delivered(status) => AttemptOutcome::Succeeded {
                status_code: i32::from(status),
            },
            Attempt::Gone => AttemptOutcome::Failed {
                status_code: Some(410),
                error: "the receiver answered 410 Gone: the subscription is disabled".to_owned(),
            },
            Attempt::Refused { status, error } => {
                let status_code = status.map(i32::from);
                match rules::retry_delay(u32::try_from(attempts_made).unwrap_or(u32::MAX), jitter())
                    .and_then(|wait| chrono::Duration::from_std(wait).ok())
                {
                    Some(wait) => AttemptOutcome::Retry {
                        status_code,
                        error,
                        next_attempt_at: Timestamp::from_naive_utc(now.to_naive_utc() + wait),
                    },
                    None => AttemptOutcome::Failed { status_code, error },
                }
            }
        }
    }
}

fn attempt(
    agent: &ureq::Agent,
    settings: &DeliverySettings,
    delivery: &Delivery,
    subscription: &Subscription,
) -> Attempt {
    if let Err(error) = check_destination(&subscription.url, settings.allow_private) {
        return Attempt::Refused {
            status: None,
            error,
        };
    }
    let timestamp = Timestamp::now().as_datetime().timestamp();
    let signature = signature(
        &subscription.signing_secrets(Timestamp::now()),
        &delivery.id,
        timestamp,
        &delivery.payload,
    );
    let response = agent
        .post(&subscription.url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .send(delivery.payload.as_bytes());
    match response {
        Ok(response) => {
            let status = response.status().as_u16();
            match status {
                200..=299 => Attempt::Delivered(status),
                410 => Attempt::Gone,
                _ => Attempt::Refused {
                    status: Some(status),
                    error: format!("the receiver answered {status}"),
                },
            }
        }
        Err(error) => Attempt::Refused {
            status: None,
            error: format!("the request failed: {error}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn internal_destinations_are_refused_unless_allowed() {
        assert!(check_destination("http://127.0.0.1:9/hook", false).is_err());
        assert!(check_destination("http://[::1]:9/hook", false).is_err());
        assert!(check_destination("http://localhost:9/hook", false).is_err());
        assert!(check_destination("http://169.254.169.254/latest/meta-data", false).is_err());
        assert!(check_destination("ftp://example.org/", false).is_err());
        assert!(check_destination("http://127.0.0.1:9/hook", true).is_ok());
    }

    /// A host that passed the check and then resolves inside (DNS rebinding) is still refused:
    /// the client checks the addresses it connects to.
    #[test]
    fn the_client_never_connects_to_an_internal_address_unless_allowed() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let settings = |allow_private| DeliverySettings {
            allow_private,
            timeout: Duration::from_millis(300),
            ..DeliverySettings::default()
        };

        let refused = agent(&settings(false)).post(&url).send("{}").unwrap_err();
        assert!(refused.to_string().contains("private"), "{refused}");
        assert_eq!(
            listener.accept().unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock,
            "no connection was made"
        );

        // Allowed: it connects (and times out, as nothing answers).
        let _ = agent(&settings(true)).post(&url).send("{}");
        assert!(listener.accept().is_ok());
    }
}
