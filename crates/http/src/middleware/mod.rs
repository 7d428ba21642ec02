//! What wraps every request: its id and log line, `HEAD` served as `GET`, security headers,
//! rate limits, idempotent replay of writes, and `ETag`s for representations without a version.

pub mod conditional_get;
pub mod head;
pub mod idempotency;
pub mod rate_limit;
pub mod request_context;
pub mod security_headers;
