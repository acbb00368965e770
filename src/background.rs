//! Background threads: work that can wait (indexing, checkpoints) runs at a lower scheduling
//! priority, so that on a small machine it takes the CPU that calls leave idle instead of
//! delaying calls. On a 2-core machine a checkpoint or an index batch scheduled in front of the
//! writer showed up directly as request latency.

/// Lowers the calling thread's priority (nice 10). Linux schedules threads individually, so
/// this touches no other thread; elsewhere it does nothing.
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; `who` 0 is the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

/// Wakes a background thread before its pause ends (a lookup that needs the index current).
#[derive(Default)]
pub struct Nudge {
    pending: std::sync::Mutex<bool>,
    ready: std::sync::Condvar,
}

impl Nudge {
    pub fn nudge(&self) {
        *self.pending.lock().expect("nudge") = true;
        self.ready.notify_one();
    }

    /// Waits until nudged or until `pause` passes.
    pub fn wait(&self, pause: std::time::Duration) {
        let pending = self.pending.lock().expect("nudge");
        let (mut pending, _) = self
            .ready
            .wait_timeout_while(pending, pause, |p| !*p)
            .expect("nudge");
        *pending = false;
    }
}
