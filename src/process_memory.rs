//! Process-wide memory settings, made once at the start of a binary, before any other thread
//! exists: `mailgate` and `mailgate-bench` (whose figures must be the product's) call [`tune`].

/// Sets up the process's memory behaviour: one C heap arena, no transparent huge pages.
pub fn tune() {
    limit_c_heap_arenas();
    no_transparent_huge_pages();
}

/// SQLite allocates through the C library's malloc, which gives every thread that allocates
/// its own arena; with a database thread per connection, their unreturned free space took a
/// 1 GB import past its 150 MB memory budget. One arena is enough for SQLite's use.
fn limit_c_heap_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// mimalloc asks for transparent huge pages: every fresh 2 MB region is then zeroed whole on
/// first touch, and again after memory is handed back. Importing a 1 GB mbox peaked at
/// 140 MB with them and 112 MB without, at the same speed.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process; it touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
