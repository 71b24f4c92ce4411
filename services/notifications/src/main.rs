//! The `livedesk-notifications` binary: `serve` (default), `migrate`, `config`.
fn main() -> std::process::ExitCode {
    livedesk_platform::app::main::<livedesk_notifications::App>()
}
