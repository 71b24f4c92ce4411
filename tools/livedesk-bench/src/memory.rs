//! The memory of the services, when they run as processes of their own
//! (`--spawn --processes`): resident set size and its peak, from
//! `/proc/<pid>/status`. The peak can be reset (`/proc/<pid>/clear_refs`),
//! so a scenario measures the peak of its own work, not of the start.
use serde::Serialize;

/// One process' memory, in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rss {
    /// Resident now (`VmRSS`).
    pub rss_mib: f64,
    /// The most it was resident since start or the last reset (`VmHWM`).
    pub peak_mib: f64,
}

/// Reads `VmRSS` and `VmHWM` (kB) out of a `/proc/<pid>/status` text.
pub fn parse_status(status: &str) -> Option<Rss> {
    let kib = |key: &str| -> Option<f64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
    };
    Some(Rss {
        rss_mib: kib("VmRSS:")? / 1024.0,
        peak_mib: kib("VmHWM:")? / 1024.0,
    })
}

/// The memory of process `pid` now (`None` when it is gone or unreadable).
pub fn of(pid: u32) -> Option<Rss> {
    parse_status(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// Resets the peak (`VmHWM`) of process `pid` to what is resident now.
pub fn reset_peak(pid: u32) -> std::io::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
}

/// The memory of every replica of every service, by service; `None` when
/// the services are not processes this one started.
pub fn of_services(
    target: &crate::target::Target,
) -> Option<std::collections::BTreeMap<String, Vec<Rss>>> {
    let all: std::collections::BTreeMap<String, Vec<Rss>> = livedesk_testkit::processes::SERVICES
        .iter()
        .map(|s| {
            (
                (*s).to_owned(),
                target.pids(s).into_iter().filter_map(of).collect(),
            )
        })
        .filter(|(_, v): &(String, Vec<Rss>)| !v.is_empty())
        .collect();
    (!all.is_empty()).then_some(all)
}

/// Resets the peak of every replica of `service`.
pub fn reset_peaks(target: &crate::target::Target, service: &str) {
    for pid in target.pids(service) {
        if let Err(e) = reset_peak(pid) {
            eprintln!("could not reset the peak memory of {service} ({pid}): {e}");
        }
    }
}

/// The highest peak among `service`'s replicas, in MiB.
pub fn peak_of(target: &crate::target::Target, service: &str) -> Option<f64> {
    target
        .pids(service)
        .into_iter()
        .filter_map(of)
        .map(|r| r.peak_mib)
        .reduce(f64::max)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn resident_and_peak_are_read_in_mib() {
        let status = "Name:\tlivedesk-reporting\nVmPeak:\t  900000 kB\nVmHWM:\t   65536 kB\nVmRSS:\t   32768 kB\n";
        assert_eq!(
            parse_status(status),
            Some(Rss {
                rss_mib: 32.0,
                peak_mib: 64.0
            })
        );
        assert_eq!(parse_status("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_is_measured_and_its_peak_reset() {
        let me = std::process::id();
        let rss = of(me).expect("our own status");
        assert!(rss.rss_mib > 0.0 && rss.peak_mib >= rss.rss_mib);
        reset_peak(me).expect("clear_refs");
        let after = of(me).expect("our own status");
        assert!(after.peak_mib <= rss.peak_mib.max(after.rss_mib));
    }
}
