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
    #[error("key folder {folder}: {reason}")]
    KeyFolder { folder: String, reason: String },
}

/// Why a token was refused; the detail is for logs, the client hears only "invalid token".
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct InvalidToken(pub String);

pub struct TokenKeys {
    encoding: EncodingKey,
    /// The key id that signs new tokens.
    key_id: String,
    /// Every key that verifies, by key id: the signing key's and, after a rotation, the old ones.
    decoding: std::collections::HashMap<String, DecodingKey>,
    /// The one algorithm accepted, whatever a token's header says.
    algorithm: Algorithm,
    validation: Validation,
    /// The public keys as a JWK Set (empty for a shared secret).
    jwks: serde_json::Value,
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
        // The key id names the secret without revealing it, so a token signed with another
        // (an old or a foreign one) is refused by name.
        let key_id = format!(
            "hs256-{}",
            &sha256_hex(&String::from_utf8_lossy(secret))[..16]
        );
        let decoding =
            std::iter::once((key_id.clone(), DecodingKey::from_secret(secret))).collect();
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            key_id,
            decoding,
            algorithm: Algorithm::HS256,
            validation: validation(Algorithm::HS256, &settings),
            jwks: serde_json::json!({"keys": []}),
            settings,
        })
    }

    /// EdDSA (Ed25519) keys from a folder: exactly one private key `<kid>.pem` signs; every
    /// `<kid>.pub.pem` verifies (the signer's own, and old keys kept through a rotation). The key
    /// ids are the file names, and the public keys are published as a JWK Set.
    pub fn ed25519_folder(
        folder: &std::path::Path,
        settings: TokenSettings,
    ) -> Result<Self, KeyError> {
        let failure = |reason: String| KeyError::KeyFolder {
            folder: folder.display().to_string(),
            reason,
        };
        let entries = std::fs::read_dir(folder).map_err(|error| failure(error.to_string()))?;
        let mut signer: Option<(String, EncodingKey)> = None;
        let mut decoding = std::collections::HashMap::new();
        let mut jwks = Vec::new();
        let mut paths: Vec<std::path::PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        paths.sort();
        for path in paths.iter().filter(|path| path.is_file()) {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or_default()
                .to_owned();
            let pem = std::fs::read(path).map_err(|error| failure(format!("{name}: {error}")))?;
            if let Some(kid) = name.strip_suffix(".pub.pem") {
                let key = DecodingKey::from_ed_pem(&pem).map_err(|error| {
                    failure(format!("{name}: not an Ed25519 public key: {error}"))
                })?;
                let x = ed25519_public_key(&pem)
                    .ok_or_else(|| failure(format!("{name}: not an Ed25519 public key")))?;
                decoding.insert(kid.to_owned(), key);
                jwks.push(serde_json::json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid, "x": x}));
            } else if let Some(kid) = name.strip_suffix(".pem") {
                if signer.is_some() {
                    return Err(failure("more than one private key: keep only the one that signs (old keys as .pub.pem)".to_owned()));
                }
                let key = EncodingKey::from_ed_pem(&pem).map_err(|error| {
                    failure(format!("{name}: not an Ed25519 private key: {error}"))
                })?;
                signer = Some((kid.to_owned(), key));
            }
        }
        let (key_id, encoding) =
            signer.ok_or_else(|| failure("no private key <kid>.pem to sign with".to_owned()))?;
        if !decoding.contains_key(&key_id) {
            return Err(failure(format!(
                "{key_id}.pub.pem is missing: the signing key's public half must be there too"
            )));
        }
        Ok(Self {
            encoding,
            key_id,
            decoding,
            algorithm: Algorithm::EdDSA,
            validation: validation(Algorithm::EdDSA, &settings),
            jwks: serde_json::json!({"keys": jwks}),
            settings,
        })
    }

    /// The public keys as a JWK Set (RFC 7517).
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
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
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.key_id.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|error| KeyError::Sign(error.to_string()))
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|error| InvalidToken(error.to_string()))?;
        if header.alg != self.algorithm {
            return Err(InvalidToken(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        if header.jku.is_some() || header.jwk.is_some() || header.x5u.is_some() {
            return Err(InvalidToken(
                "key references in the header are not accepted".to_owned(),
            ));
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.decoding.get(kid))
            .ok_or_else(|| InvalidToken("unknown key id".to_owned()))?;
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| InvalidToken(error.to_string()))
    }
}

/// Validation with one algorithm pinned, every registered claim we issue required, `nbf`
/// checked, and at most 30 seconds of leeway.
fn validation(algorithm: Algorithm, settings: &TokenSettings) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.algorithms = vec![algorithm];
    validation.set_issuer(&[settings.issuer.as_str()]);
    validation.set_audience(&[settings.audience.as_str()]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECONDS;
    validation
}

/// The 32-byte Ed25519 key of a PEM SubjectPublicKeyInfo, base64url: the JWK's `x` (RFC 8037).
fn ed25519_public_key(pem: &[u8]) -> Option<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    // SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING (32 bytes) }
    const PREFIX: [u8; 12] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    let text = std::str::from_utf8(pem).ok()?;
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(body.trim()).ok()?;
    (der.len() == 44 && der[..12] == PREFIX).then(|| URL_SAFE_NO_PAD.encode(&der[12..]))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        keys_with(b"0123456789abcdef0123456789abcdef")
    }

    /// HS256 keys with test settings, for tests here and elsewhere in the crate.
    pub(crate) fn keys_with(secret: &[u8]) -> TokenKeys {
        TokenKeys::hs256(
            secret,
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
