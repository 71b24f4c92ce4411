//! Coverage-guided fuzzing of the masking entry points (CNV-9): they never
//! panic, PCI masking keeps the length in characters, and masking is
//! idempotent. Run: `cd libs/pii && cargo fuzz run mask` (see README).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let pci = livedesk_pii::mask_pci(text);
    assert_eq!(pci.as_str().chars().count(), text.chars().count(), "PCI masking keeps the length");
    assert_eq!(livedesk_pii::mask_pci(pci.as_str()).as_str(), pci.as_str(), "PCI masking is idempotent");
    let pii = livedesk_pii::mask_pii(text);
    assert_eq!(livedesk_pii::mask_pii(&pii), pii, "PII masking is idempotent");
    let log = livedesk_pii::redact_for_log(text);
    assert_eq!(livedesk_pii::redact_for_log(&log), log, "log redaction is idempotent");
    let _ = livedesk_pii::mask_name(text);
    let _ = livedesk_pii::mask_email(text);
    let _ = livedesk_pii::mask_phone(text);
});
