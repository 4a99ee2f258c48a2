//! `notify.max_automatic_per_hour`: the per-recipient cap on automatic mail, as the loop guard
//! (`outbox::loop_guard`) applies it.

/// The per-recipient cap on automatic mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateCap {
    pub max: u32,
    pub window_secs: i64,
}

impl Default for RateCap {
    /// 10 automatic mails per recipient per hour (SPEC 5).
    fn default() -> Self {
        Self {
            max: 10,
            window_secs: 3600,
        }
    }
}
