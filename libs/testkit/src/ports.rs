//! Ports for services that must know each other's address before they
//! start (blocking and conversations call each other).
//!
//! Reserving with `bind("127.0.0.1:0")` and releasing races with every
//! other port-0 bind of parallel tests: the kernel may hand the released
//! port to someone else before our service binds it. Ports below the
//! kernel's ephemeral range (here 32768–60999) are never handed out for
//! port 0, so a port there only collides with another explicit
//! reservation: a parallel test process drawing the same port between our
//! check and our service's bind (seen: "Address already in use" in one
//! full run of 434 tests). Each reservation therefore also takes an
//! exclusive lock on a per-port file, held until the test process exits:
//! two live test processes never hold the same port.
use std::fs::{File, OpenOptions, TryLockError};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Mutex;

const RANGE: std::ops::Range<u16> = 20_000..32_000;

/// The lock files of this process's reservations, kept open (and so
/// locked) until it exits; the kernel releases them with the process.
static HELD: Mutex<Vec<File>> = Mutex::new(Vec::new());

fn lock_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join("livedesk-test-ports");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A loopback port that is free now, outside the ephemeral range, and
/// reserved for this process against every other test process.
pub fn reserve_port() -> std::io::Result<u16> {
    let dir = lock_dir()?;
    for _ in 0..500 {
        let port = RANGE.start + (rand_u16() % (RANGE.end - RANGE.start));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(port.to_string()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => continue,
            Err(TryLockError::Error(e)) => return Err(e),
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            HELD.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(file);
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
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn reserved_ports_are_outside_the_ephemeral_range_and_free() {
        for _ in 0..20 {
            let p = super::reserve_port().unwrap_or(0);
            assert!((20_000..32_000).contains(&p));
            assert!(std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
        }
    }

    /// A port another process holds is never handed out: the lock of a
    /// reservation refuses a second holder while the first lives.
    #[test]
    fn a_reserved_port_is_locked_against_a_second_reservation() {
        let p = super::reserve_port().unwrap();
        let path = super::lock_dir().unwrap().join(p.to_string());
        let other = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
    }
}
