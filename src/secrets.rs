//! The token-signing secret: from `CATALYST_JWT_SECRET`, or generated on first start and kept in
//! the data folder (readable by its owner only), so that a newcomer's `cargo run` needs no setup
//! and tokens survive restarts.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::config::ConfigError;

const SECRET_FILE: &str = "jwt-secret";

/// The secret bytes, and where they came from (for the log).
pub fn load_or_create(
    configured: Option<&str>,
    data_dir: &Path,
) -> Result<(Vec<u8>, String), ConfigError> {
    if let Some(secret) = configured {
        let bytes = secret.as_bytes().to_vec();
        if bytes.len() < catalyst_http::auth::keys::MIN_SECRET_BYTES {
            return Err(ConfigError::invalid(
                "CATALYST_JWT_SECRET",
                "--jwt-secret",
                "(hidden)",
                &format!(
                    "it is {} bytes; use at least {} random bytes, for example `openssl rand -base64 48`",
                    bytes.len(),
                    catalyst_http::auth::keys::MIN_SECRET_BYTES
                ),
            ));
        }
        return Ok((bytes, "CATALYST_JWT_SECRET".to_owned()));
    }
    let path: PathBuf = data_dir.join(SECRET_FILE);
    let failure = |reason: String| {
        ConfigError::invalid(
            "CATALYST_DATA_DIR",
            "--data-dir",
            &data_dir.display().to_string(),
            &reason,
        )
    };
    if path.exists() {
        let mut text = String::new();
        std::fs::File::open(&path)
            .and_then(|mut file| file.read_to_string(&mut text))
            .map_err(|error| failure(format!("cannot read {}: {error}", path.display())))?;
        let secret = text.trim().as_bytes().to_vec();
        if secret.len() < catalyst_http::auth::keys::MIN_SECRET_BYTES {
            return Err(failure(format!(
                "{} holds a secret that is too short",
                path.display()
            )));
        }
        return Ok((secret, path.display().to_string()));
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|error| failure(format!("cannot create it: {error}")))?;
    let mut random = [0u8; 48];
    getrandom::fill(&mut random).map_err(|error| failure(format!("no randomness: {error}")))?;
    let secret = URL_SAFE_NO_PAD.encode(random);
    // create_new: two processes starting at once must not overwrite each other's secret.
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut file| file.write_all(secret.as_bytes()));
    match written {
        Ok(()) => Ok((
            secret.into_bytes(),
            format!("{} (generated)", path.display()),
        )),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            load_or_create(None, data_dir)
        }
        Err(error) => Err(failure(format!("cannot write {}: {error}", path.display()))),
    }
}
