//! Ports for services that must know each other's address before they
//! start (blocking and conversations call each other).
//!
//! Reserving with `bind("127.0.0.1:0")` and releasing races with every
//! other port-0 bind of parallel tests: the kernel may hand the released
//! port to someone else before our service binds it. Ports below the
//! kernel's ephemeral range (here 32768–60999) are never handed out for
//! port 0, so a random free one there only collides with another explicit
//! reservation, which the bind check makes unlikely.
use std::net::TcpListener;

const RANGE: std::ops::Range<u16> = 20_000..32_000;

/// A loopback port that is free now and outside the ephemeral range.
pub fn reserve_port() -> std::io::Result<u16> {
    for _ in 0..200 {
        let port = RANGE.start + (rand_u16() % (RANGE.end - RANGE.start));
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "no free port in 20000..32000",
    ))
}

fn rand_u16() -> u16 {
    // A v4-like draw without a random-number dependency: UUIDv7 carries 74
    // random bits.
    let bytes = uuid::Uuid::now_v7().into_bytes();
    u16::from_le_bytes([bytes[14], bytes[15]])
}

#[cfg(test)]
mod tests {
    #[test]
    fn reserved_ports_are_outside_the_ephemeral_range_and_free() {
        for _ in 0..20 {
            let p = super::reserve_port().unwrap_or(0);
            assert!((20_000..32_000).contains(&p));
            assert!(std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
        }
    }
}
