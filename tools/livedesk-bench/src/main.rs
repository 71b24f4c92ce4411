//! `livedesk-bench`: see `livedesk-bench --help`.
use std::process::ExitCode;

use clap::Parser;
use livedesk_bench::cli::Cli;
use livedesk_bench::report::{table, write_json};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = async {
        let result = livedesk_bench::run(&cli).await?;
        write_json(&cli.json, &result)?;
        print!("{}", table(&result));
        println!("result: {}", cli.json.display());
        anyhow::Ok(())
    }
    .await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("livedesk-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
