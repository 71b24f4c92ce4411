//! The machine a run measured: figures are only comparable between runs on
//! like machines, and a run on a machine busy with other work says little.
//! Read from `/proc` (Linux); a figure that cannot be read is `None`,
//! never a guess.
use serde::Serialize;

/// Where it ran.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Cores this process may use.
    pub cores: usize,
    /// `model name` of the first CPU in `/proc/cpuinfo`.
    pub cpu_model: Option<String>,
    /// `MemTotal` of `/proc/meminfo`, in MiB.
    pub memory_mib: Option<u64>,
    /// `MemAvailable` of `/proc/meminfo` at the start, in MiB.
    pub memory_available_mib: Option<u64>,
    pub os: &'static str,
    pub arch: &'static str,
    /// Kernel release (`uname -r`, from `/proc/sys/kernel/osrelease`).
    pub kernel: Option<String>,
    /// Load averages over 1, 5 and 15 minutes, before the run started.
    pub load_average: Option<[f64; 3]>,
    /// Whether other work was already competing for the CPU when the run
    /// started: the 1-minute load average was at least half the cores.
    pub busy: Option<bool>,
    pub postgres_version: Option<String>,
}

impl Machine {
    /// This machine, now.
    pub fn here(postgres_version: Option<String>) -> Self {
        let read = |p: &str| std::fs::read_to_string(p).ok();
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let meminfo = read("/proc/meminfo");
        let load_average = read("/proc/loadavg").as_deref().and_then(parse_loadavg);
        Self {
            cores,
            cpu_model: read("/proc/cpuinfo").as_deref().and_then(parse_cpu_model),
            memory_mib: meminfo.as_deref().and_then(|m| meminfo_mib(m, "MemTotal")),
            memory_available_mib: meminfo
                .as_deref()
                .and_then(|m| meminfo_mib(m, "MemAvailable")),
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            kernel: read("/proc/sys/kernel/osrelease")
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty()),
            load_average,
            busy: load_average.map(|l| is_busy(l[0], cores)),
            postgres_version,
        }
    }

    /// One line for the table's header.
    pub fn summary(&self) -> String {
        let or_unknown = |v: Option<String>| v.unwrap_or_else(|| "?".to_owned());
        format!(
            "{} cores of {}, {} MiB, kernel {}, load {}{}",
            self.cores,
            or_unknown(self.cpu_model.clone()),
            or_unknown(self.memory_mib.map(|m| m.to_string())),
            or_unknown(self.kernel.clone()),
            or_unknown(
                self.load_average
                    .map(|l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]))
            ),
            match self.busy {
                Some(true) => " (BUSY: other work was running, figures understate)",
                Some(false) => " (idle)",
                None => "",
            }
        )
    }
}

/// The first `model name` of `/proc/cpuinfo` (on ARM, where it may be
/// missing, `Hardware` or `CPU part`).
fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    ["model name", "Hardware", "CPU part"]
        .iter()
        .find_map(|key| {
            cpuinfo.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_owned())
            })
        })
}

/// `key` of `/proc/meminfo` (given in kB) in MiB.
fn meminfo_mib(meminfo: &str, key: &str) -> Option<u64> {
    meminfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        if k.trim() != key {
            return None;
        }
        let kb: u64 = v.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb / 1024)
    })
}

/// The three load averages of `/proc/loadavg`.
fn parse_loadavg(loadavg: &str) -> Option<[f64; 3]> {
    let mut f = loadavg.split_whitespace().map(str::parse::<f64>);
    Some([f.next()?.ok()?, f.next()?.ok()?, f.next()?.ok()?])
}

fn is_busy(load1: f64, cores: usize) -> bool {
    load1 >= cores as f64 / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_memory_and_load_are_parsed() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(
            parse_cpu_model(cpuinfo).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        assert_eq!(
            parse_cpu_model("processor : 0\nHardware : BCM2835\n").as_deref(),
            Some("BCM2835")
        );
        assert_eq!(parse_cpu_model("processor : 0\n"), None);
        let meminfo = "MemTotal:       16314516 kB\nMemFree:         1234567 kB\nMemAvailable:    8157258 kB\n";
        assert_eq!(meminfo_mib(meminfo, "MemTotal"), Some(15932));
        assert_eq!(meminfo_mib(meminfo, "MemAvailable"), Some(7966));
        assert_eq!(meminfo_mib(meminfo, "SwapTotal"), None);
        assert_eq!(
            parse_loadavg("1.50 0.75 0.25 3/812 12345\n"),
            Some([1.5, 0.75, 0.25])
        );
        assert_eq!(parse_loadavg("garbage"), None);
        assert!(is_busy(1.0, 2));
        assert!(!is_busy(0.4, 2));
    }

    #[test]
    fn the_summary_names_the_machine_and_says_when_it_was_busy() {
        let m = Machine {
            cores: 2,
            cpu_model: Some("Test CPU".into()),
            memory_mib: Some(4096),
            memory_available_mib: Some(2048),
            os: "linux",
            arch: "x86_64",
            kernel: Some("6.1.0-test".into()),
            load_average: Some([1.5, 1.0, 0.5]),
            busy: Some(true),
            postgres_version: None,
        };
        let s = m.summary();
        for part in [
            "2 cores",
            "Test CPU",
            "4096 MiB",
            "6.1.0-test",
            "1.50",
            "BUSY",
        ] {
            assert!(s.contains(part), "{part} missing from {s}");
        }
    }
}
