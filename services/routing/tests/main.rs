//! Every integration test of livedesk-routing, as modules of one test binary
//! (`livedesk_testkit::suite`: one link instead of 15, and gigabytes less
//! disk). nextest runs each test in its own process, as before.

mod abandon;
mod agents_queues;
mod bench;
mod capacity;
mod common;
mod conference;
mod delete;
mod memberships;
mod offers;
mod pause;
mod pick;
mod positions;
mod replicas;
mod simulation;
mod stored_enums;
mod transfer;

/// A test file not declared above would never be compiled.
#[test]
fn every_test_file_is_a_module() {
    livedesk_testkit::suite::assert_declares_every_file(
        env!("CARGO_MANIFEST_DIR"),
        include_str!("main.rs"),
    );
}
