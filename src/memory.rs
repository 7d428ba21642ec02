//! Memory settings of the process, made before any thread starts.

/// glibc gives each thread that allocates its own malloc arena (up to eight per core), each
/// keeping freed memory for itself: about 10 MB of an idle server's 37 MB resident. Two arenas
/// serve two actix workers and the blocking pool without contention worth measuring (see
/// README, performance).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn limit_malloc_arenas() {
    const ARENAS: libc::c_int = 2;
    // SAFETY: mallopt only changes allocator tuning; it is called first thing in main, before
    // any other thread exists, and its failure (a zero return) leaves the default in place.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}

/// Other platforms' allocators have no such setting.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_malloc_arenas() {}
