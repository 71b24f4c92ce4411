//! The `livedesk-scheduling` binary: `serve` (default), `migrate`, `config`.
fn main() -> std::process::ExitCode {
    livedesk_platform::app::main::<livedesk_scheduling::App>()
}
