//! Configuration from flags and environment, checked before anything starts, with messages that
//! name the setting at fault.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use catalyst_http::auth::TokenSettings;
use catalyst_http::ServerSettings;
use catalyst_persistence::{Backend, DatabaseUrl, PoolSettings};

use crate::{Cli, Command};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{env} ({flag}) = {value:?} is invalid: {reason}")]
    Invalid {
        env: &'static str,
        flag: &'static str,
        value: String,
        reason: String,
    },
    #[error("{0}")]
    Database(#[from] catalyst_persistence::database::DatabaseUrlError),
    #[error("{0} missing")]
    Missing(&'static str),
}

impl ConfigError {
    pub fn invalid(env: &'static str, flag: &'static str, value: &str, reason: &str) -> Self {
        Self::Invalid {
            env,
            flag,
            value: value.to_owned(),
            reason: reason.to_owned(),
        }
    }

    pub fn missing(what: &'static str) -> Self {
        Self::Missing(what)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub body_limit: usize,
    pub body_timeout: catalyst_http::extract::body::BodyTimeout,
    pub import_limit: usize,
    pub ocid_prefix: String,
    /// Whether `/metrics` answers without a token.
    pub metrics_public: bool,
    /// Requests a minute per client (0: no limit).
    pub rate_limit_per_minute: u32,
    /// A read replica of the primary, when one is set.
    pub database_read_url: Option<DatabaseUrl>,
    pub server: ServerSettings,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub pool: PoolSettings,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub serve: Option<ServeConfig>,
    pub jwt_secret: Option<String>,
    pub jwt_key_dir: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub tokens: TokenSettings,
}

/// `ocds-` and six letters or digits, as the OCDS helpdesk registers them (kept in lower case).
/// A read replica must be a PostgreSQL server beside a PostgreSQL primary.
fn read_url_of(
    text: Option<&str>,
    primary: &DatabaseUrl,
) -> Result<Option<DatabaseUrl>, ConfigError> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let invalid = |reason: &str| {
        ConfigError::invalid(
            "DATABASE_READ_URL",
            "--database-read-url",
            "(hidden)",
            reason,
        )
    };
    let url = DatabaseUrl::parse(text).map_err(|error| invalid(&error.to_string()))?;
    if url.backend() != Backend::Postgres || primary.backend() != Backend::Postgres {
        return Err(invalid(
            "a read replica is a postgres:// URL, beside a PostgreSQL DATABASE_URL",
        ));
    }
    Ok(Some(url))
}

fn ocid_prefix_of(text: &str) -> Result<String, ConfigError> {
    let prefix = text.trim().to_ascii_lowercase();
    let valid = prefix
        .strip_prefix("ocds-")
        .is_some_and(|rest| rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if valid {
        Ok(prefix)
    } else {
        Err(ConfigError::invalid(
            "CATALYST_OCID_PREFIX",
            "--ocid-prefix",
            text,
            "expected ocds- and six letters or digits, such as ocds-b5fd17",
        ))
    }
}

fn number<T>(
    env: &'static str,
    flag: &'static str,
    value: &str,
    minimum: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    match value.trim().parse::<T>() {
        Ok(number) if number >= minimum => Ok(number),
        _ => Err(ConfigError::invalid(
            env,
            flag,
            value,
            &format!("expected a whole number of at least {minimum}"),
        )),
    }
}

/// `https://app.example.org,http://localhost:3000`: each an origin (scheme, host, optional
/// port; no path), checked so that a typo is reported rather than silently never matching.
fn parse_origins(text: &str) -> Result<Vec<String>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') && !host.contains(char::is_whitespace) => Ok(origin.to_owned()),
                _ => Err(ConfigError::invalid(
                    "CATALYST_CORS_ORIGINS",
                    "--cors-origins",
                    origin,
                    "each origin is scheme://host[:port] with no path, such as https://app.example.org",
                )),
            }
        })
        .collect()
}

fn boolean(env: &'static str, flag: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" | "" => Ok(false),
        _ => Err(ConfigError::invalid(
            env,
            flag,
            value,
            "expected true or false",
        )),
    }
}

/// The change feed's history: days, up to ten years (beyond that, keep a database backup).
fn retention_days(value: &str) -> Result<chrono::Duration, ConfigError> {
    let days = number(
        "CATALYST_CHANGE_RETENTION_DAYS",
        "--change-retention-days",
        value,
        0i64,
    )?;
    if days > 3650 {
        return Err(ConfigError::invalid(
            "CATALYST_CHANGE_RETENTION_DAYS",
            "--change-retention-days",
            value,
            "expected at most 3650 days",
        ));
    }
    Ok(chrono::Duration::days(days))
}

fn non_empty(env: &'static str, flag: &'static str, value: &str) -> Result<String, ConfigError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        Err(ConfigError::invalid(env, flag, value, "must not be empty"))
    } else {
        Ok(trimmed.to_owned())
    }
}

impl Config {
    pub fn from_cli(cli: &Cli) -> Result<Self, ConfigError> {
        let database_url = DatabaseUrl::parse(cli.database_url.trim())?;
        let mut pool = PoolSettings::default_for(database_url.backend());
        if let Some(size) = &cli.db_pool_size {
            pool.max_size = number("CATALYST_DB_POOL_SIZE", "--db-pool-size", size, 1u32)?;
        }
        pool.acquire_timeout = Duration::from_secs(number(
            "CATALYST_DB_POOL_TIMEOUT_SECS",
            "--db-pool-timeout-secs",
            &cli.db_pool_timeout_secs,
            1u64,
        )?);
        pool.statement_timeout = Duration::from_millis(number(
            "CATALYST_DB_STATEMENT_TIMEOUT_MS",
            "--db-statement-timeout-ms",
            &cli.db_statement_timeout_ms,
            1u64,
        )?);
        let log_format = match cli.log_format.trim() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::invalid(
                    "CATALYST_LOG_FORMAT",
                    "--log-format",
                    other,
                    "expected text or json",
                ))
            }
        };
        let serve = match &cli.command {
            Command::Serve {
                bind,
                body_limit,
                body_timeout_secs,
                body_min_rate,
                workers,
                shutdown_timeout_secs,
                cors_origins,
                change_retention_days,
                webhook_allow_private,
                webhook_timeout_secs,
                import_limit,
                ocid_prefix,
                metrics_public,
                database_read_url,
                rate_limit_per_minute,
            } => Some(ServeConfig {
                rate_limit_per_minute: number(
                    "CATALYST_RATE_LIMIT_PER_MINUTE",
                    "--rate-limit-per-minute",
                    rate_limit_per_minute,
                    0u32,
                )?,
                database_read_url: read_url_of(database_read_url.as_deref(), &database_url)?,
                metrics_public: boolean(
                    "CATALYST_METRICS_PUBLIC",
                    "--metrics-public",
                    metrics_public,
                )?,
                ocid_prefix: ocid_prefix_of(ocid_prefix)?,
                import_limit: number(
                    "CATALYST_IMPORT_LIMIT",
                    "--import-limit",
                    import_limit,
                    1024usize,
                )?,
                bind: bind.trim().parse().map_err(|_| {
                    ConfigError::invalid(
                        "CATALYST_BIND",
                        "--bind",
                        bind,
                        "expected an address and port such as 127.0.0.1:8080 or 0.0.0.0:8080",
                    )
                })?,
                body_limit: number("CATALYST_BODY_LIMIT", "--body-limit", body_limit, 1024usize)?,
                body_timeout: catalyst_http::extract::body::BodyTimeout {
                    initial: Duration::from_secs(number(
                        "CATALYST_BODY_TIMEOUT_SECS",
                        "--body-timeout-secs",
                        body_timeout_secs,
                        1u64,
                    )?),
                    min_bytes_per_second: number(
                        "CATALYST_BODY_MIN_RATE",
                        "--body-min-rate",
                        body_min_rate,
                        1u64,
                    )?,
                },
                server: ServerSettings {
                    workers: workers
                        .as_deref()
                        .map(|workers| number("CATALYST_WORKERS", "--workers", workers, 1usize))
                        .transpose()?,
                    shutdown_timeout: Duration::from_secs(number(
                        "CATALYST_SHUTDOWN_TIMEOUT_SECS",
                        "--shutdown-timeout-secs",
                        shutdown_timeout_secs,
                        0u64,
                    )?),
                    cors_origins: parse_origins(cors_origins)?,
                    change_retention: retention_days(change_retention_days)?,
                    webhooks: catalyst_http::workers::webhook_delivery::DeliverySettings {
                        allow_private: boolean(
                            "CATALYST_WEBHOOK_ALLOW_PRIVATE",
                            "--webhook-allow-private",
                            webhook_allow_private,
                        )?,
                        timeout: Duration::from_secs(number(
                            "CATALYST_WEBHOOK_TIMEOUT_SECS",
                            "--webhook-timeout-secs",
                            webhook_timeout_secs,
                            1u64,
                        )?),
                        ..Default::default()
                    },
                },
            }),
            _ => None,
        };
        let tokens = TokenSettings {
            issuer: non_empty("CATALYST_JWT_ISSUER", "--jwt-issuer", &cli.jwt_issuer)?,
            audience: non_empty("CATALYST_JWT_AUDIENCE", "--jwt-audience", &cli.jwt_audience)?,
            access_ttl_seconds: number(
                "CATALYST_ACCESS_TOKEN_TTL_SECS",
                "--access-token-ttl-secs",
                &cli.access_token_ttl_secs,
                60i64,
            )?,
            refresh_ttl_seconds: number(
                "CATALYST_REFRESH_TOKEN_TTL_SECS",
                "--refresh-token-ttl-secs",
                &cli.refresh_token_ttl_secs,
                60i64,
            )?,
        };
        if cli
            .jwt_secret
            .as_deref()
            .is_some_and(|secret| !secret.is_empty())
            && cli
                .jwt_key_dir
                .as_deref()
                .is_some_and(|folder| !folder.trim().is_empty())
        {
            return Err(ConfigError::invalid(
                "CATALYST_JWT_KEY_DIR",
                "--jwt-key-dir",
                cli.jwt_key_dir.as_deref().unwrap_or_default(),
                "set either CATALYST_JWT_SECRET (HS256) or CATALYST_JWT_KEY_DIR (EdDSA), not both",
            ));
        }
        Ok(Self {
            database_url,
            pool,
            log_format,
            log_filter: cli.log.clone(),
            serve,
            jwt_secret: cli.jwt_secret.clone().filter(|secret| !secret.is_empty()),
            jwt_key_dir: cli
                .jwt_key_dir
                .as_deref()
                .map(str::trim)
                .filter(|folder| !folder.is_empty())
                .map(PathBuf::from),
            data_dir: PathBuf::from(non_empty("CATALYST_DATA_DIR", "--data-dir", &cli.data_dir)?),
            tokens,
        })
    }
}
