//! Signing and checking access tokens (JWT, HS256). Validation pins the algorithm, requires every
//! registered claim we issue, checks `nbf`, allows 30 seconds of clock skew, and accepts only our
//! own key id: nothing in a token chooses how it is checked.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::credentials::sha256_hex;

/// The shortest HS256 secret accepted: 32 bytes, the hash's own size.
pub const MIN_SECRET_BYTES: usize = 32;
/// Clock skew tolerated between servers and clients.
pub const LEEWAY_SECONDS: u64 = 30;

/// Token settings from configuration.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub access_ttl_seconds: i64,
    pub refresh_ttl_seconds: i64,
}

/// The claims of our access tokens. Every field is required: a token without one (or with a
/// string where a number belongs) does not deserialise and is refused.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// `user:<id>` or `client:<id>`.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("CATALYST_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes, got {0}")]
    SecretTooShort(usize),
    #[error("cannot sign a token: {0}")]
    Sign(String),
}

/// Why a token was refused; the detail is for logs, the client hears only "invalid token".
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidToken(pub String);

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    key_id: String,
    validation: Validation,
    pub settings: TokenSettings,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl TokenKeys {
    pub fn hs256(secret: &[u8], settings: TokenSettings) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::SecretTooShort(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_audience(&[settings.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        // The key id names the secret without revealing it, so a token signed with another
        // (an old or a foreign one) is refused by name.
        let key_id = format!(
            "hs256-{}",
            &sha256_hex(&String::from_utf8_lossy(secret))[..16]
        );
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            key_id,
            validation,
            settings,
        })
    }

    /// An access token for `subject`, valid from `now` for the configured time.
    pub fn issue(&self, subject: &str, now: i64, jti: &str) -> Result<String, KeyError> {
        let claims = Claims {
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            sub: subject.to_owned(),
            exp: now + self.settings.access_ttl_seconds,
            iat: now,
            nbf: now,
            jti: jti.to_owned(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.key_id.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|error| KeyError::Sign(error.to_string()))
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|error| InvalidToken(error.to_string()))?;
        if header.alg != Algorithm::HS256 {
            return Err(InvalidToken(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        if header.kid.as_deref() != Some(self.key_id.as_str()) {
            return Err(InvalidToken("unknown key id".to_owned()));
        }
        if header.jku.is_some() || header.jwk.is_some() || header.x5u.is_some() {
            return Err(InvalidToken(
                "key references in the header are not accepted".to_owned(),
            ));
        }
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| InvalidToken(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::hs256(
            b"0123456789abcdef0123456789abcdef",
            TokenSettings {
                issuer: "catalyst".into(),
                audience: "catalyst-api".into(),
                access_ttl_seconds: 900,
                refresh_ttl_seconds: 3600,
            },
        )
        .unwrap()
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn an_issued_token_verifies() {
        let keys = keys();
        let token = keys.issue("user:1", now(), "j1").unwrap();
        assert_eq!(keys.verify(&token).unwrap().sub, "user:1");
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(matches!(
            TokenKeys::hs256(b"short", keys().settings.clone()),
            Err(KeyError::SecretTooShort(5))
        ));
    }

    #[test]
    fn an_expired_token_is_refused_after_the_leeway() {
        let keys = keys();
        let token = keys.issue("user:1", now() - 900 - 31, "j1").unwrap();
        assert!(keys.verify(&token).is_err());
    }
}
