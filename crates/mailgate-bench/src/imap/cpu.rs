//! CPU use of a phase, from `/proc` (Linux; `None` elsewhere): how many cores this process
//! kept busy, and how many the whole machine did (Dovecot, Postfix, anything else running).
//! On a small machine the second figure tells a saturated run from a noisy one.

use serde::Serialize;

/// Cores used during a phase, averaged over its wall time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CpuUse {
    /// This process (mailgate: poller, parsing, SQLite).
    pub process_cores: f64,
    /// Every process of the machine (mailgate, the mail server, other work).
    pub machine_cores: f64,
    pub cores: usize,
}

/// Counters at one moment, in clock ticks.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    process: u64,
    busy: u64,
    total: u64,
    cores: usize,
}

impl CpuSample {
    pub fn now() -> Option<CpuSample> {
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        let all = std::fs::read_to_string("/proc/stat").ok()?;
        let process = process_ticks(&own)?;
        let (busy, total, cores) = machine_ticks(&all)?;
        Some(CpuSample {
            process,
            busy,
            total,
            cores,
        })
    }

    /// Use between this sample and a later one.
    pub fn until(&self, later: &CpuSample) -> Option<CpuUse> {
        let total = later.total.checked_sub(self.total).filter(|t| *t > 0)? as f64;
        let cores = later.cores.max(1);
        let share = |ticks: u64| ticks as f64 / total * cores as f64;
        Some(CpuUse {
            process_cores: share(later.process.saturating_sub(self.process)),
            machine_cores: share(later.busy.saturating_sub(self.busy)),
            cores,
        })
    }
}

/// utime + stime of a `/proc/<pid>/stat` line (fields 14 and 15; the name in parentheses may
/// contain spaces, so fields are counted after the last `)`).
fn process_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Busy and total ticks of all CPUs (`cpu` line of `/proc/stat`) and the number of CPUs.
fn machine_ticks(stat: &str) -> Option<(u64, u64, usize)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8) // user nice system idle iowait irq softirq steal (guest is inside user)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = values.iter().sum();
    let idle = values.get(3)? + values.get(4).copied().unwrap_or(0);
    let cores = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    Some((total - idle, total, cores))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let own = "4242 (mail gate) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 8 0 100 0 0";
        assert_eq!(process_ticks(own), Some(200));
        let all = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n\
                   cpu1 50 0 25 400 25 0 0 0 0 0\nintr 1\n";
        assert_eq!(machine_ticks(all), Some((150, 1000, 2)));
        let before = CpuSample {
            process: 100,
            busy: 1000,
            total: 4000,
            cores: 2,
        };
        let after = CpuSample {
            process: 150,
            busy: 1150,
            total: 4200,
            cores: 2,
        };
        let used = before.until(&after).unwrap();
        assert_eq!(used.process_cores, 0.5);
        assert_eq!(used.machine_cores, 1.5);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn samples_this_machine() {
        let a = CpuSample::now().unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let b = CpuSample::now().unwrap();
        assert!(b.cores >= 1);
        assert!(b.total >= a.total && b.process >= a.process);
    }
}
