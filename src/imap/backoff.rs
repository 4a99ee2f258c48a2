//! Reconnect delays: exponential with full jitter between half and all of the step, capped, so
//! pollers of many mailboxes that lost the same server do not hammer it in lockstep when it
//! returns. Pure; the caller supplies the random fraction.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max: max.max(base),
            failures: 0,
        }
    }

    /// The default for IMAP servers: 1 s, 2 s, 4 s … up to 5 minutes.
    pub fn for_servers() -> Backoff {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(300))
    }

    /// Records a failure and returns how long to wait before the next attempt.
    /// `random` in `[0, 1)` picks the point between half and all of the exponential step.
    pub fn next_delay(&mut self, random: f64) -> Duration {
        let exp = self.failures.min(30);
        self.failures = self.failures.saturating_add(1);
        let step = self
            .base
            .checked_mul(1u32 << exp.min(20))
            .unwrap_or(self.max)
            .min(self.max);
        let fraction = 0.5 + 0.5 * random.clamp(0.0, 1.0);
        step.mul_f64(fraction)
    }

    /// A working session: the next failure starts from the base delay again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        assert_eq!(b.next_delay(0.999_999).as_millis(), 999);
        assert_eq!(b.next_delay(0.0), Duration::from_secs(1));
        assert_eq!(b.next_delay(0.0), Duration::from_secs(2));
        assert_eq!(b.next_delay(1.0), Duration::from_secs(8));
        assert_eq!(b.next_delay(1.0), Duration::from_secs(10), "capped");
        for _ in 0..100 {
            assert!(b.next_delay(1.0) <= Duration::from_secs(10));
        }
        assert_eq!(b.failures(), 105);
        b.reset();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(500));
    }

    #[test]
    fn out_of_range_randomness_is_clamped() {
        let mut b = Backoff::new(Duration::from_secs(4), Duration::from_secs(4));
        assert_eq!(b.next_delay(-3.0), Duration::from_secs(2));
        assert_eq!(b.next_delay(7.0), Duration::from_secs(4));
    }
}
