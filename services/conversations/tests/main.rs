//! Every integration test of livedesk-conversations, as modules of one test binary
//! (`livedesk_testkit::suite`: one link instead of 18, and gigabytes less
//! disk). nextest runs each test in its own process, as before.

mod attachments;
mod blocking;
mod common;
mod email;
mod followup;
mod listing;
mod messages;
mod natural_close;
mod pause;
mod requests;
mod role_matrix;
mod routing_events;
mod start;
mod stored_labels;
mod tags;
mod templates;
mod tenancy;
mod tenancy_matrix;
mod typing;

/// A test file not declared above would never be compiled.
#[test]
fn every_test_file_is_a_module() {
    livedesk_testkit::suite::assert_declares_every_file(
        env!("CARGO_MANIFEST_DIR"),
        include_str!("main.rs"),
    );
}
