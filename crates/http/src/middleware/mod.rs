//! What wraps every request: its id and log line, `HEAD` served as `GET`, security headers,
//! rate limits, and idempotent replay of writes.

pub mod head;
pub mod idempotency;
pub mod rate_limit;
pub mod request_context;
pub mod security_headers;
