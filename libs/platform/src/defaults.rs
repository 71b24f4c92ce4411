//! Deterministic ids of an org's default resources (TEN-1).
//!
//! A new org works with no configuration: its default queue, schedule and
//! forms exist "on first use". Their ids are UUIDv5 of the org id and a fixed
//! name, so every service (and every replica) computes the same id without a
//! call, and the first insert wins on the primary key.
use uuid::Uuid;

const NAMESPACE: Uuid = Uuid::from_u128(0x6c69_7665_6465_736b_0000_0000_0000_0001);

fn derived(org: Uuid, name: &str) -> Uuid {
    let mut bytes = org.as_bytes().to_vec();
    bytes.extend_from_slice(name.as_bytes());
    Uuid::new_v5(&NAMESPACE, &bytes)
}

/// The org's default queue ("General").
pub fn default_queue_id(org: Uuid) -> Uuid {
    derived(org, "queue:default")
}

/// The org's default schedule (always open).
pub fn default_schedule_id(org: Uuid) -> Uuid {
    derived(org, "schedule:default")
}

/// The org's default offline form.
pub fn default_offline_form_id(org: Uuid) -> Uuid {
    derived(org, "form:offline")
}

/// The org's default contact form.
pub fn default_contact_form_id(org: Uuid) -> Uuid {
    derived(org, "form:contact")
}

/// Resolves an optional queue id from a request: empty means the default.
pub fn queue_or_default(org: Uuid, raw: &str) -> Result<Uuid, uuid::Error> {
    if raw.trim().is_empty() {
        Ok(default_queue_id(org))
    } else {
        Uuid::parse_str(raw.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // spec: TEN-1
    #[test]
    fn default_ids_are_stable_per_org_and_distinct_across_orgs() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        assert_eq!(default_queue_id(a), default_queue_id(a));
        assert_ne!(default_queue_id(a), default_queue_id(b));
        assert_ne!(default_queue_id(a), default_schedule_id(a));
    }
}
