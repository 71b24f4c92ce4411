//! IP addresses and CIDR ranges (BLK-9).
use std::net::IpAddr;

/// A validated CIDR range (`203.0.113.0/24`, `2001:db8::/32`, or a single
/// address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Parses `addr` or `addr/prefix`; host bits must be zero so the stored
    /// range means what the operator typed.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| "not an IP address or CIDR range")?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().map_err(|_| "invalid prefix length")?,
            None => max,
        };
        if prefix > max {
            return Err("prefix length too long");
        }
        if prefix < if addr.is_ipv4() { 8 } else { 16 } {
            return Err("range too wide");
        }
        let host_bits_zero = match addr {
            IpAddr::V4(a) => u32::from(a).checked_shl(u32::from(prefix)).unwrap_or(0) == 0,
            IpAddr::V6(a) => u128::from(a).checked_shl(u32::from(prefix)).unwrap_or(0) == 0,
        };
        if !host_bits_zero {
            return Err("host bits must be zero");
        }
        Ok(Self { addr, prefix })
    }

    /// PostgreSQL `cidr` text.
    pub fn to_cidr(&self) -> String {
        format!("{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::IpRange;

    // spec: BLK-9
    #[test]
    fn ranges_are_validated() {
        assert_eq!(
            IpRange::parse("203.0.113.7").unwrap().to_cidr(),
            "203.0.113.7/32"
        );
        assert_eq!(
            IpRange::parse("203.0.113.0/24").unwrap().to_cidr(),
            "203.0.113.0/24"
        );
        assert!(IpRange::parse("203.0.113.7/24").is_err(), "host bits set");
        assert!(IpRange::parse("10.0.0.0/4").is_err(), "too wide");
        assert!(IpRange::parse("2001:db8::/32").is_ok());
        assert!(IpRange::parse("not-an-ip").is_err());
        assert!(IpRange::parse("1.2.3.4/33").is_err());
    }
}
