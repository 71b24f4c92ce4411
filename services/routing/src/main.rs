//! The `livedesk-routing` binary: `serve` (default), `migrate`, `config`.
fn main() -> std::process::ExitCode {
    livedesk_platform::app::main::<livedesk_routing::App>()
}
