//! `livedesk-health HOST:PORT [SERVICE]`: asks `grpc.health.v1/Check`
//! (readiness for `""`, `liveness` for liveness) and exits 0 only when the
//! answer is SERVING, like grpc_health_probe. The cluster script waits on it.
use std::process::ExitCode;
use tonic_health::pb::health_check_response::ServingStatus;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(addr) = args.next() else {
        eprintln!("usage: livedesk-health HOST:PORT [SERVICE]");
        return ExitCode::from(2);
    };
    let service = args.next().unwrap_or_default();
    match livedesk_deploy_tests::health(&addr, &service).await {
        Ok(ServingStatus::Serving) => {
            println!("SERVING");
            ExitCode::SUCCESS
        }
        Ok(status) => {
            println!("{}", status.as_str_name());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{addr}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
