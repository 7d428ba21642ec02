//! The `catalyst` command: wiring only. Configuration is read and checked here, then handed to
//! the persistence and http crates.

mod config;
mod import;
mod memory;
mod secrets;
mod seed;
mod users;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "catalyst",
    version,
    about = "Track SBRI-style innovation challenges, their funding and trials."
)]
struct Cli {
    /// Database: postgres://USER:PASSWORD@HOST/DB or sqlite://PATH.
    #[arg(long, env = "DATABASE_URL", global = true, default_value = catalyst_persistence::DatabaseUrl::DEFAULT)]
    database_url: String,

    /// Log format: text or json.
    #[arg(
        long,
        env = "CATALYST_LOG_FORMAT",
        global = true,
        default_value = "text"
    )]
    log_format: String,

    /// Log filter, in tracing's EnvFilter syntax (for example `info` or `catalyst_http=debug`).
    #[arg(long, env = "CATALYST_LOG", global = true, default_value = "info")]
    log: String,

    /// Largest database connection pool (default 10 on PostgreSQL, 4 on SQLite).
    #[arg(long, env = "CATALYST_DB_POOL_SIZE", global = true)]
    db_pool_size: Option<String>,

    /// Seconds a request waits for a database connection before it is answered 503.
    #[arg(
        long,
        env = "CATALYST_DB_POOL_TIMEOUT_SECS",
        global = true,
        default_value = "5"
    )]
    db_pool_timeout_secs: String,

    /// Milliseconds a PostgreSQL statement may run before it is cancelled (answered 503).
    #[arg(
        long,
        env = "CATALYST_DB_STATEMENT_TIMEOUT_MS",
        global = true,
        default_value = "30000"
    )]
    db_statement_timeout_ms: String,

    /// HS256 signing secret for access tokens, at least 32 bytes. Unset: generated on first start
    /// and kept in the data folder.
    #[arg(
        long,
        env = "CATALYST_JWT_SECRET",
        global = true,
        hide_env_values = true
    )]
    jwt_secret: Option<String>,

    /// Folder of Ed25519 keys for EdDSA tokens: one private `<kid>.pem` signs, every
    /// `<kid>.pub.pem` verifies (old keys during a rotation); published at /api/v1/auth/jwks.json.
    #[arg(long, env = "CATALYST_JWT_KEY_DIR", global = true)]
    jwt_key_dir: Option<String>,

    /// Folder for generated files (the signing secret).
    #[arg(long, env = "CATALYST_DATA_DIR", global = true, default_value = "data")]
    data_dir: String,

    /// `iss` of access tokens.
    #[arg(
        long,
        env = "CATALYST_JWT_ISSUER",
        global = true,
        default_value = "catalyst"
    )]
    jwt_issuer: String,

    /// `aud` of access tokens.
    #[arg(
        long,
        env = "CATALYST_JWT_AUDIENCE",
        global = true,
        default_value = "catalyst-api"
    )]
    jwt_audience: String,

    /// Lifetime of access tokens, in seconds.
    #[arg(
        long,
        env = "CATALYST_ACCESS_TOKEN_TTL_SECS",
        global = true,
        default_value = "900"
    )]
    access_token_ttl_secs: String,

    /// Lifetime of refresh tokens, in seconds.
    #[arg(
        long,
        env = "CATALYST_REFRESH_TOKEN_TTL_SECS",
        global = true,
        default_value = "2592000"
    )]
    refresh_token_ttl_secs: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once at start and never moved about: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Apply pending migrations, then serve the API.
    Serve {
        /// Address to listen on (port 0 picks a free port, which is logged).
        #[arg(long, env = "CATALYST_BIND", default_value = "127.0.0.1:8080")]
        bind: String,

        /// Largest request body, in bytes.
        #[arg(long, env = "CATALYST_BODY_LIMIT", default_value = "1048576")]
        body_limit: String,

        /// Seconds a client gets to send a request body, before the allowance its rate earns.
        #[arg(long, env = "CATALYST_BODY_TIMEOUT_SECS", default_value = "20")]
        body_timeout_secs: String,

        /// Each this many bytes of a body received earn its sender one more second.
        #[arg(long, env = "CATALYST_BODY_MIN_RATE", default_value = "65536")]
        body_min_rate: String,

        /// HTTP worker threads (default: one per core).
        #[arg(long, env = "CATALYST_WORKERS")]
        workers: Option<String>,

        /// Seconds in-flight requests get to finish on SIGTERM/SIGINT.
        #[arg(long, env = "CATALYST_SHUTDOWN_TIMEOUT_SECS", default_value = "30")]
        shutdown_timeout_secs: String,

        /// Browser origins allowed to call the API, comma-separated (https://app.example.org).
        #[arg(long, env = "CATALYST_CORS_ORIGINS", default_value = "")]
        cors_origins: String,

        /// Days the change feed keeps changes (older cursors get 410 Gone).
        #[arg(long, env = "CATALYST_CHANGE_RETENTION_DAYS", default_value = "90")]
        change_retention_days: String,

        /// Let webhooks call private, loopback and link-local addresses (for tests and closed
        /// networks; never on a server that strangers may subscribe from).
        #[arg(
            long,
            env = "CATALYST_WEBHOOK_ALLOW_PRIVATE",
            num_args = 0..=1,
            require_equals = true,
            default_value = "false",
            default_missing_value = "true",
            value_name = "BOOL"
        )]
        webhook_allow_private: String,

        /// Largest import upload, in bytes.
        #[arg(long, env = "CATALYST_IMPORT_LIMIT", default_value = "536870912")]
        import_limit: String,

        /// The registered OCDS prefix of published `ocid`s (`ocds-` and six letters or digits).
        #[arg(long, env = "CATALYST_OCID_PREFIX", default_value = "ocds-catlst")]
        ocid_prefix: String,

        /// A streaming read replica of the PostgreSQL primary (postgres://...): reports, exports,
        /// OCDS and anonymous list reads use it, and the primary while it is down.
        #[arg(long, env = "DATABASE_READ_URL")]
        database_read_url: Option<String>,

        /// Requests a minute each client may make to the API (0: no limit).
        #[arg(long, env = "CATALYST_RATE_LIMIT_PER_MINUTE", default_value = "1200")]
        rate_limit_per_minute: String,

        /// Serve /metrics to anyone, without a token (for a scraper inside a closed network).
        #[arg(
            long,
            env = "CATALYST_METRICS_PUBLIC",
            num_args = 0..=1,
            require_equals = true,
            default_value = "false",
            default_missing_value = "true",
            value_name = "BOOL"
        )]
        metrics_public: String,

        /// Seconds a webhook receiver gets to answer.
        #[arg(long, env = "CATALYST_WEBHOOK_TIMEOUT_SECS", default_value = "10")]
        webhook_timeout_secs: String,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document to standard output.
    Openapi,
    /// Copy the SQLite database to FILE, consistently, while the server runs (safe from cron).
    ///
    /// The copy is checked (PRAGMA integrity_check) and renamed into place only when whole. For
    /// PostgreSQL, use pg_dump: this says so and exits 2.
    Backup {
        /// Where the copy goes (it must not exist, unless --force).
        file: std::path::PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Make a backup FILE the SQLite database of DATABASE_URL, which must not exist yet.
    ///
    /// The next `serve` or `migrate` brings a backup of an older release up to date.
    Restore {
        /// A file `catalyst backup` made.
        file: std::path::PathBuf,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Load data.
    #[command(subcommand)]
    Seed(SeedCommand),
    /// Import a file of NDJSON or CSV rows, as POST /api/v1/imports does.
    ///
    /// Progress goes to standard error (a bar on a terminal), the summary to standard output,
    /// and each rejected row to standard error as `line N: /member: why`. Exits 1 when the
    /// import failed.
    Import {
        /// The file (`.csv` is CSV; anything else NDJSON unless --format says).
        file: std::path::PathBuf,
        /// What the rows are.
        #[arg(long, default_value = "organisations", value_parser = clap::builder::PossibleValuesParser::new(catalyst_domain::ImportCollection::ALL.iter().map(|collection| collection.as_str())))]
        collection: String,
        /// `all_or_nothing` keeps nothing when a row is bad; `partial` imports the good rows and
        /// reports the others.
        #[arg(long, default_value = "all_or_nothing", value_parser = clap::builder::PossibleValuesParser::new(["all_or_nothing", "partial"]))]
        mode: String,
        /// The file's format; by default from its extension.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["ndjson", "csv"]))]
        format: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum SeedCommand {
    /// The GovTech Catalyst demo data set (idempotent: a second run changes nothing).
    Demo,
    /// A large consistent data set for benchmarks (idempotent for a given scale).
    Synthetic {
        /// How many challenges (each with phases, ten applications, awards, milestones).
        #[arg(long, default_value = "1000")]
        scale: usize,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input (one line).
    ///
    /// printf '%s\n' "$PASSWORD" | catalyst user create --email admin@example.org --name Admin --role admin
    Create {
        /// The email the user signs in with (unique, whatever its case).
        #[arg(long)]
        email: String,
        /// The user's name, as others see it.
        #[arg(long)]
        name: String,
        /// What the user may do.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(catalyst_domain::Role::ALL.iter().map(catalyst_domain::Role::as_str)))]
        role: String,
        /// The id (a UUID, as GET /api/v1/organisations shows it) of an organisation the user
        /// acts for; repeat for several. Authority officers and suppliers need one.
        #[arg(long = "organisation", value_name = "ORGANISATION_ID")]
        organisations: Vec<String>,
    },
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Migration(#[from] catalyst_persistence::migrations::MigrationError),
    #[error("cannot reach the database {url}: {reason}")]
    Database { url: String, reason: String },
    #[error("{0}")]
    Unreachable(#[from] catalyst_persistence::database::Unreachable),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Server(std::io::Error),
    #[error("{0}")]
    User(String),
    #[error("{0}")]
    Backup(#[from] catalyst_persistence::backup::BackupError),
}

fn main() -> ExitCode {
    memory::limit_malloc_arenas();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "catalyst: {error}");
            match error {
                RunError::Config(_) => ExitCode::from(2),
                RunError::Unreachable(unreachable) if unreachable.is_setting() => ExitCode::from(2),
                RunError::Backup(backup) if backup.is_setting() => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn run(cli: Cli) -> Result<(), RunError> {
    if let Command::Openapi = cli.command {
        print!("{}", catalyst_http::openapi_json());
        return Ok(());
    }
    // Every setting is checked before anything is created or migrated: the signing keys too,
    // and whether the database exists and takes the credentials.
    let config = Config::from_cli(&cli)?;
    init_logging(config.log_format, &config.log_filter)?;
    // Before anything connects or migrates: a backup taken before an upgrade must be of the
    // database as it was, and a restore goes where no database is yet.
    match &cli.command {
        Command::Backup { file, force } => {
            catalyst_persistence::backup::backup(&config.database_url, file, *force)?;
            println!("{}", file.display());
            return Ok(());
        }
        Command::Restore { file } => {
            catalyst_persistence::backup::restore(&config.database_url, file)?;
            tracing::info!(from = %file.display(), "restored");
            return Ok(());
        }
        _ => {}
    }
    let keys = match cli.command {
        Command::Serve { .. } => Some(token_keys(&config)?),
        _ => None,
    };
    catalyst_persistence::database::check_reachable(&config.database_url)?;
    let pool = catalyst_persistence::Pool::new(config.database_url.clone(), &config.pool);
    migrate(&pool, &config)?;
    match &cli.command {
        Command::Serve { .. } => match keys {
            Some(keys) => serve(pool, &config, keys),
            None => Err(RunError::Config(ConfigError::missing("token keys"))),
        },
        Command::User(UserCommand::Create {
            email,
            name,
            role,
            organisations,
        }) => users::create(&pool, email, name, role, organisations).map_err(RunError::User),
        Command::Import {
            file,
            collection,
            mode,
            format,
        } => import::run(&pool, file, collection, mode, format.as_deref()).map_err(RunError::User),
        Command::Seed(SeedCommand::Demo) => {
            let created = seed::demo(&pool).map_err(RunError::User)?;
            if created == 0 {
                println!("the demo data is loaded already: nothing changed");
            } else {
                println!("loaded the demo data: {created} records");
            }
            Ok(())
        }
        Command::Seed(SeedCommand::Synthetic { scale }) => {
            let started = std::time::Instant::now();
            let created = seed::synthetic(&pool, *scale, |done, total| {
                if done % 500 == 0 || done == total {
                    eprintln!("seed synthetic: {done}/{total} challenges");
                }
            })
            .map_err(RunError::User)?;
            if created == 0 {
                println!("the synthetic data at scale {scale} is loaded already: nothing changed");
            } else {
                println!(
                    "loaded {created} synthetic records in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
        Command::Migrate | Command::Openapi | Command::Backup { .. } | Command::Restore { .. } => {
            Ok(())
        }
    }
}

fn migrate(pool: &catalyst_persistence::Pool, config: &Config) -> Result<(), RunError> {
    let database_error = |reason: String| RunError::Database {
        url: config.database_url.to_string(),
        reason,
    };
    let mut connection = pool
        .get()
        .map_err(|error| database_error(error.to_string()))?;
    let applied = catalyst_persistence::migrations::run_pending(&mut connection)?;
    if applied.is_empty() {
        tracing::info!(
            database = %config.database_url,
            backend = %pool.backend(),
            "migrations up to date: none to apply"
        );
    } else {
        tracing::info!(
            database = %config.database_url,
            backend = %pool.backend(),
            applied = applied.len(),
            "applied {} migrations now",
            applied.len()
        );
    }
    let raised = catalyst_persistence::changes::move_past_stored(&mut connection)
        .map_err(|error| database_error(error.to_string()))?;
    if raised > 0 {
        // A dump from an older cluster: its changes are numbered past this cluster's counter.
        tracing::warn!(
            raised_by = raised,
            cause = "a dump restored from another cluster",
            "change feed positions moved past the stored changes"
        );
    }
    Ok(())
}

/// The keys that sign and verify access tokens, from the settings.
fn token_keys(config: &Config) -> Result<catalyst_http::auth::TokenKeys, RunError> {
    match &config.jwt_key_dir {
        Some(folder) => {
            let keys =
                catalyst_http::auth::TokenKeys::ed25519_folder(folder, config.tokens.clone())
                    .map_err(|error| {
                        RunError::Config(ConfigError::invalid(
                            "CATALYST_JWT_KEY_DIR",
                            "--jwt-key-dir",
                            &folder.display().to_string(),
                            &error.to_string(),
                        ))
                    })?;
            tracing::info!(folder = %folder.display(), "EdDSA token keys loaded");
            Ok(keys)
        }
        None => {
            let (secret, source) =
                secrets::load_or_create(config.jwt_secret.as_deref(), &config.data_dir)?;
            let keys = catalyst_http::auth::TokenKeys::hs256(&secret, config.tokens.clone())
                .map_err(|error| {
                    RunError::Config(ConfigError::invalid(
                        "CATALYST_JWT_SECRET",
                        "--jwt-secret",
                        "(hidden)",
                        &error.to_string(),
                    ))
                })?;
            tracing::info!(source = %source, "token signing key loaded");
            Ok(keys)
        }
    }
}

fn serve(
    pool: catalyst_persistence::Pool,
    config: &Config,
    keys: catalyst_http::auth::TokenKeys,
) -> Result<(), RunError> {
    let serve = config
        .serve
        .as_ref()
        .ok_or_else(|| RunError::Config(ConfigError::missing("serve settings")))?;
    let listener = std::net::TcpListener::bind(serve.bind).map_err(|source| RunError::Bind {
        address: serve.bind.to_string(),
        source,
    })?;
    let address = listener.local_addr().map_err(RunError::Server)?;
    let replica = serve.database_read_url.clone().map(|url| {
        let settings = catalyst_persistence::PoolSettings {
            acquire_timeout: catalyst_persistence::REPLICA_ACQUIRE_TIMEOUT,
            ..config.pool.clone()
        };
        tracing::info!(replica = %url, "reads that may lag go to the read replica");
        catalyst_persistence::Pool::new(url, &settings)
    });
    let state = catalyst_http::AppState {
        reads: catalyst_persistence::ReadPools::new(pool.clone(), replica),
        pool,
        body_limit: serve.body_limit,
        body_timeout: serve.body_timeout,
        keys: std::sync::Arc::new(keys),
        webhooks_allow_private: serve.server.webhooks.allow_private,
        import_limit: serve.import_limit,
        ocid_prefix: serve.ocid_prefix.clone(),
        metrics: std::sync::Arc::default(),
        metrics_public: serve.metrics_public,
        rate_limiter: std::sync::Arc::new(catalyst_http::middleware::rate_limit::RateLimiter::new(
            serve.rate_limit_per_minute,
        )),
        imports_queued: std::sync::Arc::default(),
    };
    actix_web::rt::System::new().block_on(async move {
        let server =
            catalyst_http::server(state, listener, &serve.server).map_err(RunError::Server)?;
        actix_web::rt::spawn(memory::return_freed_memory());
        tracing::info!(address = %address, "listening");
        server.await.map_err(RunError::Server)?;
        tracing::info!("stopped");
        Ok(())
    })
}

fn init_logging(format: LogFormat, filter: &str) -> Result<(), RunError> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).map_err(|error| {
        RunError::Config(ConfigError::invalid(
            "CATALYST_LOG",
            "--log",
            filter,
            &error.to_string(),
        ))
    })?;
    // Standard output is for what a command prints (an id, a summary, the spec): logs go to
    // standard error, coloured only for a person at a terminal who has not asked for none.
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        LogFormat::Text => builder.init(),
    }
    Ok(())
}
