//! The process's memory: allocator settings made before any thread starts, and freed memory
//! given back while the server runs.

/// glibc gives each thread that allocates its own malloc arena (up to eight per core), each
/// keeping freed memory for itself: about 10 MB of an idle server's 37 MB resident. Two arenas
/// serve two actix workers and the blocking pool without contention worth measuring (see
/// README, performance).
///
/// glibc also raises its mmap threshold each time a large block mapped on its own is freed
/// (up to 32 MB), after which such blocks come from the arenas and their freed pages stay
/// resident: an import's batches took the server from 50 to 70 MB that way. Fixing the
/// threshold (and the trim threshold with it) at 128 KiB keeps large blocks mapped, and given
/// back, as they are freed: the same import stays at 30 MB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn limit_malloc_arenas() {
    const ARENAS: libc::c_int = 2;
    const LARGE_BLOCK: libc::c_int = 128 * 1024;
    // SAFETY: mallopt only changes allocator tuning; it is called first thing in main, before
    // any other thread exists, and its failure (a zero return) leaves the default in place.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BLOCK);
        libc::mallopt(libc::M_TRIM_THRESHOLD, LARGE_BLOCK);
    }
}

/// Other platforms' allocators have no such setting.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_malloc_arenas() {}

/// How often freed memory goes back to the system.
const RETURN_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs inside `serve`: gives the memory glibc holds freed back to the system, shortly after
/// start and then every minute. Start-up (the OpenAPI document, the route table, each worker's
/// app) frees most of what it allocates, but glibc keeps it: about 16 of an idle server's 40 MB
/// resident (measured with `malloc_trim` called from gdb: 40.3 MB before, 23.9 MB after).
/// A burst (an import, a report) leaves the same behind. A trim walks only the free lists.
pub async fn return_freed_memory() {
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut ticks = actix_web::rt::time::interval(RETURN_EVERY);
    loop {
        ticks.tick().await;
        trim();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim() {
    // SAFETY: malloc_trim only releases free memory; it takes the allocator's own locks and
    // touches no memory in use. Its answer (whether anything was released) does not matter.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
