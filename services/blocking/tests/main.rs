//! Every integration test of livedesk-blocking, as modules of one test binary
//! (`livedesk_testkit::suite`: one link instead of 7, and gigabytes less
//! disk). nextest runs each test in its own process, as before.

mod binary;
mod blocks;
mod metrics;
mod platform;
mod replicas;
mod sigterm;
mod stored_labels;
mod tracing;

/// A test file not declared above would never be compiled.
#[test]
fn every_test_file_is_a_module() {
    livedesk_testkit::suite::assert_declares_every_file(
        env!("CARGO_MANIFEST_DIR"),
        include_str!("main.rs"),
    );
}
