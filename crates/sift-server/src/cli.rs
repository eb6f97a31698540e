//! The `sift` command line.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{AppState, Config};

#[derive(Parser)]
#[command(name = "sift", version, about = "Contact segmentation service speaking the dotmailer (Dotdigital) REST API v2")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the v2 API (creates the database and runs migrations on first start).
    Serve(ServeArgs),
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Run the whole product on the CDNOW purchase history: import, segment, refresh.
    Demo(crate::demo::DemoArgs),
    /// Benchmark refreshes against DuckDB on generated contacts (use bench/run).
    Bench(crate::bench::BenchArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Database: an SQLite file path, or a postgres:// URL.
    #[arg(long, env = "SIFT_DB", default_value = "./sift.db")]
    db: String,
    /// Address to listen on.
    #[arg(long, env = "SIFT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Seconds a job lease lasts without a heartbeat (a dead process's job is taken
    /// over after this).
    #[arg(long, env = "SIFT_LEASE_SECS", default_value_t = 10.0)]
    lease_secs: f64,
    /// Refresh workers in this process.
    #[arg(long, default_value_t = 2)]
    refresh_workers: usize,
    /// Fixed "now" for relative dates (RFC 3339), for demos and reproducible tests.
    #[arg(long, env = "SIFT_NOW")]
    now: Option<String>,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account and its API user; prints the username and password once.
    Create {
        /// Account name.
        name: String,
        /// Database: an SQLite file path, or a postgres:// URL.
        #[arg(long, env = "SIFT_DB", default_value = "./sift.db")]
        db: String,
        /// Print `{"accountId","username","password"}`.
        #[arg(long)]
        json: bool,
    },
}

/// Logs are structured and quiet by default (`RUST_LOG=info` for more).
pub fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Account { command: AccountCommand::Create { name, db, json } } => {
                init_logging("warn");
                if name.trim().is_empty() {
                    anyhow::bail!("the account name must not be empty");
                }
                let store =
                    sift_store::Store::open(&db).await.with_context(|| format!("opening the database {}", sift_store::redact_url(&db)))?;
                let (id, username, password) = crate::create_account(&store, &name).await?;
                if json {
                    println!("{}", serde_json::json!({"accountId": id, "username": username, "password": password}));
                } else {
                    println!("account {id} created\nusername: {username}\npassword: {password}\n(the password is shown only now)");
                }
                Ok(())
            }
            Command::Demo(args) => crate::demo::run(args).await,
            Command::Bench(args) => crate::bench::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn parse_now(raw: Option<&str>) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    raw.map(|s| sift_core::time::parse_instant(s).ok_or_else(|| anyhow::anyhow!("--now: '{s}' is not a date"))).transpose()
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging("warn");
    let store =
        sift_store::Store::open(&args.db).await.with_context(|| format!("opening the database {}", sift_store::redact_url(&args.db)))?;
    let config = Config {
        lease: Duration::from_secs_f64(args.lease_secs.max(0.5)),
        refresh_workers: args.refresh_workers.max(1),
        fixed_now: parse_now(args.now.as_deref())?,
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind(&args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(addr = %listener.local_addr()?, db = %sift_store::redact_url(&args.db), "sift serving");
    eprintln!("sift listening on http://{}", listener.local_addr()?);
    let state = AppState::new(store, config);
    crate::run(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
