//! `livedeskctl`: see `livedeskctl --help`.
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use livedesk_auth::Role;
use livedeskctl::commands;
use livedeskctl::tokens::TokenOptions;
use livedeskctl::{Clients, Endpoints, Tokens};
use uuid::Uuid;

/// Operator CLI for Livedesk. Service URLs: LIVEDESK_CTL_<SERVICE>_URL
/// (default the local ports, comma-separated for several replicas). Calls
/// carry a token: --token/--token-file as is, or minted with --private-key,
/// --secret, or the development secret with --dev (local suites only).
#[derive(Parser)]
#[command(name = "livedeskctl", version)]
struct Cli {
    /// Organization to act in (default: a new one for `demo`, the token's
    /// own with --token; required otherwise).
    #[arg(long, env = "LIVEDESK_CTL_ORG", global = true)]
    org: Option<Uuid>,
    #[command(flatten)]
    auth: TokenOptions,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Plays the walking skeleton against running services and prints it.
    Demo,
    /// Waits until all six services report SERVING on grpc.health.v1.
    WaitReady {
        #[arg(long, default_value_t = 60)]
        timeout_seconds: u64,
    },
    /// Mints and prints a token with the given key (--private-key, --secret or --dev).
    Token {
        #[arg(long)]
        sub: String,
        #[arg(long, default_value = "admin")]
        role: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Creates a queue.
    CreateQueue {
        #[arg(long)]
        name: String,
        #[arg(long, default_value_t = 20)]
        offer_timeout_seconds: u32,
    },
    /// Creates or updates an agent.
    UpsertAgent {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value_t = 4)]
        chat_capacity: u32,
        /// Queue ids (repeat); none = the default queue.
        #[arg(long = "queue")]
        queues: Vec<String>,
    },
    /// Creates a schedule, e.g. --hours "mon-fri=09:00-12:00,13:30-18:00;sat=10:00-14:00".
    CreateSchedule {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "Europe/Paris")]
        time_zone: String,
        #[arg(long)]
        hours: String,
        /// Assign it to this queue.
        #[arg(long)]
        queue: Option<String>,
    },
    /// Lists queues with their staffing and waiting counts.
    Queues,
    /// Exports a CSV file (conversations, blocked, agents, forms).
    Export {
        #[arg(long, default_value = "conversations")]
        kind: String,
        #[arg(long)]
        out: std::path::PathBuf,
        /// Use `;` as the delimiter (spreadsheet locales).
        #[arg(long)]
        semicolon: bool,
        /// Write a UTF-8 byte-order mark.
        #[arg(long)]
        bom: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("livedeskctl: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let endpoints = Endpoints::from_env();
    let clients = Clients::new(&endpoints)?;
    let tokens = || Tokens::with_credential(cli.auth.credential()?, cli.org);
    match &cli.command {
        Command::Demo => {
            let credential = cli.auth.credential()?;
            let org = cli.org.or_else(|| credential.can_mint().then(Uuid::now_v7));
            let tokens = Tokens::with_credential(credential, org)?;
            let mut say = |line: &str| println!("▶ {line}");
            let report = livedeskctl::demo::run(&clients, &tokens, &mut say).await?;
            println!(
                "demo complete: conversation {} and blocked conversation {}",
                report.conversation_id, report.blocked_conversation_id
            );
        }
        Command::WaitReady { timeout_seconds } => {
            livedeskctl::clients::wait_ready(
                &endpoints,
                std::time::Duration::from_secs(*timeout_seconds),
            )
            .await?;
            println!("all six services are SERVING");
        }
        Command::Token { sub, role, name } => {
            let role: Role = role.parse()?;
            let tokens = tokens()?;
            if !tokens.can_mint() {
                anyhow::bail!(
                    "token mints with --private-key, --secret or --dev; --token already is one"
                );
            }
            println!("{}", tokens.mint(sub, role, name.as_deref())?);
        }
        Command::CreateQueue {
            name,
            offer_timeout_seconds,
        } => {
            let q =
                commands::create_queue(&clients, &tokens()?, name, *offer_timeout_seconds).await?;
            println!("{}\t{}", q.id, q.name);
        }
        Command::UpsertAgent {
            id,
            name,
            chat_capacity,
            queues,
        } => {
            let a = commands::upsert_agent(
                &clients,
                &tokens()?,
                id,
                name,
                *chat_capacity,
                queues.clone(),
            )
            .await?;
            println!("{}\t{}\t{}", a.id, a.display_name, a.initials);
        }
        Command::CreateSchedule {
            name,
            time_zone,
            hours,
            queue,
        } => {
            let s = commands::create_schedule(
                &clients,
                &tokens()?,
                name,
                time_zone,
                hours,
                queue.as_deref(),
            )
            .await?;
            println!("{}\t{}\t{}", s.id, s.name, s.time_zone);
        }
        Command::Queues => {
            let lines = commands::inspect_queues(&clients, &tokens()?).await?;
            println!("id\tname\tstaffed\tavailable\twaiting\toldest_wait_s");
            for l in lines {
                let (q, s) = (l.queue, l.status);
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    q.id, q.name, s.staffed, s.available_agents, s.waiting, s.oldest_wait_seconds
                );
            }
        }
        Command::Export {
            kind,
            out,
            semicolon,
            bom,
        } => {
            let kind = commands::export_kind(kind)?;
            let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
            let bytes = commands::export_csv(
                &clients,
                &tokens()?,
                kind,
                None,
                *semicolon,
                *bom,
                &mut file,
            )
            .await?;
            println!("wrote {bytes} bytes to {}", out.display());
        }
    }
    Ok(())
}
