//! Authentication and the caller: JWT access tokens, refresh tokens, API client credentials,
//! password hashing and sign-in throttling.

pub mod caller;
pub mod credentials;
pub mod keys;
pub mod oauth;
pub mod token;

pub use caller::{Anyone, Caller, CallerToken, Reader};
pub use keys::{TokenKeys, TokenSettings};
