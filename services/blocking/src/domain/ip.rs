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

    /// A range as PostgreSQL prints a stored `cidr` (`10.0.0.0/16`). No
    /// width rule here: what is stored applies, whatever it is.
    pub fn from_stored(raw: &str) -> Option<Self> {
        let (addr, prefix) = raw.split_once('/')?;
        let addr: IpAddr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Self { addr, prefix })
    }

    /// PostgreSQL `cidr` text.
    pub fn to_cidr(&self) -> String {
        format!("{}/{}", self.addr, self.prefix)
    }

    /// Whether `ip` is inside the range, as PostgreSQL's `cidr >>= inet`:
    /// an address of the other family is never inside (`::ffff:10.0.0.1`
    /// is an IPv6 address, not in `10.0.0.0/8`).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
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

    // spec: BLK-9
    #[test]
    fn containment_is_postgresql_s() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let net = IpRange::parse("10.7.0.0/16").unwrap();
        assert!(net.contains(ip("10.7.0.0")));
        assert!(net.contains(ip("10.7.255.255")));
        assert!(!net.contains(ip("10.8.0.0")));
        assert!(!net.contains(ip("::ffff:10.7.0.1")), "the other family");
        let one = IpRange::parse("203.0.113.7").unwrap();
        assert!(one.contains(ip("203.0.113.7")));
        assert!(!one.contains(ip("203.0.113.8")));
        let v6 = IpRange::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.7.0.1")));
        let wide = IpRange::from_stored("0.0.0.0/0").unwrap();
        assert!(wide.contains(ip("192.0.2.1")) && !wide.contains(ip("::1")));
        assert!(IpRange::from_stored("10.0.0.0").is_none());
        assert!(IpRange::from_stored("10.0.0.0/33").is_none());
        let host6 = IpRange::parse("2001:db8::1/128").unwrap();
        assert!(host6.contains(ip("2001:db8::1")));
        assert!(!host6.contains(ip("2001:db8::2")));
    }
}
