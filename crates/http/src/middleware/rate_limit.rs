//! Per-client rate limits on the API: a token bucket per client (the subject of a valid access
//! token, else the connecting address), refilled evenly over a minute. Every API answer says
//! where the client stands (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`); one
//! over the limit gets 429 with `Retry-After`. A 304 is not counted. Buckets live in the process: with several
//! replicas behind a balancer, a client's allowance is the limit on each replica.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};

use crate::problem::ApiError;
use crate::server::state::AppState;

/// Buckets kept before the full (idle) ones are swept out.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Where a client stands after asking for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_seconds: u64,
    /// Seconds until one more request is allowed (0 when allowed now).
    pub retry_after_seconds: u64,
}

/// Token buckets by client. A limit of 0 turns limiting off.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.per_minute > 0
    }

    /// Takes one request from `client`'s bucket, if there is one to take.
    pub fn take(&self, client: &str, now: Instant) -> Standing {
        self.settle(client, now, Settlement::Take)
    }

    /// Gives back the request just taken, for an answer that costs nothing.
    pub fn give_back(&self, client: &str, now: Instant) -> Standing {
        self.settle(client, now, Settlement::GiveBack)
    }

    fn settle(&self, client: &str, now: Instant, settlement: Settlement) -> Standing {
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > SWEEP_ABOVE {
            buckets.retain(|_, bucket| {
                bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second
                    < capacity
            });
        }
        let bucket = buckets.entry(client.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let refilled =
            bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second;
        bucket.tokens = refilled.min(capacity);
        bucket.updated = now;
        let allowed = match settlement {
            Settlement::Take => {
                let allowed = bucket.tokens >= 1.0;
                if allowed {
                    bucket.tokens -= 1.0;
                }
                allowed
            }
            Settlement::GiveBack => {
                bucket.tokens = (bucket.tokens + 1.0).min(capacity);
                true
            }
        };
        let seconds = |tokens: f64| (tokens.max(0.0) / per_second).ceil();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Standing {
            allowed,
            limit: self.per_minute,
            remaining: bucket.tokens.floor() as u32,
            reset_seconds: seconds(capacity - bucket.tokens) as u64,
            retry_after_seconds: if allowed {
                0
            } else {
                (seconds(1.0 - bucket.tokens) as u64).max(1)
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settlement {
    Take,
    GiveBack,
}

/// Who a request counts against: the subject of a valid bearer token, else its address.
fn client_of(request: &ServiceRequest, state: &AppState) -> String {
    let subject = crate::auth::caller::verified_subject(request.request(), &state.keys);
    match subject {
        Some(subject) => format!("subject:{subject}"),
        None => {
            let address = request
                .peer_addr()
                .map(|address| address.ip())
                .unwrap_or(IpAddr::from([0, 0, 0, 0]));
            format!("address:{address}")
        }
    }
}

fn describe(headers: &mut HeaderMap, standing: &Standing) {
    let mut set = |name: &'static str, value: u64| {
        if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set("ratelimit-limit", u64::from(standing.limit));
    set("ratelimit-remaining", u64::from(standing.remaining));
    set("ratelimit-reset", standing.reset_seconds);
}

/// Middleware: limits `/api/` requests per client; health checks, documentation and metrics
/// are not counted, nor is a 304: as on GitHub's API, a client polling with `If-None-Match`
/// spends its allowance only on answers that changed.
pub async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let counted = match state {
        Some(state) if state.rate_limiter.enabled() && request.path().starts_with("/api/") => {
            let client = client_of(&request, &state);
            let standing = state.rate_limiter.take(&client, Instant::now());
            Some((state, client, standing))
        }
        _ => None,
    };
    let Some((state, client, standing)) = counted else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    if !standing.allowed {
        let mut response = ApiError::RateLimited {
            retry_after_seconds: standing.retry_after_seconds,
            limit: standing.limit,
        }
        .error_response();
        describe(response.headers_mut(), &standing);
        return Ok(request.into_response(response).map_into_right_body());
    }
    let mut response = next.call(request).await?;
    let standing = if response.status() == StatusCode::NOT_MODIFIED {
        state.rate_limiter.give_back(&client, Instant::now())
    } else {
        standing
    };
    describe(response.headers_mut(), &standing);
    Ok(response.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_empties_and_refills_over_the_minute() {
        let limiter = RateLimiter::new(60);
        let start = Instant::now();
        for expected in (0..60).rev() {
            let standing = limiter.take("a", start);
            assert!(standing.allowed);
            assert_eq!(standing.remaining, expected);
        }
        let refused = limiter.take("a", start);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_seconds, 1);
        assert_eq!(refused.reset_seconds, 60);
        // Another client has its own bucket.
        assert!(limiter.take("b", start).allowed);
        // One per second comes back.
        let later = limiter.take("a", start + Duration::from_millis(1_000));
        assert!(later.allowed);
        assert_eq!(later.remaining, 0);
    }

    #[test]
    fn a_request_given_back_is_not_counted_and_never_overfills() {
        let limiter = RateLimiter::new(2);
        let start = Instant::now();
        assert_eq!(limiter.take("a", start).remaining, 1);
        assert_eq!(limiter.give_back("a", start).remaining, 2);
        assert_eq!(limiter.give_back("a", start).remaining, 2);
        assert!(limiter.take("a", start).allowed);
        assert!(limiter.take("a", start).allowed);
        assert!(!limiter.take("a", start).allowed);
    }
}
