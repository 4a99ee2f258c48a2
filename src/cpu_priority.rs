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

/// Runs `work` on the parse pool and waits for it without holding a runtime thread (a
/// `spawn_blocking` thread would only sit waiting for the pool: one more thread to wake per
/// step). A panic in `work` comes back as an error instead of aborting the pool.
pub async fn on_parse_pool<R, F>(work: F) -> anyhow::Result<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (done, result) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        let _ = done.send(outcome);
    });
    match result.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_panic)) => anyhow::bail!("a task of the parse pool panicked"),
        Err(_) => anyhow::bail!("the parse pool dropped a task"),
    }
}

#[cfg(test)]
mod tests {
    use rayon::prelude::*;

    use super::*;

    #[tokio::test]
    async fn parse_pool_work_comes_back_and_a_panic_is_an_error() {
        let sum = on_parse_pool(|| (1..=100u64).into_par_iter().sum::<u64>())
            .await
            .unwrap();
        assert_eq!(sum, 5050);
        let failed = on_parse_pool(|| -> u64 { panic!("bad input") }).await;
        assert!(failed.is_err());
    }
}
