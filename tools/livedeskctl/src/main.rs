//! `livedeskctl`: see `livedeskctl --help`.
use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use livedesk_auth::Role;
use livedesk_proto::reporting::v1::{ExportCsvRequest, ExportKind};
use livedesk_proto::routing::v1 as rtg;
use livedeskctl::tokens::authed;
use livedeskctl::{Clients, Endpoints, Tokens};
use uuid::Uuid;

/// Operator CLI for Livedesk. Service URLs: LIVEDESK_CTL_<SERVICE>_URL
/// (default the local ports); tokens are signed with LIVEDESK_AUTH_HS256_SECRET.
#[derive(Parser)]
#[command(name = "livedeskctl", version)]
struct Cli {
    /// Organization to act in (default: a new one for `demo`, required otherwise).
    #[arg(long, env = "LIVEDESK_CTL_ORG", global = true)]
    org: Option<Uuid>,
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
    /// Prints a development token.
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
    let clients = Clients::new(&Endpoints::from_env())?;
    let org = || {
        cli.org
            .ok_or_else(|| anyhow::anyhow!("--org (or LIVEDESK_CTL_ORG) is required"))
    };
    match cli.command {
        Command::Demo => {
            let tokens = Tokens::from_env(cli.org.unwrap_or_else(Uuid::now_v7));
            let mut say = |line: &str| println!("▶ {line}");
            let report = livedeskctl::demo::run(&clients, &tokens, &mut say).await?;
            println!(
                "demo complete: conversation {} and blocked conversation {}",
                report.conversation_id, report.blocked_conversation_id
            );
        }
        Command::WaitReady { timeout_seconds } => {
            livedeskctl::clients::wait_ready(
                &Endpoints::from_env(),
                std::time::Duration::from_secs(timeout_seconds),
            )
            .await?;
            println!("all six services are SERVING");
        }
        Command::Token { sub, role, name } => {
            let role: Role = role.parse()?;
            println!(
                "{}",
                Tokens::from_env(org()?).mint(&sub, role, name.as_deref())?
            );
        }
        Command::CreateQueue {
            name,
            offer_timeout_seconds,
        } => {
            let token = Tokens::from_env(org()?).mint("livedeskctl", Role::Admin, None)?;
            let queue = rtg::Queue {
                name,
                offer_timeout_seconds,
                ..Default::default()
            };
            let q = clients
                .routing
                .clone()
                .create_queue(authed(
                    &token,
                    rtg::CreateQueueRequest {
                        queue: Some(queue),
                        client_request_id: Uuid::now_v7().to_string(),
                    },
                ))
                .await?
                .into_inner();
            println!("{}\t{}", q.id, q.name);
        }
        Command::Queues => {
            let token = Tokens::from_env(org()?).mint("livedeskctl", Role::Admin, None)?;
            let queues = clients
                .routing
                .clone()
                .list_queues(authed(&token, rtg::ListQueuesRequest::default()))
                .await?
                .into_inner()
                .queues;
            println!("id\tname\tstaffed\tavailable\twaiting\toldest_wait_s");
            for q in queues {
                let s = clients
                    .routing
                    .clone()
                    .get_queue_status(authed(
                        &token,
                        rtg::GetQueueStatusRequest {
                            queue_id: q.id.clone(),
                        },
                    ))
                    .await?
                    .into_inner();
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
            let kind = match kind.as_str() {
                "conversations" => ExportKind::Conversations,
                "blocked" => ExportKind::BlockedConversations,
                "agents" => ExportKind::AgentActivity,
                "forms" => ExportKind::FormSubmissions,
                other => anyhow::bail!(
                    "unknown export kind {other:?}: conversations, blocked, agents or forms"
                ),
            };
            let token = Tokens::from_env(org()?).mint("livedeskctl", Role::Supervisor, None)?;
            let mut stream = clients
                .reporting
                .clone()
                .export_csv(authed(
                    &token,
                    ExportCsvRequest {
                        kind: kind as i32,
                        range: None,
                        semicolon,
                        bom,
                    },
                ))
                .await?
                .into_inner();
            // Streamed to disk chunk by chunk: constant memory (RPT-4).
            let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
            let mut bytes = 0usize;
            while let Some(chunk) = stream.message().await? {
                bytes += chunk.data.len();
                file.write_all(&chunk.data)?;
            }
            file.flush()?;
            println!("wrote {bytes} bytes to {}", out.display());
        }
    }
    Ok(())
}
