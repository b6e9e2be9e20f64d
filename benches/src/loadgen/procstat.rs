//! CPU time and resident memory of processes, from `/proc`.

pub use crate::host::{clk_tck, cpu_seconds};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// `VmRSS` in KiB from the text of `/proc/<pid>/status`.
pub fn status_rss_kb(status: &str) -> Option<u64> {
    status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.split_whitespace().next()?.parse().ok()
}

/// Resident memory of `pid` in KiB.
pub fn rss_kb(pid: &str) -> Option<u64> {
    status_rss_kb(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// The processes of the server under test (nginx: its worker).
#[derive(Debug, Clone)]
pub struct Pids {
    pub pids: Vec<u32>,
    pub clk_tck: f64,
}

impl Pids {
    /// CPU seconds summed over the pids (a pid that is gone counts 0).
    pub fn cpu(&self) -> f64 {
        self.pids.iter().filter_map(|p| cpu_seconds(&p.to_string(), self.clk_tck)).sum()
    }

    /// CPU seconds of each pid, in order (several nodes of one cluster).
    pub fn cpu_each(&self) -> Vec<f64> {
        self.pids.iter().map(|p| cpu_seconds(&p.to_string(), self.clk_tck).unwrap_or(0.0)).collect()
    }

    /// Resident KiB summed over the pids.
    pub fn rss_kb(&self) -> u64 {
        self.pids.iter().filter_map(|p| rss_kb(&p.to_string())).sum()
    }
}

/// A thread that reads the resident memory of the server's pids every
/// `every` until it is stopped, and keeps the highest sum. A thread of its
/// own, so that a busy generator does not delay the samples.
pub struct RssPeak {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(u64, u64)>,
}

impl RssPeak {
    pub fn start(pids: &Pids, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, pids) = (stop.clone(), pids.clone());
        let thread = std::thread::spawn(move || {
            let (mut peak, mut samples) = (0u64, 0u64);
            loop {
                peak = peak.max(pids.rss_kb());
                samples += 1;
                if flag.load(Ordering::Relaxed) {
                    return (peak, samples);
                }
                std::thread::sleep(every);
            }
        });
        Self { stop, thread }
    }

    /// Stops the thread (after one last sample): the peak in KiB and the
    /// number of samples.
    pub fn finish(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or((0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::stat_ticks;

    #[test]
    fn parses_stat_with_odd_names() {
        let stat = "4242 (nginx: worker (x)) S 1 4242 4242 0 -1 4194624 100 0 0 0 250 75 0 0 20 0 1 0 100 1000 50";
        assert_eq!(stat_ticks(stat), Some(325));
        assert_eq!(stat_ticks("garbage"), None);
    }

    #[test]
    fn parses_status() {
        let status = "Name:\twenzheng\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(status_rss_kb(status), Some(12345));
        assert_eq!(status_rss_kb("Name:\tx\n"), None);
    }

    #[test]
    fn reads_this_process() {
        assert!(cpu_seconds("self", clk_tck()).is_some());
        assert!(rss_kb("self").unwrap() > 0);
    }

    #[test]
    fn peak_of_this_process() {
        let me = Pids { pids: vec![std::process::id()], clk_tck: 100.0 };
        // Stopped at once: it still takes its one sample.
        let (peak, samples) = RssPeak::start(&me, Duration::from_millis(10)).finish();
        assert!(peak > 0 && samples >= 1, "{peak} {samples}");
    }
}
