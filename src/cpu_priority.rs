//! Which threads yield the CPU to which. Every source feeds one serial chain (decide, then
//! write in one transaction on the database thread) and keeps a parallel pool busy parsing
//! ahead of it. On a machine with few cores the parsers would otherwise take CPU time from
//! that chain and slow the whole run down to its pace. Parsing threads therefore run at a
//! lower scheduling priority: they use every cycle the chain leaves, and never delay it.

/// The nice value of background CPU work (the parse pool, the archive reader).
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority (Linux: the nice value is per thread).
/// Failing to do so only costs speed, so errors are ignored.
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority with PRIO_PROCESS and who = 0 only changes the calling thread's
    // nice value; it touches no memory.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, BACKGROUND_NICE);
    }
}

/// Builds the global parse pool (rayon) with one low-priority thread per core. Call once,
/// before any parallel work; a second call is a no-op.
pub fn init_parse_pool() {
    let _ = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("mailgate-parse-{i}"))
        .start_handler(|_| lower_this_thread())
        .build_global();
}
